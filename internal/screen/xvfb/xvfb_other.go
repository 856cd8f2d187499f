//go:build unix && !linux

package xvfb

import "syscall"

func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
