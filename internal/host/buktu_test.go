package host_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/testenv"
)

// client runs buktu as a client of a host, with a known hosts file of its own.
type client struct {
	w  *world
	kh string
}

func newClient(t *testing.T, w *world) client {
	t.Helper()
	return client{w: w, kh: filepath.Join(t.TempDir(), "known_hosts")}
}

// run runs buktu with args, logging in with password (none when "") or with the key file
// given as -i in args.
func (c client) run(t *testing.T, password string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return c.w.h.Buktu(t, "", testenv.ClientEnv(t, password), append(args, "--known-hosts", c.kh)...)
}

// must runs buktu and fails the test unless it exits 0.
func (c client) must(t *testing.T, password string, args ...string) (stdout, stderr string) {
	t.Helper()
	out, errOut, code := c.run(t, password, args...)
	if code != 0 {
		t.Fatalf("buktu %s: exit code %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out, errOut
}

// fails runs buktu and fails the test unless it exits 1 with a message containing want.
func (c client) fails(t *testing.T, password, want string, args ...string) {
	t.Helper()
	out, errOut, code := c.run(t, password, args...)
	if code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("buktu %s: exit code %d, stderr:\n%s\nwant exit code 1 and %q (stdout:\n%s)", strings.Join(args, " "), code, errOut, want, out)
	}
}

func TestBuktuSend(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	alice := w.user(t, "alice", everything...)
	c := newClient(t, w)
	to := "alice@" + w.h.Send

	p := newPayload(t)
	_, errOut := c.must(t, alice.password, "send", to, p.path("one.bin"), p.path("tree"), "--note", "the files for Monday")
	p.check(t, w.inbox("alice", ""))
	if !strings.Contains(errOut, "first connection to "+w.h.Send) {
		t.Errorf("the first connection did not say it pinned the host's key:\n%s", errOut)
	}
	m := regexp.MustCompile(`note stored as (note-\S+\.txt)`).FindStringSubmatch(errOut)
	if m == nil {
		t.Fatalf("buktu send --note did not say where the note is:\n%s", errOut)
	}
	note, err := os.ReadFile(w.inbox("alice", m[1]))
	if err != nil {
		t.Fatalf("the note is not in the inbox: %v", err)
	}
	for _, want := range []string{"From: alice", "one.bin", "the files for Monday"} {
		if !strings.Contains(string(note), want) {
			t.Errorf("the note lacks %q:\n%s", want, note)
		}
	}

	t.Run("same name again", func(t *testing.T) {
		// The same file again, then another file of that name, logging in with the key: every
		// one is kept, under a name of its own.
		c.must(t, alice.password, "send", to, p.path("one.bin"))
		other := filepath.Join(t.TempDir(), "one.bin")
		again := writeRandom(t, other, 4096)
		c.must(t, "", "send", "-i", alice.keyFile, to, other)
		sameFile(t, w.inbox("alice", "one.bin"), p.one)
		sameFile(t, w.inbox("alice", "one (2).bin"), p.one)
		sameFile(t, w.inbox("alice", "one (3).bin"), again)
	})
	t.Run("missing file", func(t *testing.T) {
		c.fails(t, alice.password, "buktu:", "send", to, filepath.Join(t.TempDir(), "nothing.bin"))
	})
	t.Run("wrong password", func(t *testing.T) {
		c.fails(t, "not the password", "wrong password or key", "send", to, p.path("one.bin"))
	})
	t.Run("exchange port", func(t *testing.T) {
		c.fails(t, alice.password, "not its send port", "send", "alice@"+w.h.Exchange, p.path("one.bin"))
	})
}

func TestBuktuExchange(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	alice := w.user(t, "alice", everything...)
	c := newClient(t, w)
	at := func(path string) string { return "alice@" + w.h.Exchange + ":" + path }

	p := newPayload(t)
	out, _ := c.must(t, alice.password, "mkdir", "-p", at("proj/2026"))
	if !strings.Contains(out, "made proj/2026") {
		t.Errorf("buktu mkdir printed %q", out)
	}
	c.must(t, alice.password, "put", p.path("one.bin"), p.path("tree"), at("proj/2026"))
	p.check(t, w.exchange("proj/2026"))

	out, _ = c.must(t, alice.password, "ls", at("proj/2026"))
	if got := strings.Fields(out); strings.Join(got, " ") != "one.bin tree/" {
		t.Errorf("buktu ls printed %q; want one.bin and tree/", out)
	}
	back := t.TempDir()
	c.must(t, alice.password, "get", at("proj/2026/one.bin"), at("proj/2026/tree"), back)
	p.check(t, back)

	// The same with the key, and a file of the same name: put replaces it (alice may delete).
	q := newPayload(t)
	c.must(t, "", "put", "-i", alice.keyFile, q.path("one.bin"), at("proj/2026"))
	sameFile(t, w.exchange("proj/2026/one.bin"), q.one)
	back = t.TempDir()
	c.must(t, "", "get", "-i", alice.keyFile, at("proj/2026/one.bin"), back)
	sameFile(t, filepath.Join(back, "one.bin"), q.one)

	c.must(t, alice.password, "rm", at("proj/2026/one.bin"))
	absent(t, w.exchange("proj/2026/one.bin"))
	c.fails(t, alice.password, "nothing.bin", "rm", at("proj/nothing.bin"))
	c.fails(t, alice.password, "", "rm", at("proj"))
	c.must(t, alice.password, "rm", "-r", at("proj"))
	absent(t, w.exchange("proj"))
	c.fails(t, alice.password, "not its exchange port", "put", p.path("one.bin"), "alice@"+w.h.Send+":")
}

// TestTrustOnFirstUse pins a host's key on the first connection and refuses another key at
// the same address, loudly, until the user forgets the pinned one.
func TestTrustOnFirstUse(t *testing.T) {
	t.Parallel()
	first, second := newWorld(t), newWorld(t)
	a := first.user(t, "alice", "send")
	b := second.user(t, "alice", "send")
	c := newClient(t, first)
	file := filepath.Join(t.TempDir(), "hello.txt")
	hello := writeRandom(t, file, 100)

	_, errOut := c.must(t, a.password, "send", "alice@"+first.h.Send, file)
	firstKey := hostKey(t, first)
	if !strings.Contains(errOut, firstKey) {
		t.Errorf("the first connection did not show the key %s:\n%s", firstKey, errOut)
	}
	// Make the file say that the second host's address has the first host's key, as if
	// someone else now answered there.
	kh, err := os.ReadFile(c.kh)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(kh)), "\n")
	if len(lines) != 1 {
		t.Fatalf("known hosts after one connection:\n%s", kh)
	}
	firstAddr, secondAddr := "[127.0.0.1]:"+portOf(first.h.Send), "[127.0.0.1]:"+portOf(second.h.Send)
	if !strings.HasPrefix(lines[0], firstAddr+" ") {
		t.Fatalf("the pinned line does not name %s: %s", firstAddr, lines[0])
	}
	forged := strings.Replace(lines[0], firstAddr, secondAddr, 1)
	if err := os.WriteFile(c.kh, []byte(lines[0]+"\n"+forged+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	out, errOut, code := c.run(t, b.password, "send", "alice@"+second.h.Send, file)
	secondKey := hostKey(t, second)
	for _, want := range []string{firstKey, secondKey, "buktu forget 127.0.0.1:" + portOf(second.h.Send)} {
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("buktu send to a host with another key: exit code %d, stderr:\n%s\nwant exit code 1 and %q (stdout %q)", code, errOut, want, out)
		}
	}
	absent(t, second.inbox("alice", "hello.txt"))

	out, _ = c.must(t, "", "forget", "127.0.0.1:"+portOf(second.h.Send))
	if !strings.Contains(out, "forgot 1 key") {
		t.Errorf("buktu forget printed %q", out)
	}
	_, errOut = c.must(t, b.password, "send", "alice@"+second.h.Send, file)
	if !strings.Contains(errOut, secondKey) {
		t.Errorf("the connection after forget did not pin the new key %s:\n%s", secondKey, errOut)
	}
	sameFile(t, second.inbox("alice", "hello.txt"), hello)
	// The first host is still pinned, and still trusted.
	_, errOut = c.must(t, a.password, "send", "alice@"+first.h.Send, file)
	if strings.Contains(errOut, "first connection") {
		t.Errorf("the first host was pinned anew:\n%s", errOut)
	}
}

