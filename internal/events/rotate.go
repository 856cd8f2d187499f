package events

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// rotatedPath returns the name of the n-th file rotated out of the log at path: path + ".n".
func rotatedPath(path string, n int) string { return path + "." + strconv.Itoa(n) }

// newPath is where rotation prepares the next file before it takes the log's name.
func newPath(path string) string { return path + ".new" }

// parseRotated returns n when name is the name of the n-th rotated file of a log named base:
// base + "." + n, with n a decimal number from 1 without leading zeros.
func parseRotated(base, name string) (int, bool) {
	s, ok := strings.CutPrefix(name, base+".")
	if !ok || s == "" || s[0] == '0' || len(s) > 9 {
		return 0, false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// listRotated returns the numbers of the files rotated out of the log at path, oldest first.
func listRotated(path string) ([]int, error) {
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("list rotated activity logs: %w", err)
	}
	base := filepath.Base(path)
	var ns []int
	for _, e := range entries {
		if n, ok := parseRotated(base, e.Name()); ok && e.Type().IsRegular() {
			ns = append(ns, n)
		}
	}
	slices.Sort(ns)
	return ns, nil
}

// undoRotation removes what a rotation interrupted by a crash left: the prepared next file, and
// a rotated name still linked to the log itself. Only the appender calls it, holding the lock.
func undoRotation(path string, f *os.File, rotated []int) ([]int, error) {
	if err := os.Remove(newPath(path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if len(rotated) == 0 {
		return rotated, nil
	}
	last := rotatedPath(path, rotated[len(rotated)-1])
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if li, err := os.Stat(last); err == nil && os.SameFile(fi, li) {
		if err := os.Remove(last); err != nil {
			return nil, err
		}
		rotated = rotated[:len(rotated)-1]
	}
	return rotated, nil
}

// rotateLocked starts a new file: the log's file keeps its content under the next rotated
// name, and a new file, whose first record continues the chain, takes the log's name. The log's
// name always names a file: the old one is linked to its rotated name first, then the new one
// is renamed over it. A reader that opened the old file reads it whole; one that opens the log
// afterwards finds the new file and the rotated one. On failure the log goes on in the old file.
func (l *Log) rotateLocked() error {
	n := 1
	if len(l.rotated) > 0 {
		n = l.rotated[len(l.rotated)-1] + 1
	}
	name, tmp := rotatedPath(l.path, n), newPath(l.path)
	os.Remove(tmp) // a leftover of a failed rotation
	nf, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("create the next file: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			nf.Close()
			os.Remove(tmp)
		}
	}()
	if err := lockFile(nf); err != nil {
		return fmt.Errorf("lock the next file: %w", err)
	}
	r := Record{Kind: KindLogContinued, Time: l.now().UTC(), Path: filepath.Base(name), Seq: l.seq + 1, Prev: l.prev}
	line, err := l.encodeLocked(r)
	if err != nil {
		return err
	}
	if _, err := nf.Write(line); err != nil {
		return fmt.Errorf("write the next file: %w", err)
	}
	// The old file is complete and the new one holds its first line before any name changes.
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("sync activity log: %w", err)
	}
	if err := nf.Sync(); err != nil {
		return fmt.Errorf("sync the next file: %w", err)
	}
	if err := os.Link(l.path, name); errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("rotate to %s: %w", name, err)
	} else if err != nil {
		// Without hard links (some file systems), a rename leaves a moment with no log file:
		// a reader then finds none and says so.
		if err := os.Rename(l.path, name); err != nil {
			return fmt.Errorf("rename the full file: %w", err)
		}
	}
	if err := os.Rename(tmp, l.path); err != nil {
		if _, serr := os.Stat(l.path); serr == nil {
			os.Remove(name)
		} else {
			os.Rename(name, l.path)
		}
		return fmt.Errorf("start the next file: %w", err)
	}
	ok = true
	syncDir(filepath.Dir(l.path))
	old := l.f
	l.f, l.size = nf, int64(len(line))
	l.seq, l.prev = r.Seq, hashLine(line[:len(line)-1])
	l.rotated = append(l.rotated, n)
	old.Close()
	if err := l.writeHeadLocked(); err != nil {
		return fmt.Errorf("write head: %w", err)
	}
	return l.pruneLocked()
}

// pruneLocked removes the oldest rotated files beyond the number kept.
func (l *Log) pruneLocked() error {
	if l.keep < 0 {
		return nil
	}
	var errs []error
	for len(l.rotated) > l.keep {
		if err := os.Remove(rotatedPath(l.path, l.rotated[0])); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove the oldest rotated file: %w", err))
			break
		}
		l.rotated = l.rotated[1:]
	}
	return errors.Join(errs...)
}

// syncDir makes the renames in dir durable, where the system allows it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
