package files

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

func newInbox(t *testing.T, opts Options) (*Inbox, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "inbox")
	in, err := OpenInbox(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	return in, dir
}

// put uploads data as name in one session and returns what the session reported.
func put(t *testing.T, s *InboxSession, name string, data []byte) Result {
	t.Helper()
	u, err := s.Create(name, false)
	if err != nil {
		t.Fatalf("Create(%q) = %v", name, err)
	}
	if _, err := u.WriteAt(data, 0); err != nil {
		t.Fatal(err)
	}
	if err := u.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	r, ok := s.Result(name)
	if !ok {
		t.Fatalf("Result(%q) missing after upload", name)
	}
	return r
}

func visible(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == partialDir {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, rel)
		}
		return nil
	})
	sort.Strings(names)
	return names
}

func TestInboxNeverOverwrites(t *testing.T) {
	in, dir := newInbox(t, Options{})
	s := in.Session("alice", "127.0.0.1:1", nil)
	for i, name := range []string{"report.pdf", "report.pdf", "report.pdf", ".bashrc", ".bashrc", "dir/a", "dir/a"} {
		put(t, s, name, []byte{byte(i)})
	}
	got := visible(t, dir)
	want := []string{"alice/.bashrc", "alice/.bashrc (2)", "alice/dir/a", "alice/dir/a (2)", "alice/report (2).pdf", "alice/report (3).pdf", "alice/report.pdf"}
	if len(got) != len(want) {
		t.Fatalf("inbox holds %q; want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("inbox holds %q; want %q", got, want)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "alice", "report.pdf"))
	if len(b) != 1 || b[0] != 0 {
		t.Errorf("the first report.pdf was changed to %v", b)
	}
}

func TestInboxHidesUntilComplete(t *testing.T) {
	in, dir := newInbox(t, Options{})
	var reported []Transfer
	s := in.Session("bob", "127.0.0.1:1", func(tr Transfer) { reported = append(reported, tr) })
	u, err := s.Create("big.bin", false)
	if err != nil {
		t.Fatal(err)
	}
	u.WriteAt(make([]byte, 1000), 0)
	if got := visible(t, dir); len(got) != 0 {
		t.Fatalf("inbox shows %q before the upload is closed", got)
	}
	u.Interrupt()
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	if got := visible(t, dir); len(got) != 0 {
		t.Fatalf("inbox shows %q after an interrupted upload", got)
	}
	if len(reported) != 1 || reported[0].Complete {
		t.Fatalf("reported %+v; want one incomplete transfer", reported)
	}
}

func TestInboxResume(t *testing.T) {
	in, dir := newInbox(t, Options{})
	data := make([]byte, 3*checkpointEvery+12345)
	rand.Read(data)
	s := in.Session("carol", "127.0.0.1:1", nil)

	// First try: everything up to a point, then the connection drops.
	u, err := s.Create("disk.img", false)
	if err != nil {
		t.Fatal(err)
	}
	cut := 2*checkpointEvery + 999
	for off := 0; off < cut; off += 1 << 20 {
		u.WriteAt(data[off:min(off+1<<20, cut)], int64(off))
	}
	u.Interrupt()
	u.Close()

	size, sum, err := s.Partial("disk.img")
	if err != nil || size != int64(cut) {
		t.Fatalf("Partial() = %d, %v; want %d", size, err, cut)
	}
	want := sha256.Sum256(data[:size])
	if sum != hex.EncodeToString(want[:]) {
		t.Fatalf("Partial() sum = %s; want the prefix's %x", sum, want)
	}
	fi, err := s.Stat("disk.img")
	if err != nil || fi.Size() != size {
		t.Fatalf("Stat(partial) = %v, %v; want size %d (for reput)", fi, err, size)
	}

	// Another session of the same sender resumes.
	s2 := in.Session("carol", "127.0.0.1:2", nil)
	u, err = s2.Create("disk.img", true)
	if err != nil {
		t.Fatal(err)
	}
	u.WriteAt(data[size:], size)
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	r, _ := s2.Result("disk.img")
	all := sha256.Sum256(data)
	if r.SHA256 != hex.EncodeToString(all[:]) || r.Size != int64(len(data)) {
		t.Errorf("resumed upload = %+v; want sha %x", r, all)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "carol", "disk.img"))
	if sha256.Sum256(got) != all {
		t.Errorf("the placed file differs from what was sent")
	}

	// Someone else never sees or continues carol's partial.
	if _, _, err := in.Session("mallory", "", nil).Partial("disk.img"); !errors.Is(err, ErrNotFound) {
		t.Errorf("another sender's Partial() = %v; want ErrNotFound", err)
	}
}

func TestInboxRewriteOfResumedPrefix(t *testing.T) {
	in, _ := newInbox(t, Options{})
	s := in.Session("dave", "", nil)
	u, _ := s.Create("f", false)
	old := make([]byte, checkpointEvery+10)
	u.WriteAt(old, 0)
	u.Interrupt()
	u.Close()
	// A client that opens without truncating but sends the whole file again, from 0.
	data := make([]byte, checkpointEvery+500)
	rand.Read(data)
	u, _ = s.Create("f", true)
	u.WriteAt(data, 0)
	u.Close()
	r, _ := s.Result("f")
	want := sha256.Sum256(data)
	if r.SHA256 != hex.EncodeToString(want[:]) {
		t.Errorf("SHA-256 after rewriting the prefix = %s; want %x", r.SHA256, want)
	}
}

func TestInboxLimits(t *testing.T) {
	in, dir := newInbox(t, Options{MaxFileSize: 100})
	s := in.Session("erin", "", nil)
	u, err := s.Create("x", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.WriteAt(make([]byte, 101), 0); !errors.Is(err, ErrTooLarge) {
		t.Errorf("WriteAt past the limit = %v; want ErrTooLarge", err)
	}
	if err := u.Close(); err == nil {
		t.Errorf("Close() after a refused write = nil; want an error")
	}
	if got := visible(t, dir); len(got) != 0 {
		t.Errorf("inbox shows %q after a refused upload", got)
	}
	for _, name := range []string{"/", ".buktu-partial/x", "a\x00b"} {
		if _, err := s.Create(name, false); err == nil {
			t.Errorf("Create(%q) = nil error", name)
		}
	}
}

// TestUploadThatCannotCompleteIsRemoved resumes a partial upload kept after an interruption,
// past the host's size limit: it can never complete, so its partial file goes, rather than
// holding the space, and the transfer says why.
func TestUploadThatCannotCompleteIsRemoved(t *testing.T) {
	in, dir := newInbox(t, Options{MaxFileSize: checkpointEvery + 100})
	var reported []Transfer
	s := in.Session("heidi", "", func(tr Transfer) { reported = append(reported, tr) })
	u, err := s.Create("big", false)
	if err != nil {
		t.Fatal(err)
	}
	u.WriteAt(make([]byte, checkpointEvery+10), 0)
	u.Interrupt()
	u.Close()
	if len(reported) != 1 || !reported[0].Kept || reported[0].Err != nil {
		t.Fatalf("the interrupted upload reported %+v; want it kept, with no error", reported)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, partialDir)); len(entries) == 0 {
		t.Fatalf("no partial file kept after an interruption")
	}

	u, err = s.Create("big", true)
	if err != nil || u.Offset() != checkpointEvery+10 {
		t.Fatalf("Create(resume) = offset %d, %v; want %d", u.Offset(), err, checkpointEvery+10)
	}
	if _, err := u.WriteAt(make([]byte, 1000), u.Offset()); !errors.Is(err, ErrTooLarge) {
		t.Errorf("WriteAt past the limit = %v; want ErrTooLarge", err)
	}
	if err := u.Close(); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Close() = %v; want ErrTooLarge", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, partialDir)); len(entries) != 0 {
		t.Errorf("the partial folder holds %d files after an upload that cannot complete; want none", len(entries))
	}
	if last := reported[len(reported)-1]; len(reported) != 2 || last.Kept || !errors.Is(last.Err, ErrTooLarge) || last.Complete {
		t.Errorf("the refused upload reported %+v; want it removed, for ErrTooLarge", last)
	}
	if _, _, err := s.Partial("big"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Partial() after the removal = %v; want ErrNotFound", err)
	}
}

func TestInboxStatTellsOnlyOwnThings(t *testing.T) {
	in, dir := newInbox(t, Options{})
	os.MkdirAll(filepath.Join(dir, "frank", "old"), 0o755)
	os.WriteFile(filepath.Join(dir, "frank", "old", "secret.txt"), []byte("x"), 0o600)
	s := in.Session("frank", "", nil)
	if fi, err := s.Stat("old"); err != nil || !fi.IsDir() {
		t.Errorf("Stat(own folder) = %v, %v; want a folder", fi, err)
	}
	if _, err := s.Stat("old/secret.txt"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stat(a file sent earlier) = %v; want ErrNotFound", err)
	}
	if _, err := in.Session("grace", "", nil).Stat("../frank/old"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stat(another sender's folder) = %v; want ErrNotFound", err)
	}
}