// hostKey returns the SSH host key fingerprint that `buktu id` prints for w's host.
func hostKey(t *testing.T, w *world) string {
	t.Helper()
	out, _, code := w.h.Buktu(t, "", nil, "id", "--data", w.data)
	m := regexp.MustCompile(`ssh host key\s+(SHA256:\S+)`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("buktu id: exit code %d, printed:\n%s", code, out)
	}
	return m[1]
}

func TestPorts(t *testing.T) {
	t.Parallel()
	h := testenv.StartHost(t, "")
	port := portOf(h.Send)
	out, errOut, code := h.Buktu(t, "", nil, "ports", port)
	want := fmt.Sprintf("pid %d buktu", h.PID())
	if code != 0 || !strings.Contains(out, "LISTENING") || !strings.Contains(out, want) {
		t.Errorf("buktu ports %s: exit code %d\n%s%s\nwant LISTENING and %q", port, code, out, errOut, want)
	}

	out, errOut, code = h.Buktu(t, "", nil, "ports", "22", "443", "5900", port, "--json")
	var got struct {
		Ports []struct {
			Port      int    `json:"port"`
			Status    string `json:"status"`
			Listeners []struct {
				PID     int    `json:"pid"`
				Process string `json:"process"`
			} `json:"listeners"`
		} `json:"ports"`
	}
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil {
		t.Fatalf("buktu ports --json: exit code %d, %v\n%s%s", code, err, out, errOut)
	}
	var ports []string
	for _, p := range got.Ports {
		ports = append(ports, strconv.Itoa(p.Port))
	}
	if strings.Join(ports, " ") != "22 443 5900 "+port {
		t.Errorf("buktu ports --json reported ports %v; want 22 443 5900 %s", ports, port)
	}
	if n := len(got.Ports); n == 4 {
		last := got.Ports[3]
		if last.Status != "listening" || len(last.Listeners) == 0 || last.Listeners[0].PID != h.PID() || last.Listeners[0].Process != "buktu" {
			t.Errorf("buktu ports --json on the send port: %+v; want listening by pid %d, buktu", last, h.PID())
		}
	}
}

// TestSecondServeRefused starts a second host on a data directory in use: it must stop at
// once, naming the running host's pid.
func TestSecondServeRefused(t *testing.T) {
	t.Parallel()
	h := testenv.StartHost(t, "")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.Bin, "serve", "--data", h.DataDir)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("a second buktu serve on the same data directory kept running\nstdout:\n%s", &stdout)
	}
	want := fmt.Sprintf("pid %d", h.PID())
	if err == nil || !strings.HasPrefix(stderr.String(), "buktu: ") || !strings.Contains(stderr.String(), want) {
		t.Errorf("a second buktu serve: %v, stderr:\n%s\nwant a non-zero exit and a message naming %q", err, &stderr, want)
	}
	if strings.Contains(stdout.String(), "admin password") {
		t.Errorf("the second buktu serve printed an admin password:\n%s", &stdout)
	}
}
