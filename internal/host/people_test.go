package host_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/events"
	"github.com/buktu/buktu/internal/rfb"
	"github.com/buktu/buktu/internal/testenv"
)

// waitingID polls `buktu approve` on the host until someone waits, and returns the first
// request's ID.
func waitingID(t *testing.T, h *testenv.Host, account string) string {
	t.Helper()
	var id string
	pollUntil(t, "a request waiting in buktu approve", func() bool {
		out, _, code := h.Buktu(t, "", nil, "approve", "--data", h.DataDir)
		if code != 0 {
			return false
		}
		for line := range strings.Lines(out) {
			if f := strings.Fields(line); len(f) > 2 && f[1] == account {
				id = f[0]
				return true
			}
		}
		return false
	})
	return id
}

// TestAskSend is ask-for-permission on the Send port: an sftp upload of an account whose
// send is "ask" waits until the person at the host approves with `buktu approve`, then
// lands; a second one is refused with `buktu deny`; the log says who decided what.
func TestAskSend(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "sftp")
	h := testenv.StartHost(t, "")
	h.AddAccount(t, "ann", "ann-password-1", "send=ask")
	src := filepath.Join(t.TempDir(), "note.txt")
	if err := os.WriteFile(src, []byte("hello from ann\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	acct := testenv.Account{User: "ann", Password: "ann-password-1"}

	type result struct {
		out  string
		code int
	}
	put := func() <-chan result {
		done := make(chan result, 1)
		go func() {
			out, code := testenv.SFTP(t, h.Send, acct, "put "+src+"\n")
			done <- result{out, code}
		}()
		return done
	}
	first := put()
	id := waitingID(t, h, "ann")
	select {
	case r := <-first:
		t.Fatalf("sftp finished (exit %d) before the person at the host answered:\n%s", r.code, r.out)
	default:
	}
	if out, errOut, code := h.Buktu(t, "", nil, "approve", id, "--data", h.DataDir); code != 0 || !strings.Contains(out, "approved "+id) {
		t.Fatalf("buktu approve %s: exit %d\n%s%s", id, code, out, errOut)
	}
	if r := <-first; r.code != 0 {
		t.Fatalf("sftp put after the approval: exit %d\n%s", r.code, r.out)
	}
	if b, err := os.ReadFile(filepath.Join(h.DataDir, "inbox", "ann", "note.txt")); err != nil || string(b) != "hello from ann\n" {
		t.Fatalf("the approved upload in the inbox: %q, %v", b, err)
	}

	second := put()
	id = waitingID(t, h, "ann")
	if _, _, code := h.Buktu(t, "", nil, "deny", id, "--data", h.DataDir); code != 0 {
		t.Fatalf("buktu deny %s: exit %d", id, code)
	}
	if r := <-second; r.code == 0 {
		t.Fatalf("sftp succeeded after the person at the host said no:\n%s", r.out)
	}
	if _, errOut, code := h.Buktu(t, "", nil, "deny", id, "--data", h.DataDir); code == 0 || !strings.Contains(errOut, "no request") {
		t.Errorf("buktu deny of a request already answered: exit %d, %q; want a clear refusal", code, errOut)
	}
	var yes, no bool
	for _, r := range h.Records(t, "--kind", events.KindDecision, "--account", "ann") {
		yes = yes || r.Outcome == events.OutcomeOK && r.Reason == "the person at the host said yes"
		no = no || r.Outcome == events.OutcomeDenied && r.Reason == "the person at the host said no"
	}
	if !yes || !no {
		t.Errorf("activity log: approval logged %v, refusal logged %v; want both", yes, no)
	}
	if !strings.Contains(h.Stdout(), "ann from") || !strings.Contains(h.Stdout(), "buktu approve") {
		t.Errorf("the host's output never told its user that ann waits:\n%s", h.Stdout())
	}
}

// TestAskControl is ask-for-permission on the screen: a VNC login of an account whose control
// is "ask" waits in the handshake until the person at the host approves, and then has input.
func TestAskControl(t *testing.T) {
	t.Parallel()
	d := startDisplay(t, 320, 240)
	h := startScreenHostOn(t, d, "")
	h.AddAccount(t, "bob", "bob-password-1", "control=ask", "observe=deny")
	type dialed struct {
		v   *viewer
		err error
	}
	done := make(chan dialed, 1)
	go func() {
		v, err := tryViewer(t, h, h.Control, "bob", "bob-password-1", rfb.ClientOptions{})
		done <- dialed{v, err}
	}()
	id := waitingID(t, h, "bob")
	if _, _, code := h.Buktu(t, "", nil, "approve", id, "--data", h.DataDir); code != 0 {
		t.Fatalf("buktu approve %s: exit %d", id, code)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("VNC login after the approval: %v", r.err)
	}
	defer r.v.Close()
	var granted bool
	for _, rec := range h.Records(t, "--kind", events.KindDecision, "--account", "bob") {
		granted = granted || rec.Privilege == "control" && rec.Outcome == events.OutcomeOK
	}
	if !granted {
		t.Error("no record of control granted to bob")
	}

	// Refused control is not asked again as watching: the login fails at once.
	go func() {
		v, err := tryViewer(t, h, h.Control, "bob", "bob-password-1", rfb.ClientOptions{})
		done <- dialed{v, err}
	}()
	id = waitingID(t, h, "bob")
	if _, _, code := h.Buktu(t, "", nil, "deny", id, "--data", h.DataDir); code != 0 {
		t.Fatalf("buktu deny %s: exit %d", id, code)
	}
	if r := <-done; r.err == nil {
		r.v.Close()
		t.Fatal("VNC login succeeded after the person at the host said no")
	}
	if out, _, _ := h.Buktu(t, "", nil, "approve", "--data", h.DataDir); !strings.Contains(out, "nobody is waiting") {
		t.Errorf("after a refused control, buktu approve lists:\n%s\nwant nobody: the same person was asked again", out)
	}
}

// TestChatWhoNotify drives the person-to-person services from the CLI against a running host:
// a chat line goes into the transcript and comes back in `buktu chat HOST` (interactive);
// `buktu who` lists the sessions; `buktu notify` returns once someone uses the host's own
// keyboard (xdotool), not before.
func TestChatWhoNotify(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "xdotool")
	d := startDisplay(t, 320, 240)
	h := startScreenHostOn(t, d, "")
	env := testenv.ClientEnv(t, h.AdminPassword)
	target := "admin@" + h.Control

	if out, errOut, code := h.Buktu(t, "", env, "chat", target, "hello from the test"); code != 0 {
		t.Fatalf("buktu chat: exit %d\n%s%s", code, out, errOut)
	}
	b, err := os.ReadFile(filepath.Join(h.DataDir, "chat.log"))
	if err != nil || !bytes.Contains(b, []byte("hello from the test")) {
		t.Fatalf("chat transcript: %q, %v", b, err)
	}

	// Interactive: the transcript so far, then a line typed on stdin goes out.
	ctx, cancel := context.WithTimeout(t.Context(), screenWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.Binary(t), "chat", target)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader("second line\n")
	out, err := cmd.CombinedOutput()
	if !strings.Contains(string(out), "admin: hello from the test") {
		t.Fatalf("interactive buktu chat did not show the transcript (%v):\n%s", err, out)
	}
	pollUntil(t, "the typed line in the transcript", func() bool {
		b, _ := os.ReadFile(filepath.Join(h.DataDir, "chat.log"))
		return bytes.Contains(b, []byte("second line"))
	})

	v := dialViewer(t, h, h.Observe, "admin", h.AdminPassword, rfb.ClientOptions{})
	defer v.Close()
	who, errOut, code := h.Buktu(t, "", env, "who", target)
	if code != 0 || !strings.Contains(who, "observe") || !strings.Contains(who, "console") {
		t.Fatalf("buktu who: exit %d; want the VNC viewer and the console session\n%s%s", code, who, errOut)
	}

	notified := make(chan string, 1)
	go func() {
		out, errOut, _ := h.Buktu(t, "", env, "notify", target, "--timeout", "1m")
		notified <- out + errOut
	}()
	pollUntil(t, "buktu notify to be waiting", func() bool {
		for _, r := range h.Records(t, "--account", "admin") {
			if r.Kind == events.KindSessionStart && r.Service == "console" {
				return true
			}
		}
		return false
	})
	select {
	case out := <-notified:
		t.Fatalf("buktu notify returned while nobody was at the host:\n%s", out)
	case <-time.After(time.Second): // nobody types: it must keep waiting
	}
	xdo := exec.CommandContext(ctx, "xdotool", "mousemove", "10", "10")
	xdo.Env = append(os.Environ(), "DISPLAY="+d.Display(), "XAUTHORITY="+d.Authority())
	if out, err := xdo.CombinedOutput(); err != nil {
		t.Fatalf("xdotool: %v\n%s", err, out)
	}
	select {
	case out := <-notified:
		if !strings.Contains(out, "is back") {
			t.Errorf("buktu notify printed %q; want that the person is back", out)
		}
	case <-ctx.Done():
		t.Fatal("buktu notify never noticed the host's mouse move")
	}
}

