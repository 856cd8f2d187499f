//go:build !linux

package x11

import (
	"errors"

	"github.com/jezek/xgb"
)

// attachSHM is Linux-only: elsewhere Capture uses GetImage.
func attachSHM(*xgb.Conn, int) (*shmSegment, error) {
	return nil, errors.New("MIT-SHM capture is implemented for Linux only")
}

func detachMemory([]byte) {}
