package ports

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// owner is a process holding a socket open.
type owner struct {
	pid  int
	name string // PROC/PID/comm: at most 15 bytes, chosen by the process
	uid  int    // effective uid from PROC/PID/status; -1 when the process went away
}

// findOwners maps each wanted socket inode to the processes holding it, by reading the
// "socket:[inode]" links under PROC/PID/fd. denied reports whether some process's fd directory
// could not be read: without privilege, other users' processes stay hidden. Processes that exit
// during the walk are skipped.
func findOwners(proc string, inodes map[uint64]bool) (owners map[uint64][]owner, denied bool, err error) {
	owners = make(map[uint64][]owner)
	if len(inodes) == 0 {
		return owners, false, nil
	}
	dirs, err := os.ReadDir(proc)
	if err != nil {
		return nil, false, err
	}
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || pid <= 0 {
			continue // not a process: net, self, sys…
		}
		fdDir := filepath.Join(proc, d.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if errors.Is(err, fs.ErrPermission) {
			denied = true
			continue
		}
		if err != nil {
			continue // exited, or a kernel thread's fd directory
		}
		var held []uint64
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err != nil {
				continue
			}
			inode, ok := socketInode(link)
			if ok && inodes[inode] && !slices.Contains(held, inode) {
				held = append(held, inode)
			}
		}
		if len(held) == 0 {
			continue
		}
		o := readOwner(filepath.Join(proc, d.Name()), pid)
		for _, inode := range held {
			owners[inode] = append(owners[inode], o)
		}
	}
	return owners, denied, nil
}

// socketInode parses an fd link target of the form "socket:[12345]".
func socketInode(link string) (uint64, bool) {
	rest, ok := strings.CutPrefix(link, "socket:[")
	if !ok {
		return 0, false
	}
	num, ok := strings.CutSuffix(rest, "]")
	if !ok {
		return 0, false
	}
	inode, err := strconv.ParseUint(num, 10, 64)
	return inode, err == nil
}

// readOwner reads a process's name and effective uid; what it cannot read stays empty (-1 for the uid).
func readOwner(dir string, pid int) owner {
	o := owner{pid: pid, uid: -1}
	if comm, err := os.ReadFile(filepath.Join(dir, "comm")); err == nil {
		o.name = strings.TrimSuffix(string(comm), "\n")
	}
	if status, err := os.ReadFile(filepath.Join(dir, "status")); err == nil {
		o.uid = statusUID(string(status))
	}
	return o
}

// statusUID returns the effective uid from a /proc/PID/status text, whose line reads
// "Uid:\treal\teffective\tsaved\tfilesystem"; -1 when there is none. Effective is what ps shows
// as USER, and what a socket is owned by.
func statusUID(status string) int {
	for line := range strings.Lines(status) {
		rest, ok := strings.CutPrefix(line, "Uid:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 2 {
			return -1
		}
		uid, err := strconv.ParseUint(f[1], 10, 32)
		if err != nil {
			return -1
		}
		return int(uid)
	}
	return -1
}
