package testenv

import (
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Tree is a snapshot of a folder tree, to check that what a test did changed nothing it
// should not. It maps each entry's slash-separated path below the root to a description:
// type and permission bits; for files also size, modification time and SHA-256; for symlinks
// the target. Folder times are left out: entries added or removed show as themselves.
type Tree map[string]string

// Snapshot records the tree under root, never following symlinks.
func Snapshot(t testing.TB, root string) Tree {
	t.Helper()
	tree := Tree{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		desc, err := describeEntry(p, fi)
		if err != nil {
			return err
		}
		tree[filepath.ToSlash(rel)] = desc
		return nil
	})
	if err != nil {
		t.Fatalf("snapshot %s: %v", root, err)
	}
	return tree
}

func describeEntry(p string, fi fs.FileInfo) (string, error) {
	mode := fi.Mode()
	switch {
	case mode.IsDir():
		return fmt.Sprintf("dir %v", mode), nil
	case mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(p)
		return "symlink -> " + target, err
	case mode.IsRegular():
		f, err := os.Open(p)
		if err != nil {
			return "", err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return "", err
		}
		return fmt.Sprintf("file %v size %d mtime %d sha256 %x", mode, fi.Size(), fi.ModTime().UnixNano(), h.Sum(nil)), nil
	}
	return fmt.Sprintf("other %v", mode), nil
}

// Changes lists, sorted by path, what differs from before to after: "+path" for an added
// entry, "-path" for a removed one and "~path: old => new" for a changed one. Paths equal
// to one of ignore, or below it, are left out.
func (before Tree) Changes(after Tree, ignore ...string) []string {
	ignored := func(p string) bool {
		return slices.ContainsFunc(ignore, func(i string) bool { return p == i || strings.HasPrefix(p, i+"/") })
	}
	var out []string
	for p, old := range before {
		if ignored(p) {
			continue
		}
		switch now, ok := after[p]; {
		case !ok:
			out = append(out, "-"+p)
		case now != old:
			out = append(out, "~"+p+": "+old+" => "+now)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok && !ignored(p) {
			out = append(out, "+"+p)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(a[1:], b[1:]) })
	return out
}
