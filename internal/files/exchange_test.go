package files

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func newExchange(t *testing.T) (*Exchange, string, string) {
	t.Helper()
	top := t.TempDir()
	dir := filepath.Join(top, "exchange")
	outside := filepath.Join(top, "outside")
	os.MkdirAll(outside, 0o755)
	os.WriteFile(filepath.Join(outside, "canary"), []byte("do not touch"), 0o644)
	x, err := OpenExchange(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x, dir, outside
}

func write(t *testing.T, s *ExchangeSession, name, content string) error {
	t.Helper()
	u, err := s.Create(name, false)
	if err != nil {
		return err
	}
	if _, err := u.WriteAt([]byte(content), 0); err != nil {
		return err
	}
	return u.Close()
}

func read(t *testing.T, s *ExchangeSession, name string) (string, error) {
	t.Helper()
	d, err := s.Open(name)
	if err != nil {
		return "", err
	}
	defer d.Close()
	b, err := io.ReadAll(io.NewSectionReader(d, 0, d.Size()))
	return string(b), err
}

func TestExchangeAccess(t *testing.T) {
	x, _, _ := newExchange(t)
	all := x.Session("admin", "", Access{true, true, true}, nil)
	if err := write(t, all, "a.txt", "one"); err != nil {
		t.Fatal(err)
	}
	readOnly := x.Session("r", "", Access{Read: true}, nil)
	writeOnly := x.Session("w", "", Access{Write: true}, nil)
	tests := []struct {
		name string
		op   func() error
		want error
	}{
		{"read may read", func() error { _, err := read(t, readOnly, "a.txt"); return err }, nil},
		{"read may not write", func() error { return write(t, readOnly, "b.txt", "x") }, ErrDenied},
		{"read may not mkdir", func() error { return readOnly.Mkdir("d") }, ErrDenied},
		{"read may not remove", func() error { return readOnly.Remove("a.txt") }, ErrDenied},
		{"write may not read", func() error { _, err := read(t, writeOnly, "a.txt"); return err }, ErrDenied},
		{"write may not list", func() error { _, err := writeOnly.List("."); return err }, ErrDenied},
		{"write may add", func() error { return write(t, writeOnly, "new.txt", "x") }, nil},
		{"write may not replace", func() error { return write(t, writeOnly, "a.txt", "evil") }, ErrDenied},
		{"write may not rename over", func() error { return writeOnly.Rename("new.txt", "a.txt", true) }, ErrDenied},
		{"write may not truncate", func() error { return writeOnly.Truncate("a.txt", 0) }, ErrDenied},
		{"write may not remove", func() error { return writeOnly.Remove("a.txt") }, ErrDenied},
		{"plain rename never replaces", func() error { return all.Rename("new.txt", "a.txt", false) }, fs.ErrExist},
		{"posix rename replaces", func() error { return all.Rename("new.txt", "a.txt", true) }, nil},
		{"top is not removable", func() error { return all.Remove("/") }, ErrDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.op(); !errors.Is(err, tt.want) && !(err == nil && tt.want == nil) {
				t.Errorf("got %v; want %v", err, tt.want)
			}
		})
	}
	if got, _ := read(t, all, "a.txt"); got != "x" {
		t.Errorf("a.txt = %q after the posix rename; want %q", got, "x")
	}
}

func TestExchangeStaysInside(t *testing.T) {
	x, dir, outside := newExchange(t)
	os.Symlink(filepath.Join(outside, "canary"), filepath.Join(dir, "link-out"))
	os.Symlink(outside, filepath.Join(dir, "dir-out"))
	os.WriteFile(filepath.Join(dir, "inside.txt"), []byte("in"), 0o644)
	os.Symlink("inside.txt", filepath.Join(dir, "link-in"))
	s := x.Session("admin", "", Access{true, true, true}, nil)

	if got, err := read(t, s, "link-in"); err != nil || got != "in" {
		t.Errorf("read(link-in) = %q, %v; want a link inside the folder followed", got, err)
	}
	for _, name := range []string{"link-out", "dir-out/canary", "../outside/canary", "/../outside/canary"} {
		if got, err := read(t, s, name); err == nil {
			t.Errorf("read(%q) = %q; want a refusal", name, got)
		}
	}
	for _, name := range []string{"dir-out/new.txt", "link-out"} {
		if err := write(t, s, name, "x"); err == nil {
			t.Errorf("write(%q) = nil; want a refusal", name)
		}
	}
	if _, err := s.List("dir-out"); err == nil {
		t.Errorf("List(dir-out) = nil error; want a refusal")
	}
	if err := s.Rename("inside.txt", "dir-out/moved", true); err == nil {
		t.Errorf("Rename into a link out of the folder = nil; want a refusal")
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "canary")); string(b) != "do not touch" {
		t.Errorf("the canary outside the folder changed to %q", b)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 1 {
		t.Errorf("the folder outside holds %d entries; want only the canary", len(entries))
	}
	entries, err := s.List(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == partialDir {
			t.Errorf("List shows the partial folder")
		}
	}
}

