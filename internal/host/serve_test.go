package host_test

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
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
	if code := h.ExitCode(); code != 0 || strings.Contains(h.Stderr(), "buktu: ") {
		t.Errorf("buktu serve stopped by SIGTERM: exit status %d; want 0 and no error line\n%s", code, h.Stderr())
	}
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

// TestGracefulStopFinishesPut stops the host with SIGTERM during a `buktu put` to the
// exchange: the file is stored within the grace period, and the client is told so. It must
// neither report the file as failed nor send it again.
func TestGracefulStopFinishesPut(t *testing.T) {
	t.Parallel()
	h := testenv.StartHost(t, "[limits]\nshutdown_grace = \"60s\"\n")
	src := randomFile(t, 256<<20)
	cmd := exec.Command(h.Bin, "put", src, "admin@"+h.Exchange+":", "--known-hosts", filepath.Join(t.TempDir(), "kh"))
	cmd.Env = append(os.Environ(), "BUKTU_PASSWORD="+h.AdminPassword)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	partials := filepath.Join(h.DataDir, "exchange", ".buktu-partial")
	waitFor(t, "the put to start", func() bool { return partialSize(partials) > 40<<20 })
	h.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	<-h.Exited()
	if err != nil {
		t.Fatalf("the put failed although the host had a grace period: %v\n%s\nhost:\n%s", err, out.String(), h.Stderr())
	}
	if strings.Contains(out.String(), "fail") || strings.Contains(out.String(), "again") {
		t.Errorf("the put reported trouble although the file was stored:\n%s", out.String())
	}
	fi, err := os.Stat(filepath.Join(h.DataDir, "exchange", "data.bin"))
	if err != nil || fi.Size() != 256<<20 {
		t.Fatalf("after the graceful stop the exchange has %v, %v; want the whole file", fi, err)
	}
	if code := h.ExitCode(); code != 0 {
		t.Errorf("buktu serve stopped by SIGTERM: exit status %d; want 0\n%s", code, h.Stderr())
	}
}

// pacedReader yields n bytes of zeros, a chunk at each tick: an upload that takes as long as
// a slow link makes it.
type pacedReader struct {
	left  int64
	chunk int
	tick  *time.Ticker
	buf   []byte
}

func (p *pacedReader) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	if len(p.buf) == 0 {
		<-p.tick.C
		p.buf = make([]byte, min(int64(p.chunk), p.left))
	}
	n := copy(b, p.buf)
	p.buf, p.left = p.buf[n:], p.left-int64(n)
	return n, nil
}

// TestGracefulStopFinishesConsoleUpload stops the host with SIGTERM while a browser's upload
// to the exchange is under way, slower than the console's old fixed 5 s: with a shutdown_grace
// of 60 s it is stored whole and answered.
func TestGracefulStopFinishesConsoleUpload(t *testing.T) {
	t.Parallel()
	h := startScreenHostOn(t, startDisplay(t, 320, 240), "[limits]\nshutdown_grace = \"60s\"\n")
	const pw = "uploader-password-1"
	h.AddAccount(t, "up", pw, "exchange:read", "exchange:write", "observe")
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: h.ScreenTLS(t)}}
	base := "https://" + h.Control
	resp, err := hc.Post(base+"/api/v1/login", "application/json", strings.NewReader(`{"account":"up","password":"`+pw+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var login struct{ CSRF string }
	json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("console login: %s", resp.Status)
	}
	const size = 64 << 20
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	body := &pacedReader{left: size, chunk: 1 << 20, tick: tick} // 6.4 s in all
	req, _ := http.NewRequest("PUT", base+"/api/v1/exchange/file?path=slow.bin", body)
	req.Header.Set("X-CSRF-Token", login.CSRF)
	req.ContentLength = size
	answered := make(chan *http.Response, 1)
	go func() {
		resp, err := hc.Do(req)
		if err != nil {
			t.Errorf("the upload failed although the host had a grace period: %v", err)
		}
		answered <- resp
	}()
	partials := filepath.Join(h.DataDir, "exchange", ".buktu-partial")
	waitFor(t, "the upload to start", func() bool { return partialSize(partials) > 0 || body.left < size-(4<<20) })
	h.Signal(syscall.SIGTERM)
	resp = <-answered
	if resp == nil {
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("the upload during the grace period: %s; want 201 Created", resp.Status)
	}
	<-h.Exited()
	if fi, err := os.Stat(filepath.Join(h.DataDir, "exchange", "slow.bin")); err != nil || fi.Size() != size {
		t.Errorf("after the graceful stop the exchange has %v, %v; want the whole file", fi, err)
	}
}
