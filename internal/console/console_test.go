package console

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/ask"
	"github.com/buktu/buktu/internal/identity"
)

// dial logs in to p as ann, pinning p's certificate in a new known hosts file, and logs out at
// the end.
func dial(t *testing.T, p *peer) *Client {
	t.Helper()
	c, err := Dial(t.Context(), p.addr, Options{Account: "ann", Password: "secret",
		KnownHosts: filepath.Join(t.TempDir(), "known_hosts-tls")})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Logout(context.Background()) })
	return c
}

func fingerprint(p *peer) string { return identity.CertFingerprint(p.cert.Load().Leaf.Raw) }

func TestLogin(t *testing.T) {
	p := newPeer(t)
	c := dial(t, p)
	if c.Account != "ann" || c.Service != "control" || c.Privileges["chat"] != "allow" {
		t.Errorf("Dial() = account %q, service %q, privileges %v; want ann on control with chat", c.Account, c.Service, c.Privileges)
	}
	h, err := c.Host(t.Context())
	if err != nil || h.Name != "buktu on test" || h.TLSSHA256 != fingerprint(p) || h.Screen.Width != 1920 {
		t.Errorf("Host() = %+v, %v; want buktu on test with the certificate's fingerprint", h, err)
	}
}

func TestLoginRefused(t *testing.T) {
	p := newPeer(t)
	tests := []struct {
		name, account string
		wantStatus    int
		want          string // the error's text
		wantRetry     time.Duration
	}{
		{"wrong password", "ann", 401, "log in to " + p.addr + " as ann: wrong account or password", 0},
		{"throttled", "throttled", 429, "log in to " + p.addr + " as throttled: too many failed logins (try again in 30s)", 30 * time.Second},
		{"banned", "banned", 429, "log in to " + p.addr + " as banned: too many failed logins from your address: it is blocked; try again in 900 s", 900 * time.Second},
		{"control characters", "evil", 401, "log in to " + p.addr + " as evil: [2Jwrong  account", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Dial(t.Context(), p.addr, Options{Account: tt.account, Password: "nope",
				KnownHosts: filepath.Join(t.TempDir(), "known_hosts-tls")})
			e, ok := errors.AsType[*Error](err)
			if !ok || e.Status != tt.wantStatus || e.RetryAfter != tt.wantRetry || err.Error() != tt.want {
				t.Errorf("Dial() = %v; want %q (status %d)", err, tt.want, tt.wantStatus)
			}
		})
	}
}

func TestDialErrors(t *testing.T) {
	kh := filepath.Join(t.TempDir(), "known_hosts-tls")
	tests := []struct {
		name, addr string
		o          Options
	}{
		{"no port", "localhost", Options{KnownHosts: kh}},
		{"no way to trust", "127.0.0.1:1", Options{}},
		{"nothing listening", "127.0.0.1:1", Options{KnownHosts: kh}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c, err := Dial(t.Context(), tt.addr, tt.o); err == nil {
				c.Logout(t.Context())
				t.Errorf("Dial(%q) succeeded; want an error", tt.addr)
			}
		})
	}
}

func TestPinning(t *testing.T) {
	p := newPeer(t)
	kh := filepath.Join(t.TempDir(), "config", "buktu", "known_hosts-tls")
	first := fingerprint(p)
	var asked []string
	accept := func(answer bool) func(string) bool {
		return func(fp string) bool { asked = append(asked, fp); return answer }
	}

	// First use, not accepted: nothing is pinned.
	_, err := Dial(t.Context(), p.addr, Options{Account: "ann", Password: "secret", KnownHosts: kh, Accept: accept(false)})
	if ce, ok := errors.AsType[*identity.CertError](err); !ok || ce.Shown != first || errors.Is(err, identity.ErrCertChanged) {
		t.Errorf("Dial() refusing the certificate = %v; want a CertError for %s", err, first)
	}
	if _, err := os.Stat(kh); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused certificate was written to the known hosts file: %v", err)
	}

	// First use, accepted: pinned in the CLI's format.
	c, err := Dial(t.Context(), p.addr, Options{Account: "ann", Password: "secret", KnownHosts: kh, Accept: accept(true)})
	if err != nil {
		t.Fatalf("Dial() accepting the certificate: %v", err)
	}
	defer c.Logout(context.Background())
	if !slices.Equal(asked, []string{first, first}) {
		t.Errorf("Accept was asked about %v; want %s twice", asked, first)
	}
	b, err := os.ReadFile(kh)
	if want := p.addr + " " + first + "\n"; err != nil || string(b) != want {
		t.Errorf("known hosts file = %q, %v; want %q", b, err, want)
	}

	// Known: not asked again.
	asked = nil
	again, err := Dial(t.Context(), p.addr, Options{Account: "ann", Password: "secret", KnownHosts: kh, Accept: accept(false)})
	if err != nil || len(asked) != 0 {
		t.Fatalf("Dial() to a pinned host = %v, asked %v; want it trusted without asking", err, asked)
	}
	defer again.Logout(context.Background())

	// Changed: refused, by a new client and by a new connection of a logged-in one.
	p.cert.Store(newCert(t))
	_, err = Dial(t.Context(), p.addr, Options{Account: "ann", Password: "secret", KnownHosts: kh, Accept: accept(true)})
	ce, ok := errors.AsType[*identity.CertError](err)
	want := "the certificate of " + p.addr + " has changed: pinned " + first + ", shown now " + fingerprint(p)
	if !ok || !errors.Is(err, identity.ErrCertChanged) || ce.File != kh || err.Error() != want {
		t.Errorf("Dial() to a changed certificate = %v; want %q", err, want)
	}
	if len(asked) != 0 {
		t.Errorf("Accept was asked about a changed certificate: %v", asked)
	}
	c.http.CloseIdleConnections()
	if _, err := c.Sessions(t.Context()); !errors.Is(err, identity.ErrCertChanged) {
		t.Errorf("Sessions() on a new connection to a changed certificate = %v; want identity.ErrCertChanged", err)
	}
}

