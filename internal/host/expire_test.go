package host_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/events"
)

// partials returns the partial files (*.part) below a served folder.
func partials(t *testing.T, dir string) []string {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, ".buktu-partial", "*.part"))
	return names
}

// ageAll sets the times of every file in dir's partial folder to d ago.
func ageAll(t *testing.T, dir string, d time.Duration) {
	t.Helper()
	then := time.Now().Add(-d)
	entries, _ := os.ReadDir(filepath.Join(dir, ".buktu-partial"))
	for _, e := range entries {
		if err := os.Chtimes(filepath.Join(dir, ".buktu-partial", e.Name()), then, then); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPartialsExpire leaves partial uploads on both file ports (connections that drop with
// a file open) on a host whose partial_ttl is short, makes them old, and resumes one of them:
// the old ones are removed, logged and recorded, and the one being resumed is untouched and
// completes whole. A host that starts removes what expired while it was down.
func TestPartialsExpire(t *testing.T) {
	t.Parallel()
	// Sweeps every 5 s: the partials made here are young enough to stay until made old.
	w := newWorldWith(t, "[limits]\npartial_ttl = \"20s\"\n", nil)
	alice := w.user(t, "alice", everything...)
	first := bytes.Repeat([]byte("first half;"), 10_000)
	rest := bytes.Repeat([]byte("second half;"), 10_000)

	// leave drops a connection in the middle of an upload of name, leaving a partial upload
	// of first, and waits for the host to keep it.
	leave := func(t *testing.T, addr, dir, name string) {
		t.Helper()
		before := len(partials(t, dir))
		c := w.dialSFTP(t, addr, alice)
		f, err := c.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(first); err != nil {
			t.Fatal(err)
		}
		c.Close() // with the file open: the host keeps what arrived, to resume
		pollUntil(t, "the host keeps the partial upload of "+name, func() bool { return len(partials(t, dir)) == before+1 })
	}
	for _, svc := range []struct {
		name, addr, dir string
		placed          string
	}{
		{"send", w.h.Send, w.inbox("", ""), w.inbox("alice", "live.bin")},
		{"exchange", w.h.Exchange, w.exchange(""), w.exchange("live.bin")},
	} {
		t.Run(svc.name, func(t *testing.T) {
			leave(t, svc.addr, svc.dir, "stale.bin")
			leave(t, svc.addr, svc.dir, "live.bin")
			c := w.dialSFTP(t, svc.addr, alice)
			live, err := c.OpenFile("live.bin", os.O_WRONLY|os.O_CREATE) // no O_TRUNC: resume
			if err != nil {
				t.Fatal(err)
			}
			ageAll(t, svc.dir, time.Hour)
			pollUntil(t, "the old partial upload is removed", func() bool { return len(partials(t, svc.dir)) == 1 })
			if _, err := live.WriteAt(rest, int64(len(first))); err != nil {
				t.Fatalf("resume the upload that was open while the old one expired: %v", err)
			}
			if err := live.Close(); err != nil {
				t.Fatalf("finish the upload that was open while the old one expired: %v", err)
			}
			sameFile(t, svc.placed, append(bytes.Clone(first), rest...))
		})
	}

	const logLine = `"msg":"partial upload expired"`
	logged := 0
	t.Run("at start", func(t *testing.T) {
		leave(t, w.h.Exchange, w.exchange(""), "down.bin")
		logged = strings.Count(w.h.Stderr(), logLine) // what the host logged before it stopped
		w.h.Stop()
		ageAll(t, w.exchange(""), time.Hour)
		w.h.Start(t)
		pollUntil(t, "the partial upload that expired while the host was down is removed", func() bool {
			return len(partials(t, w.exchange(""))) == 0
		})
	})

	var expired []string
	for _, r := range w.h.Records(t, "--kind", events.KindFile, "--account", "alice") {
		if strings.HasPrefix(r.Reason, "partial upload unused for ") && strings.HasSuffix(r.Reason, "; removed") {
			expired = append(expired, r.Service+":"+r.Path)
		}
	}
	if got := strings.Join(expired, " "); got != "send:stale.bin exchange:stale.bin exchange:down.bin" {
		t.Errorf("the activity log records the expired partial uploads %q; want send:stale.bin exchange:stale.bin exchange:down.bin", got)
	}
	if n := logged + strings.Count(w.h.Stderr(), logLine); n != 3 {
		t.Errorf("the host logged %d expired partial uploads; want 3:\n%s", n, w.h.Stderr())
	}
}
