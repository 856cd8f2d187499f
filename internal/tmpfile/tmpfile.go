// Package tmpfile makes files that have no name until they are complete: Linux's O_TMPFILE.
// Such a file is invisible while it is written, vanishes if the process dies, and gets its
// name in one link, which never replaces a file that is there. Creating a named partial file
// and renaming it costs the folder two changes; this costs one, which on a disk where every
// folder change is slow is most of the time a small file takes.
package tmpfile

import (
	"errors"
	"io/fs"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// ErrUnsupported says the file system (or the kernel) cannot make unnamed files: use a named
// partial file instead.
var ErrUnsupported = errors.New("unnamed files are not supported here")

// Create makes an unnamed file, open for reading and writing, with the permissions perm (less
// the umask), on the file system of the folder dir.
func Create(dir string, perm os.FileMode) (*os.File, error) {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, uint32(perm.Perm()))
	return wrap(fd, dir, err)
}

// CreateAt is Create in a folder that is open already.
func CreateAt(dir *os.File, perm os.FileMode) (*os.File, error) {
	fd, err := unix.Openat(int(dir.Fd()), ".", unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, uint32(perm.Perm()))
	return wrap(fd, dir.Name(), err)
}

func wrap(fd int, dir string, err error) (*os.File, error) {
	switch {
	case err == nil:
		return os.NewFile(uintptr(fd), dir+"/(unnamed)"), nil
	case errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.EISDIR), errors.Is(err, unix.EINVAL):
		// EISDIR: a kernel older than O_TMPFILE takes it for O_DIRECTORY.
		return nil, ErrUnsupported
	}
	return nil, &fs.PathError{Op: "create unnamed file in", Path: dir, Err: err}
}

// Link gives the unnamed file f the name name, in the open folder dir or, when dir is nil,
// relative to the working folder. It fails with an error that matches fs.ErrExist when the
// name is taken: nothing is ever replaced.
func Link(f *os.File, dir *os.File, name string) error {
	at := unix.AT_FDCWD
	if dir != nil {
		at = int(dir.Fd())
	}
	// Through /proc, which needs no privilege; AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH on
	// kernels before 6.10, but works where /proc is not mounted.
	err := unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(int(f.Fd())), at, name, unix.AT_SYMLINK_FOLLOW)
	if errors.Is(err, unix.ENOENT) {
		if _, serr := os.Stat("/proc/self/fd"); serr != nil {
			err = unix.Linkat(int(f.Fd()), "", at, name, unix.AT_EMPTY_PATH)
		}
	}
	if err != nil {
		return &os.LinkError{Op: "link", Old: f.Name(), New: name, Err: err}
	}
	return nil
}

// Works says whether unnamed files can be made in the open folder dir and given a name there:
// it makes one, links it under a probe name and removes that. A caller that gets false uses
// named partial files.
func Works(dir *os.File) bool {
	f, err := CreateAt(dir, 0o600)
	if err != nil {
		return false
	}
	defer f.Close()
	name := ".buktu-probe-" + strconv.Itoa(os.Getpid())
	if err := Link(f, dir, name); err != nil {
		return false
	}
	unix.Unlinkat(int(dir.Fd()), name, 0)
	return true
}