func TestPinsFile(t *testing.T) {
	p := newPeer(t)
	tests := []struct {
		name, file string
		wantErr    bool
	}{
		{"other hosts", "192.0.2.1:1417 sha256/00\n[::1]:1417 sha256/11\n", false},
		{"later line wins", p.addr + " sha256/00\n" + p.addr + " " + fingerprint(p) + "\n", false},
		{"wrong pin", p.addr + " " + fingerprint(p) + "\n" + p.addr + " sha256/00\n", true},
		{"no final newline", p.addr + " sha256/00", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kh := filepath.Join(t.TempDir(), "known_hosts-tls")
			if err := os.WriteFile(kh, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := Dial(t.Context(), p.addr, Options{Account: "ann", Password: "secret", KnownHosts: kh})
			if err == nil {
				c.Logout(t.Context())
			}
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, identity.ErrCertChanged)) {
				t.Errorf("Dial() with known hosts %q = %v; want error %v", tt.file, err, tt.wantErr)
			}
		})
	}
}

func TestNoKnownHostsFile(t *testing.T) {
	p := newPeer(t)
	n := 0
	c, err := Dial(t.Context(), p.addr, Options{Account: "ann", Password: "secret",
		Accept: func(string) bool { n++; return true }})
	if err != nil {
		t.Fatalf("Dial() without a known hosts file: %v", err)
	}
	defer c.Logout(t.Context())
	c.http.CloseIdleConnections()
	if _, err := c.Sessions(t.Context()); err != nil || n != 1 {
		t.Errorf("Sessions() on a new connection = %v, Accept asked %d times; want once", err, n)
	}
}

func TestChat(t *testing.T) {
	p := newPeer(t)
	c := dial(t, p)
	if err := c.Chat(t.Context(), "  hello there "); err != nil {
		t.Fatalf("Chat: %v", err)
	}
	err := c.Chat(t.Context(), " ")
	if e, ok := errors.AsType[*Error](err); !ok || e.Status != 400 || err.Error() != "send chat message: bad chat message: it is empty" {
		t.Errorf("Chat(blank) = %v; want the host's 400", err)
	}
	ms, err := c.Transcript(t.Context())
	if err != nil || len(ms) != 1 || ms[0].Seq != 1 || ms[0].From != "ann" || ms[0].Text != "hello there" || ms[0].Time.IsZero() {
		t.Errorf("Transcript() = %+v, %v; want message 1 from ann", ms, err)
	}
}

func TestCSRF(t *testing.T) {
	p := newPeer(t)
	c := dial(t, p)
	good := c.csrf
	c.csrf = "wrong"
	err := c.Chat(t.Context(), "hi")
	if e, ok := errors.AsType[*Error](err); !ok || e.Status != 403 || e.Text != "missing or wrong CSRF token" {
		t.Errorf("Chat() with a wrong CSRF token = %v; want the host's 403", err)
	}
	if _, err := c.Transcript(t.Context()); err != nil {
		t.Errorf("Transcript() (a GET) with a wrong CSRF token = %v; want no need for one", err)
	}
	c.csrf = good
	if err := c.Chat(t.Context(), "hi"); err != nil {
		t.Errorf("Chat() with the right token = %v", err)
	}
}

