package tmpfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func create(t *testing.T, dir string) *os.File {
	t.Helper()
	f, err := Create(dir, 0o600)
	if errors.Is(err, ErrUnsupported) {
		t.Skipf("the file system of %s has no unnamed files", dir)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestUnnamedUntilLinked(t *testing.T) {
	dir := t.TempDir()
	f := create(t, dir)
	if _, err := f.WriteString("complete"); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("an unnamed file shows in its folder: %v", entries)
	}
	if err := Link(f, nil, filepath.Join(dir, "a")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "a")); err != nil || string(b) != "complete" {
		t.Fatalf("linked file holds %q, %v", b, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "a")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("linked file's mode: %v, %v; want 0600", fi.Mode(), err)
	}
}

func TestLinkNeverReplaces(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "a")
	if err := os.WriteFile(old, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	f := create(t, dir)
	f.WriteString("new")
	if err := Link(f, d, "a"); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("link over a file: %v, want fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(old); string(b) != "old" {
		t.Fatalf("the file there became %q", b)
	}
	if err := Link(f, d, "b"); err != nil {
		t.Fatal(err)
	}
}

func TestCreateAtAndMissingFolder(t *testing.T) {
	dir := t.TempDir()
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	f, err := CreateAt(d, 0o640)
	if errors.Is(err, ErrUnsupported) {
		t.Skip("no unnamed files here")
	}
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := Create(filepath.Join(dir, "missing"), 0o600); err == nil || errors.Is(err, ErrUnsupported) {
		t.Fatalf("create in a missing folder: %v", err)
	}
}

func TestWorks(t *testing.T) {
	dir := t.TempDir()
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := Create(dir, 0o600); errors.Is(err, ErrUnsupported) {
		if Works(d) {
			t.Fatal("Works says yes where unnamed files are not supported")
		}
		return
	}
	if !Works(d) {
		t.Fatal("Works says no where unnamed files work")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the probe left %v", entries)
	}
	f, err := os.Open(filepath.Join(dir))
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if Works(f) { // closed: nothing can be made through it
		t.Error("Works says yes through a closed folder")
	}
}
