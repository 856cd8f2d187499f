package files

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSharedMode(t *testing.T) {
	tests := []struct {
		name string
		perm fs.FileMode
		dir  bool
		want fs.FileMode
	}{
		{"private", 0o600, false, 0o600},
		{"shared", 0o644, false, 0o644},
		{"script", 0o755, false, 0o755},
		{"owner cannot read", 0o044, false, 0o644},
		{"everyone writes", 0o666, false, 0o644},
		{"nothing", 0, false, 0o600},
		{"folder", 0o750, true, 0o750},
		{"folder without search", 0o600, true, 0o700},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sharedMode(tt.perm, tt.dir); got != tt.want {
				t.Errorf("sharedMode(%o, %v) = %o; want %o", tt.perm, tt.dir, got, tt.want)
			}
		})
	}
}

// TestAttrsOfAnOpenUpload sets the mode and times of a file while it is being uploaded, as
// scp and put -p do on the open file before they close it: the placed file has them.
func TestAttrsOfAnOpenUpload(t *testing.T) {
	x, dir, _ := newExchange(t)
	s := x.Session("judy", "", Access{Read: true, Write: true}, nil)
	mtime := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	u, err := s.Create("kept.txt", false)
	if err != nil {
		t.Fatal(err)
	}
	u.WriteAt([]byte("hello, world"), 0)
	for _, step := range []struct {
		name string
		err  error
	}{
		{"Chmod", s.Chmod("/kept.txt", 0o640)},
		{"Chtimes", s.Chtimes("kept.txt", mtime, mtime)},
		{"CheckAttrs", s.CheckAttrs("kept.txt")},
		// Its own upload: cutting it destroys nothing of anyone else's, so Write suffices.
		{"Truncate", s.Truncate("kept.txt", 5)},
	} {
		if step.err != nil {
			t.Errorf("%s of the upload in progress = %v; want nil", step.name, step.err)
		}
	}
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "kept.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != 0o640 || !fi.ModTime().Equal(mtime) || fi.Size() != 5 {
		t.Errorf("the placed file is %v, %v, %d bytes; want -rw-r-----, %v, 5 bytes", fi.Mode(), fi.ModTime(), fi.Size(), mtime)
	}
	_, sum, err := s.SHA256("kept.txt")
	want := sha256.Sum256([]byte("hello"))
	if err != nil || sum != hex.EncodeToString(want[:]) {
		t.Errorf("SHA256(kept.txt) = %s, %v; want the cut file's %x", sum, err, want)
	}

	// A placed file: the same rules by its path; cutting it needs Delete.
	if err := s.Chmod("kept.txt", 0o4777); err != nil {
		t.Errorf("Chmod(placed) = %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "kept.txt")); fi.Mode() != 0o755 {
		t.Errorf("Chmod(placed, 4777) gave %v; want -rwxr-xr-x", fi.Mode())
	}
	if err := s.Truncate("kept.txt", 0); !errors.Is(err, ErrDenied) {
		t.Errorf("Truncate(placed) without Delete = %v; want ErrDenied", err)
	}
	if err := s.Chmod("/", 0o777); !errors.Is(err, ErrDenied) {
		t.Errorf("Chmod(the folder's top) = %v; want ErrDenied", err)
	}
	if err := s.CheckAttrs("nothing.txt"); !errors.Is(err, ErrNotFound) {
		t.Errorf("CheckAttrs(missing) = %v; want ErrNotFound", err)
	}
}

// TestCutUploadIsNotKept interrupts an upload that was truncated while open: no saved hash
// state describes it, so it is not kept to be resumed.
func TestCutUploadIsNotKept(t *testing.T) {
	x, dir, _ := newExchange(t)
	var reported []Transfer
	s := x.Session("kim", "", Access{Write: true}, func(tr Transfer) { reported = append(reported, tr) })
	u, err := s.Create("cut.bin", false)
	if err != nil {
		t.Fatal(err)
	}
	u.WriteAt(make([]byte, 1000), 0)
	if err := s.Truncate("cut.bin", 10); err != nil {
		t.Fatal(err)
	}
	u.Interrupt()
	u.Close()
	if entries, _ := os.ReadDir(filepath.Join(dir, partialDir)); len(entries) != 0 {
		t.Errorf("the partial folder holds %d files after a cut upload was interrupted; want none", len(entries))
	}
	if len(reported) != 1 || reported[0].Kept {
		t.Errorf("reported %+v; want one transfer, not kept", reported)
	}
}

// TestTruncateToOwnSizeChangesNothing truncates an open upload to the size it has, as scp
// does with every upload: it stays resumable, and is not hashed again.
func TestTruncateToOwnSizeChangesNothing(t *testing.T) {
	x, _, _ := newExchange(t)
	var reported []Transfer
	s := x.Session("lee", "", Access{Write: true}, func(tr Transfer) { reported = append(reported, tr) })
	u, err := s.Create("same.bin", false)
	if err != nil {
		t.Fatal(err)
	}
	u.WriteAt(make([]byte, 1000), 0)
	if err := s.Truncate("same.bin", 1000); err != nil {
		t.Fatal(err)
	}
	u.mu.Lock()
	cut, rehash := u.cut, u.rehash
	u.mu.Unlock()
	if cut || rehash {
		t.Errorf("Truncate to the upload's own size: cut %v, rehash %v; want neither", cut, rehash)
	}
	u.Interrupt()
	u.Close()
	if len(reported) != 1 || !reported[0].Kept {
		t.Errorf("reported %+v; want one transfer, kept to resume", reported)
	}
}
