package auth

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// fileID tells one version of the accounts file from another: an atomic replace changes the
// inode, an edit in place changes size or times.
type fileID struct {
	dev, ino     uint64
	size         int64
	mtime, ctime int64 // ns
}

func idOf(fi os.FileInfo) fileID {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	}
	return fileID{
		dev: st.Dev, ino: st.Ino, size: st.Size,
		mtime: st.Mtim.Nano(), ctime: st.Ctim.Nano(),
	}
}

// lockFile takes an exclusive flock on path (created 0600 if needed), so that one process at a
// time reads, changes and writes the accounts file. Call the returned function to release it.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil // closing the descriptor releases the lock
}
