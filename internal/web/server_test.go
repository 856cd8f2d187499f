package web

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/ask"
	"github.com/buktu/buktu/internal/auth"
	"github.com/buktu/buktu/internal/chat"
	"github.com/buktu/buktu/internal/events"
	"github.com/buktu/buktu/internal/files"
	"github.com/buktu/buktu/internal/who"
)

// testCert makes a self-signed certificate for 127.0.0.1 and a pool that trusts it.
func testCert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "buktu test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// Passwords of the test accounts: each account's password is its name and "-pw".
func testAccounts() map[string]auth.Account {
	allow := func(ps ...auth.Privilege) map[auth.Privilege]auth.Mode {
		m := map[auth.Privilege]auth.Mode{}
		for _, p := range ps {
			m[p] = auth.Allow
		}
		return m
	}
	return map[string]auth.Account{
		"admin": {Name: "admin", Privileges: allow(auth.PrivAdmin)},
		"ann": {Name: "ann", Privileges: allow(auth.PrivControl, auth.PrivChat, auth.PrivSend,
			auth.PrivExchangeRead, auth.PrivExchangeWrite, auth.PrivExchangeDelete)},
		"obs":    {Name: "obs", Privileges: allow(auth.PrivObserve)},
		"reader": {Name: "reader", Privileges: allow(auth.PrivExchangeRead)},
		"writer": {Name: "writer", Privileges: allow(auth.PrivExchangeRead, auth.PrivExchangeWrite)},
		"nobody": {Name: "nobody"},
		"asker": {Name: "asker", Privileges: map[auth.Privilege]auth.Mode{auth.PrivControl: auth.Ask,
			auth.PrivSend: auth.Ask, auth.PrivChat: auth.Ask}},
	}
}

// screenCall is one call of the Screen callback.
type screenCall struct {
	account string
	input   bool
}

// testHost is a console on a real TLS listener, with real files, who, chat and ask.
type testHost struct {
	srv      *Server
	url      string
	pool     *x509.CertPool
	inbox    string
	exchange string
	screens  chan screenCall

	mu       sync.Mutex // guards the fields below
	accounts map[string]auth.Account
	records  []events.Record
	logins   int
	invites  []string
}

// startHost starts a console; setup may change the Server before it serves.
func startHost(t testing.TB, setup func(*Server)) *testHost {
	t.Helper()
	cert, pool := testCert(t)
	dir := t.TempDir()
	h := &testHost{pool: pool, inbox: filepath.Join(dir, "inbox"), exchange: filepath.Join(dir, "exchange"),
		screens: make(chan screenCall, 10), accounts: testAccounts()}
	inbox, err := files.OpenInbox(h.inbox, files.Options{MaxFileSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inbox.Close() })
	exchange, err := files.OpenExchange(h.exchange, files.Options{MaxFileSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exchange.Close() })
	room, err := chat.Open(filepath.Join(dir, "chat.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { room.Close() })
	h.srv = &Server{
		Service:  ServiceControl,
		Login:    h.login,
		Account:  h.account,
		Screen:   h.screen,
		Inbox:    inbox,
		Exchange: exchange,
		Who:      &who.Registry{},
		Chat:     room,
		Ask:      &ask.Queue{},
		Record: func(r events.Record) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.records = append(h.records, r)
		},
		Invite: func(ctx context.Context, address string, control bool) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.invites = append(h.invites, address)
			return nil
		},
		Host: func() HostInfo { return HostInfo{Name: "buktu on test", Version: "test"} },
		Log: func(account, service string, limit int) ([]events.Record, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			return append([]events.Record(nil), h.records...), nil
		},
	}
	if setup != nil {
		setup(h.srv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.url = "https://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- h.srv.Serve(ctx, ln, &tls.Config{Certificates: []tls.Certificate{cert}}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve() = %v; want nil after cancel", err)
		}
	})
	return h
}

func (h *testHost) login(ctx context.Context, account, password string, remote netip.AddrPort) (auth.Account, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.logins++
	if account == "throttled" {
		return auth.Account{}, &auth.ThrottledError{Key: "address 127.0.0.1", RetryAfter: 2500 * time.Millisecond}
	}
	a, ok := h.accounts[account]
	if !ok || password != account+"-pw" {
		return auth.Account{}, auth.ErrDenied
	}
	return a, nil
}

func (h *testHost) account(name string) (auth.Account, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	a, ok := h.accounts[name]
	return a, ok
}

// screen stands in for the RFB server: it greets, reports the call, and echoes until the
// connection ends.
func (h *testHost) screen(ctx context.Context, c net.Conn, account string, input bool) {
	h.screens <- screenCall{account, input}
	c.Write([]byte("RFB 003.008\n"))
	io.Copy(c, c)
}

func (h *testHost) recorded(kind, reason string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.records {
		if r.Kind == kind && strings.Contains(r.Reason, reason) {
			return true
		}
	}
	return false
}

// until waits for cond, checked again at every change of ch's source.
func until(t *testing.T, changed func() <-chan struct{}, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		ch := changed()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatal("timed out waiting for a change")
		}
	}
}

// client is a browser: a cookie jar and the CSRF token of its session.
type client struct {
	t    testing.TB
	h    *testHost
	hc   *http.Client
	csrf string
}

func (h *testHost) client(t testing.TB) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: h.pool}}
	t.Cleanup(tr.CloseIdleConnections)
	return &client{t: t, h: h, hc: &http.Client{Jar: jar, Transport: tr}}
}

// call makes a request with the session's CSRF token; header adds or replaces headers, as
// name and value pairs.
func (c *client) call(method, path string, body any, header ...string) (*http.Response, []byte) {
	c.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case io.Reader:
		r = b
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.h.url+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp, got
}

// status makes a request and returns its status.
func (c *client) status(method, path string, body any, header ...string) int {
	c.t.Helper()
	resp, _ := c.call(method, path, body, header...)
	return resp.StatusCode
}

// login logs in as account with its password, or fails the test.
func (c *client) login(account string) sessionReply {
	c.t.Helper()
	resp, body := c.call("POST", "/api/v1/login", loginRequest{account, account + "-pw"})
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("login as %s: %s %s", account, resp.Status, body)
	}
	var got sessionReply
	if err := json.Unmarshal(body, &got); err != nil {
		c.t.Fatal(err)
	}
	c.csrf = got.CSRF
	return got
}

// decode makes a request that must answer 200 and decodes its body into v.
func (c *client) decode(method, path string, body any, v any) {
	c.t.Helper()
	resp, got := c.call(method, path, body)
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("%s %s = %s %s; want 200", method, path, resp.Status, got)
	}
	if err := json.Unmarshal(got, v); err != nil {
		c.t.Fatalf("%s %s: %v in %s", method, path, err, got)
	}
}

// consoleID returns the who id of account's console session.
func (h *testHost) consoleID(account string) string {
	for _, s := range h.srv.Who.List() {
		if s.Account == account && s.Service == serviceConsole {
			return s.ID
		}
	}
	return ""
}
