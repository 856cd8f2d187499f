package events

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// file is one open file of a log, for reading.
type file struct {
	name string // the base name, as messages show it
	f    *os.File
}

// files is the files of a log, oldest first: the rotated files, then the log's own.
type files []file

// openFiles opens the files of the log at path for reading, oldest first. It opens the log's
// own file first, so that a rotation running meanwhile cannot hide records: if the file it
// opened is rotated away, it appears again under its rotated name, and is read once. A rotated
// file removed meanwhile (only the oldest are) is left out. The error wraps fs.ErrNotExist when
// path does not exist.
func openFiles(path string) (files, error) {
	cur, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	curInfo, err := cur.Stat()
	if err != nil {
		cur.Close()
		return nil, err
	}
	ns, err := listRotated(path)
	if err != nil {
		cur.Close()
		return nil, err
	}
	var list files
	for _, n := range ns {
		name := rotatedPath(path, n)
		f, err := os.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			list.close()
			cur.Close()
			return nil, err
		}
		if fi, err := f.Stat(); err == nil && os.SameFile(fi, curInfo) {
			cur.Close()
			// What we opened as the log is now this rotated file: it ends the list.
			return append(list, file{filepath.Base(name), f}), nil
		}
		list = append(list, file{filepath.Base(name), f})
	}
	return append(list, file{filepath.Base(path), cur}), nil
}

func (all files) close() {
	for _, f := range all {
		f.f.Close()
	}
}

// ReadFiles streams the records of the log at path that pass f to fn, across its rotated files,
// oldest first, as Read does for one file. A file it cannot parse lines of does not stop it:
// it returns an error wrapping ErrDamaged after the last record.
func ReadFiles(path string, f Filter, fn func(Record) error) error {
	all, err := openFiles(path)
	if err != nil {
		return fmt.Errorf("read activity log: %w", err)
	}
	defer all.close()
	var damaged []error
	for _, lf := range all {
		err := Read(lf.f, f, fn)
		switch {
		case errors.Is(err, ErrDamaged):
			damaged = append(damaged, fmt.Errorf("%s: %w", lf.name, err))
		case err != nil:
			return err
		}
	}
	return errors.Join(damaged...)
}

// Tail returns the newest n records of the log at path that pass f, oldest first, reading the
// files from the newest back only as far as it needs. Damaged lines are skipped, and reported
// with the records as by ReadFiles.
func Tail(path string, f Filter, n int) ([]Record, error) {
	all, err := openFiles(path)
	if err != nil {
		return nil, fmt.Errorf("read activity log: %w", err)
	}
	defer all.close()
	var out []Record
	var damaged []error
	for i := len(all) - 1; i >= 0 && len(out) < n; i-- {
		// The newest want records of this file, in a ring: next is where the oldest is.
		want := n - len(out)
		var recs []Record
		next := 0
		err := Read(all[i].f, f, func(r Record) error {
			if len(recs) < want {
				recs = append(recs, r)
				return nil
			}
			recs[next] = r
			next = (next + 1) % want
			return nil
		})
		recs = slices.Concat(recs[next:], recs[:next])
		switch {
		case errors.Is(err, ErrDamaged):
			damaged = append(damaged, fmt.Errorf("%s: %w", all[i].name, err))
		case err != nil:
			return nil, err
		}
		out = append(recs, out...)
	}
	return out, errors.Join(damaged...)
}
