package x11

import (
	"fmt"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/shm"
	"golang.org/x/sys/unix"
)

// attachSHM creates a private SysV segment of size bytes and attaches it here and in the X
// server. xgb cannot pass file descriptors, so the fd-based MIT-SHM 1.2 calls are out.
func attachSHM(xc *xgb.Conn, size int) (*shmSegment, error) {
	id, err := unix.SysvShmGet(unix.IPC_PRIVATE, size, unix.IPC_CREAT|0o600)
	if err != nil {
		return nil, fmt.Errorf("create shared memory segment: %w", err)
	}
	// Marked for removal as soon as both sides are attached (or failed to), so the
	// kernel frees it when the last one detaches, even after a crash.
	defer unix.SysvShmCtl(id, unix.IPC_RMID, nil)
	data, err := unix.SysvShmAttach(id, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("attach shared memory segment: %w", err)
	}
	seg, err := shm.NewSegId(xc)
	if err == nil {
		err = shm.AttachChecked(xc, seg, uint32(id), false).Check()
	}
	if err != nil {
		unix.SysvShmDetach(data)
		return nil, fmt.Errorf("attach shared memory segment in the x server: %w", err)
	}
	return &shmSegment{seg: seg, data: data}, nil
}

// detachMemory unmaps a segment from this process.
func detachMemory(data []byte) { unix.SysvShmDetach(data) }
