package host_test

import (
	"crypto/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/testenv"
)

func randomFile(t *testing.T, size int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "data.bin")
	b := make([]byte, size)
	rand.Read(b)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitFor polls cond under a deadline: the host is another process, with nothing to
// synchronise on but what it does.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestGracefulStopLetsTransfersFinish stops the host with SIGTERM during a send: the send
// finishes within the grace period, and no new connection is accepted meanwhile.
func TestGracefulStopLetsTransfersFinish(t *testing.T) {
	t.Parallel()
	h := testenv.StartHost(t, "[limits]\nshutdown_grace = \"60s\"\n")
	src := randomFile(t, 256<<20)
	cmd := exec.Command(h.Bin, "send", "admin@"+h.Send, src, "--known-hosts", filepath.Join(t.TempDir(), "kh"))
	cmd.Env = append(os.Environ(), "BUKTU_PASSWORD="+h.AdminPassword)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	partials := filepath.Join(h.DataDir, "inbox", ".buktu-partial")
	waitFor(t, "the send to start", func() bool { return partialSize(partials) > 16<<20 })
	h.Signal(syscall.SIGTERM)
	waitFor(t, "the host to stop listening", func() bool {
		c, err := net.DialTimeout("tcp", h.Send, time.Second)
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the send failed although the host had a grace period: %v\n%s", err, out.String())
	}
	<-h.Exited()
	fi, err := os.Stat(filepath.Join(h.DataDir, "inbox", "admin", "data.bin"))
	if err != nil || fi.Size() != 256<<20 {
		t.Fatalf("after the graceful stop the inbox has %v, %v; want the whole file", fi, err)
	}
}

// TestOnReceiveHook runs the configured command for every file that arrives.
func TestOnReceiveHook(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := filepath.Join(dir, "hook.sh")
	record := filepath.Join(dir, "record")
	os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s %s %s %s\\n' \"$BUKTU_SENDER\" \"$BUKTU_SIZE\" \"$BUKTU_SHA256\" \"$1\" >> "+record+"\n"), 0o755)
	h := testenv.StartHost(t, "[hooks]\non_receive = \""+script+"\"\n")
	src := filepath.Join(dir, "hello.txt")
	os.WriteFile(src, []byte("hello"), 0o644)
	_, errOut, code := h.Buktu(t, "", []string{"BUKTU_PASSWORD=" + h.AdminPassword}, "send", "admin@"+h.Send, src, "--known-hosts", filepath.Join(dir, "kh"))
	if code != 0 {
		t.Fatalf("send failed: %s", errOut)
	}
	waitFor(t, "the hook to run", func() bool { b, _ := os.ReadFile(record); return len(b) > 0 })
	b, _ := os.ReadFile(record)
	want := "admin 5 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824 " + filepath.Join(h.DataDir, "inbox", "admin", "hello.txt") + "\n"
	if string(b) != want {
		t.Errorf("the hook recorded %q; want %q", b, want)
	}
}

// TestFirstRun checks what a first run creates and prints, and that a second run reuses it.
func TestFirstRun(t *testing.T) {
	t.Parallel()
	h := testenv.StartHost(t, "")
	if len(h.AdminPassword) < 20 {
		t.Errorf("admin password %q is too short", h.AdminPassword)
	}
	for _, f := range []string{"tls.crt", "tls.key", "ssh_host_ed25519_key", "accounts.json", "activity.log", "buktu.toml", "inbox", "exchange"} {
		if _, err := os.Stat(filepath.Join(h.DataDir, f)); err != nil {
			t.Errorf("the first run did not create %s: %v", f, err)
		}
	}
	out := h.Stdout()
	for _, s := range []string{"ssh host key    SHA256:", "tls certificate sha256/"} {
		if !strings.Contains(out, s) {
			t.Errorf("serve did not print %q:\n%s", s, out)
		}
	}
	idOut, _, code := h.Buktu(t, "", nil, "id", "--data", h.DataDir)
	if code != 0 || !strings.Contains(out, strings.Split(idOut, "\n")[0]) {
		t.Errorf("buktu id printed %q, which serve did not:\n%s", idOut, out)
	}
	h.Stop()
	h.Start(t)
	if strings.Contains(h.Stdout(), "admin password") {
		t.Errorf("the second run printed an admin password again")
	}
	if !strings.Contains(h.Stdout(), strings.Split(idOut, "\n")[0]) {
		t.Errorf("the second run has another SSH key:\n%s", h.Stdout())
	}
}
