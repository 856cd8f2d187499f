package host_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/testenv"
)

// TestKilledHostResumes kills the host in the middle of a large send, starts it again, and
// sends again: the transfer resumes, the result is byte-exact, and no incomplete file was
// ever visible in the inbox.
func TestKilledHostResumes(t *testing.T) {
	h := testenv.StartHost(t, "")
	const size = 384 << 20
	src := filepath.Join(t.TempDir(), "big.bin")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	hash := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, hash), rand.Reader, size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	want := hash.Sum(nil)

	inbox := filepath.Join(h.DataDir, "inbox", "admin")
	partials := filepath.Join(h.DataDir, "inbox", ".buktu-partial")
	var sawIncomplete atomic.Value
	stopWatch := make(chan struct{})
	watchDone := make(chan struct{})
	go func() {
		// Anything in the sender's folder must be the whole file.
		defer close(watchDone)
		for {
			select {
			case <-stopWatch:
				return
			default:
			}
			entries, _ := os.ReadDir(inbox)
			for _, e := range entries {
				if fi, err := e.Info(); err == nil && fi.Size() != size {
					sawIncomplete.Store(e.Name() + " with " + fi.Name())
				}
			}
			time.Sleep(2 * time.Millisecond) // a sampling interval, not a wait for an event
		}
	}()

	known := filepath.Join(t.TempDir(), "known_hosts")
	env := append(os.Environ(), "BUKTU_PASSWORD="+h.AdminPassword)
	send := func() *exec.Cmd {
		cmd := exec.Command(h.Bin, "send", "admin@"+h.Send, src, "--known-hosts", known)
		cmd.Env = env
		return cmd
	}

	first := send()
	var firstOut bytes.Buffer
	first.Stderr = &firstOut
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill the host once a good part has arrived, past a checkpoint.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if partialSize(partials) > 80<<20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the send did not get going: %s", firstOut.String())
		}
		time.Sleep(time.Millisecond)
	}
	h.Kill()
	if err := first.Wait(); err == nil {
		t.Fatalf("the send finished although the host was killed: %s", firstOut.String())
	}
	if _, err := os.Stat(filepath.Join(inbox, "big.bin")); err == nil {
		t.Fatalf("big.bin is in the inbox after an interrupted send")
	}

	h.Start(t)
	second := send()
	out, err := second.CombinedOutput()
	if err != nil {
		t.Fatalf("the second send failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "resumed at") {
		t.Errorf("the second send did not resume:\n%s", out)
	}
	close(stopWatch)
	<-watchDone
	if v := sawIncomplete.Load(); v != nil {
		t.Errorf("an incomplete file was visible in the inbox: %v", v)
	}
	entries, _ := os.ReadDir(inbox)
	if len(entries) != 1 {
		t.Fatalf("the inbox holds %d entries; want only big.bin", len(entries))
	}
	got := sha256.New()
	g, err := os.Open(filepath.Join(inbox, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	io.Copy(got, g)
	if !bytes.Equal(got.Sum(nil), want) {
		t.Errorf("the resumed file differs from what was sent")
	}
	stdout, _, code := h.Buktu(t, "", nil, "log", "--data", h.DataDir, "--kind", "file")
	if code != 0 || !strings.Contains(stdout, "resumed at byte") {
		t.Errorf("the activity log does not record the resume:\n%s", stdout)
	}
}

func partialSize(dir string) int64 {
	entries, _ := os.ReadDir(dir)
	var n int64
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".part") {
			if fi, err := e.Info(); err == nil {
				n += fi.Size()
			}
		}
	}
	return n
}