func TestExchangeDownloadHash(t *testing.T) {
	x, _, _ := newExchange(t)
	var got []Transfer
	s := x.Session("admin", "", Access{true, true, true}, func(tr Transfer) { got = append(got, tr) })
	if err := write(t, s, "f", "hello"); err != nil {
		t.Fatal(err)
	}
	if _, err := read(t, s, "f"); err != nil {
		t.Fatal(err)
	}
	const helloSHA = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
	if len(got) != 2 || got[1].Upload || got[1].SHA256 != helloSHA || !got[1].Complete {
		t.Fatalf("transfers = %+v; want an upload and a complete download with the SHA-256", got)
	}
	if n, sum, err := s.SHA256("f"); n != 5 || sum != helloSHA || err != nil {
		t.Errorf("SHA256(f) = %d, %s, %v", n, sum, err)
	}
	// The client's check comes right after a close: the session stays busy for a moment.
	if !s.Busy() {
		t.Errorf("Busy() right after a transfer closed = false; want true for %v", finishWindow)
	}
	s.ended.Store(time.Now().Add(-finishWindow).UnixNano())
	if s.Busy() {
		t.Errorf("Busy() %v after all transfers closed", finishWindow)
	}
}

func TestExchangeSHA256SeesChanges(t *testing.T) {
	x, dir, _ := newExchange(t)
	s := x.Session("admin", "", Access{true, true, true}, nil)
	if err := write(t, s, "f", "hello"); err != nil {
		t.Fatal(err)
	}
	const helloSHA = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
	if _, sum, err := s.SHA256("f"); sum != helloSHA || err != nil {
		t.Fatalf("SHA256(f) = %s, %v; want the upload's", sum, err)
	}
	// Changed behind the host's back, same size: the remembered sum must not be used.
	later := time.Now().Add(time.Hour)
	os.WriteFile(filepath.Join(dir, "f"), []byte("jello"), 0o644)
	os.Chtimes(filepath.Join(dir, "f"), later, later)
	want := sha256.Sum256([]byte("jello"))
	if _, sum, err := s.SHA256("f"); err != nil || sum != hex.EncodeToString(want[:]) {
		t.Errorf("SHA256(f) after a change = %s, %v; want %x", sum, err, want)
	}
}

// TestExchangeDownloadKnownSum serves a file whose sum the folder remembers without hashing it
// again: a whole download is logged complete with that sum, a partial one is not, and a file
// changed since gets its new sum.
func TestExchangeDownloadKnownSum(t *testing.T) {
	x, dir, _ := newExchange(t)
	var got []Transfer
	s := x.Session("admin", "", Access{true, true, true}, func(tr Transfer) { got = append(got, tr) })
	if err := write(t, s, "f", "hello"); err != nil {
		t.Fatal(err)
	}
	d, err := s.Open("f")
	if err != nil {
		t.Fatal(err)
	}
	if !d.tr.countOnly {
		t.Error("a file uploaded a moment ago is hashed again when served")
	}
	d.ReadAt(make([]byte, 2), 0)
	d.Close()
	if last := got[len(got)-1]; last.Complete || last.SHA256 != "" {
		t.Errorf("a download of 2 of 5 bytes = %+v; want it incomplete, with no sum", last)
	}
	if _, err := read(t, s, "f"); err != nil {
		t.Fatal(err)
	}
	const helloSHA = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
	if last := got[len(got)-1]; !last.Complete || last.SHA256 != helloSHA {
		t.Errorf("a whole download of a known file = %+v; want complete with %s", last, helloSHA)
	}
	later := time.Now().Add(time.Hour)
	os.WriteFile(filepath.Join(dir, "f"), []byte("jello"), 0o644)
	os.Chtimes(filepath.Join(dir, "f"), later, later)
	if _, err := read(t, s, "f"); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256([]byte("jello"))
	if last := got[len(got)-1]; !last.Complete || last.SHA256 != hex.EncodeToString(want[:]) {
		t.Errorf("a download of a file changed since = %+v; want complete with %x", last, want)
	}
}
