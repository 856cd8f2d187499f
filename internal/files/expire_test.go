package files

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// interrupted leaves a partial upload of name with n bytes, as a dropped connection does.
func interrupted(t *testing.T, s *InboxSession, name string, n int) {
	t.Helper()
	u, err := s.Create(name, false)
	if err != nil {
		t.Fatal(err)
	}
	u.WriteAt(make([]byte, n), 0)
	u.Interrupt()
	u.Close()
}

// age sets the times of every file in the partial folder below dir to d ago.
func age(t *testing.T, dir string, d time.Duration) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, partialDir))
	if err != nil {
		t.Fatal(err)
	}
	then := time.Now().Add(-d)
	for _, e := range entries {
		if err := os.Chtimes(filepath.Join(dir, partialDir, e.Name()), then, then); err != nil {
			t.Fatal(err)
		}
	}
}

func TestExpirePartials(t *testing.T) {
	in, dir := newInbox(t, Options{})
	s := in.Session("ivan", "", nil)
	interrupted(t, s, "stale.bin", 1000)
	interrupted(t, s, "live.bin", 2000)
	// live.bin is being resumed now: its files are old, but it is open.
	live, err := s.Create("live.bin", true)
	if err != nil || live.Offset() != 2000 {
		t.Fatalf("Create(resume) = offset %d, %v; want 2000", live.Offset(), err)
	}
	other := filepath.Join(dir, partialDir, "not-a-partial.txt")
	if err := os.WriteFile(other, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	age(t, dir, 2*time.Hour)

	if got, err := in.ExpirePartials(3 * time.Hour); err != nil || len(got) != 0 {
		t.Errorf("ExpirePartials(3h) = %+v, %v; want nothing, all being younger", got, err)
	}
	got, err := in.ExpirePartials(time.Hour)
	if err != nil || len(got) != 1 {
		t.Fatalf("ExpirePartials(1h) = %+v, %v; want stale.bin only", got, err)
	}
	if e := got[0]; e.Account != "ivan" || e.Path != "stale.bin" || e.Size != 1000 || e.Unused < 2*time.Hour {
		t.Errorf("ExpirePartials(1h) = %+v; want ivan's stale.bin of 1000 bytes, unused 2h", e)
	}
	if _, _, err := s.Partial("stale.bin"); err == nil {
		t.Errorf("Partial(stale.bin) after it expired = nil error; want ErrNotFound")
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("a file in the partial folder that is no partial upload: %v; want it left alone", err)
	}

	// The open upload was never touched: it completes with all of its data.
	live.WriteAt(make([]byte, 500), 2000)
	if err := live.Close(); err != nil {
		t.Fatalf("Close() of the upload open while partials expired = %v", err)
	}
	if r, ok := s.Result("live.bin"); !ok || r.Size != 2500 {
		t.Errorf("Result(live.bin) = %+v, %v; want 2500 bytes", r, ok)
	}
	if got, err := in.ExpirePartials(time.Hour); err != nil || len(got) != 0 {
		t.Errorf("ExpirePartials(1h) after the upload completed = %+v, %v; want nothing left", got, err)
	}
}
