package xvfb

import "syscall"

// childAttr makes a child get SIGTERM when the host dies without stopping it.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
