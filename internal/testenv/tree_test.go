package testenv

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestTreeChanges(t *testing.T) {
	root := t.TempDir()
	write := func(rel, data string) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a/same.txt", "same")
	write("a/changed.txt", "before")
	write("a/removed.txt", "gone soon")
	write("log/activity.log", "1")
	write("mode.txt", "m")
	if err := os.Symlink("a/same.txt", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	before := Snapshot(t, root)

	write("a/changed.txt", "after!")
	write("a/added.txt", "new")
	write("log/activity.log", "12")
	os.Remove(filepath.Join(root, "a/removed.txt"))
	os.Chmod(filepath.Join(root, "mode.txt"), 0o600)
	os.Remove(filepath.Join(root, "link"))
	os.Symlink("/etc/passwd", filepath.Join(root, "link"))

	var got []string
	for _, c := range before.Changes(Snapshot(t, root), "log") {
		path, _, _ := strings.Cut(c, ": ") // "~path: old => new" names the path first
		got = append(got, path)
	}
	want := []string{"+a/added.txt", "~a/changed.txt", "-a/removed.txt", "~link", "~mode.txt"}
	if !slices.Equal(got, want) {
		t.Errorf("Changes = %q; want %q", got, want)
	}
	if c := before.Changes(before); len(c) != 0 {
		t.Errorf("Changes of a tree to itself = %q; want none", c)
	}
}