// TestNotifyAsksFirst: with console.notify = "ask", the person at the host, back at the
// keyboard, is asked whether to say so; declining makes buktu notify say so and fail.
func TestNotifyAsksFirst(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "xdotool")
	d := startDisplay(t, 320, 240)
	h := startScreenHostOn(t, d, "[console]\nnotify = \"ask\"\n")
	env := testenv.ClientEnv(t, h.AdminPassword)
	ctx, cancel := context.WithTimeout(t.Context(), screenWait)
	defer cancel()
	notified := make(chan string, 1)
	go func() {
		out, errOut, code := h.Buktu(t, "", env, "notify", "admin@"+h.Control, "--timeout", "1m")
		notified <- fmt.Sprintf("exit %d: %s%s", code, out, errOut)
	}()
	pollUntil(t, "buktu notify to be waiting", func() bool {
		for _, r := range h.Records(t, "--account", "admin") {
			if r.Kind == events.KindSessionStart && r.Service == "console" {
				return true
			}
		}
		return false
	})
	xdo := exec.CommandContext(ctx, "xdotool", "mousemove", "20", "20")
	xdo.Env = append(os.Environ(), "DISPLAY="+d.Display(), "XAUTHORITY="+d.Authority())
	if out, err := xdo.CombinedOutput(); err != nil {
		t.Fatalf("xdotool: %v\n%s", err, out)
	}
	id := waitingID(t, h, "admin")
	if !strings.Contains(h.Stdout(), "wants to know you are back") {
		t.Errorf("the host's output never asked its user:\n%s", h.Stdout())
	}
	if _, _, code := h.Buktu(t, "", nil, "deny", id, "--data", h.DataDir); code != 0 {
		t.Fatalf("buktu deny %s: exit %d", id, code)
	}
	select {
	case out := <-notified:
		if !strings.HasPrefix(out, "exit 1") || !strings.Contains(out, "would rather not be disturbed") {
			t.Errorf("buktu notify after a decline: %s; want exit 1 saying so", out)
		}
	case <-ctx.Done():
		t.Fatal("buktu notify never heard the answer")
	}
}