func TestEvents(t *testing.T) {
	p := newPeer(t)
	c := dial(t, p)
	evs, next, err := c.Events(t.Context(), 0)
	if err != nil || len(evs) != 0 || next != 2 { // the login made event 1
		t.Fatalf("Events(0) = %v, %d, %v; want no events and cursor 2", evs, next, err)
	}
	if err := c.Chat(t.Context(), "hi"); err != nil {
		t.Fatal(err)
	}
	evs, next, err = c.Events(t.Context(), next)
	if err != nil || len(evs) != 1 || next != 3 {
		t.Fatalf("Events(2) = %+v, %d, %v; want one event and cursor 3", evs, next, err)
	}
	if ev := evs[0]; ev.Seq != 2 || ev.Type != EventChat || ev.From != "ann" || ev.Text != "hi" || ev.Time.IsZero() {
		t.Errorf("Events(2) = %+v; want the chat message from ann", ev)
	}

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() {
		_, _, err := c.Events(ctx, next)
		done <- err
	}()
	// The peer saw the polls from 0 and 2; the one from 3 is the goroutine's, now waiting.
	for after := range p.polls {
		if after == next {
			break
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Events() after cancel = %v; want context.Canceled", err)
	}
}

func TestNotify(t *testing.T) {
	p := newPeer(t)
	c := dial(t, p)
	done := make(chan error, 1)
	go func() { done <- c.Notify(t.Context()) }()
	<-p.notifyAsked
	chatSeq := p.emit(Event{Type: EventChat, From: "host", Text: "one moment"})
	// Wait until Notify has seen the chat event and polls again: it must still wait.
	for after := range p.polls {
		if after > chatSeq {
			break
		}
	}
	select {
	case err := <-done:
		t.Fatalf("Notify() = %v before the notify event", err)
	default:
	}
	p.emit(Event{Type: EventNotify, Text: "the person at the host is back", Approved: true})
	if err := <-done; err != nil {
		t.Errorf("Notify() = %v", err)
	}

	// Asked first, the person at the host may decline: Notify says so.
	go func() { done <- c.Notify(t.Context()) }()
	<-p.notifyAsked
	p.emit(Event{Type: EventNotify, Text: "the person at the host is back, but would rather not be disturbed now"})
	if err := <-done; !errors.Is(err, ErrDeclined) {
		t.Errorf("Notify() after a decline = %v; want ErrDeclined", err)
	}
}

func TestSessions(t *testing.T) {
	p := newPeer(t)
	c := dial(t, p)
	ss, err := c.Sessions(t.Context())
	if err != nil || len(ss) != 1 || ss[0].ID != "s1" || ss[0].Account != "ann" || ss[0].Service != "console" || ss[0].Since.IsZero() {
		t.Fatalf("Sessions() = %+v, %v; want ann's console session s1", ss, err)
	}
	if err := c.Disconnect(t.Context(), "s1"); err != nil {
		t.Errorf("Disconnect(s1) = %v", err)
	}
	err = c.Disconnect(t.Context(), "s1")
	if e, ok := errors.AsType[*Error](err); !ok || e.Status != 404 || !strings.HasSuffix(err.Error(), ": no such session") {
		t.Errorf("Disconnect(s1) again = %v; want the host's 404", err)
	}
	if ss, err := c.Sessions(t.Context()); err != nil || len(ss) != 0 {
		t.Errorf("Sessions() after Disconnect = %+v, %v; want none", ss, err)
	}
}

func TestApprovals(t *testing.T) {
	tests := []struct {
		name    string
		approve bool
	}{
		{"approve", true},
		{"deny", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPeer(t)
			c := dial(t, p)
			changed := p.queue.Changed()
			answer := make(chan bool, 1)
			go func() {
				ok, _ := p.queue.Ask(t.Context(), ask.Request{Account: "bob", Privilege: "control", Remote: "192.0.2.7:4000", Service: "control"})
				answer <- ok
			}()
			<-changed
			rs, err := c.Approvals(t.Context())
			if err != nil || len(rs) != 1 || rs[0].ID != "a1" || rs[0].Account != "bob" || rs[0].Privilege != "control" || rs[0].Time.IsZero() {
				t.Fatalf("Approvals() = %+v, %v; want bob's request a1", rs, err)
			}
			if err := c.Decide(t.Context(), "a1", tt.approve); err != nil {
				t.Fatalf("Decide(a1, %v) = %v", tt.approve, err)
			}
			if got := <-answer; got != tt.approve {
				t.Errorf("the request was answered %v; want %v", got, tt.approve)
			}
			err = c.Decide(t.Context(), "a1", tt.approve)
			if e, ok := errors.AsType[*Error](err); !ok || e.Status != 404 || err.Error() != tt.name+" request a1: "+ask.ErrUnknown.Error() {
				t.Errorf("Decide(a1) again = %v; want the host's 404", err)
			}
		})
	}
}

func TestLogout(t *testing.T) {
	p := newPeer(t)
	c := dial(t, p)
	if err := c.Logout(t.Context()); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	_, err := c.Sessions(t.Context())
	if e, ok := errors.AsType[*Error](err); !ok || e.Status != 401 {
		t.Errorf("Sessions() after Logout = %v; want 401", err)
	}
}

func TestClean(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "wrong account or password", "wrong account or password"},
		{"escape", "\x1b[2Jgone", "[2Jgone"},
		{"lines", "a\r\nb\tc", "a  b c"},
		{"not utf-8", "a\xffb", "a?b"},
		{"long", strings.Repeat("é", 400), strings.Repeat("é", 250) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clean(tt.in); got != tt.want {
				t.Errorf("clean(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestOptionsLogValueHidesPassword(t *testing.T) {
	o := Options{Account: "ann", Password: "hunter2"}
	if got := o.LogValue().String(); strings.Contains(got, "hunter2") || !strings.Contains(got, "ann") {
		t.Errorf("Options.LogValue() = %s; want the account without the password", got)
	}
}
