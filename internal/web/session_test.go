package web

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/buktu/buktu/internal/events"
)

func TestLogin(t *testing.T) {
	h := startHost(t, nil)
	tests := []struct {
		name       string
		body       string
		header     []string
		want       int
		wantError  string
		wantLogins int // calls of the Login callback
	}{
		{"ok", `{"account":"ann","password":"ann-pw"}`, nil, 200, "", 1},
		{"wrong password", `{"account":"ann","password":"nope"}`, nil, 401, "wrong account or password", 1},
		{"no such account", `{"account":"zed","password":"zed-pw"}`, nil, 401, "wrong account or password", 1},
		{"throttled", `{"account":"throttled","password":"x"}`, nil, 429, "too many failed logins from your address; try again in 3 s", 1},
		{"not json", `account=ann`, nil, 400, "bad request: not the JSON object expected", 0},
		{"two values", `{"account":"ann","password":"ann-pw"} {}`, nil, 400, "bad request: more than one JSON value", 0},
		{"no account", `{"password":"x"}`, nil, 400, "bad request: account and password needed", 0},
		{"too large", `{"account":"ann","password":"` + strings.Repeat("x", 70<<10) + `"}`, nil, 413, "request larger than 64 KiB", 0},
		{"other origin", `{"account":"ann","password":"ann-pw"}`, []string{"Origin", "https://evil.example"}, 403, "missing or wrong CSRF token", 0},
		{"own origin", `{"account":"ann","password":"ann-pw"}`, []string{"Origin", h.url}, 200, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.mu.Lock()
			before := h.logins
			h.mu.Unlock()
			c := h.client(t)
			resp, body := c.call("POST", "/api/v1/login", tt.body, tt.header...)
			var e errorReply
			json.Unmarshal(body, &e)
			if resp.StatusCode != tt.want || e.Error != tt.wantError {
				t.Errorf("POST /api/v1/login %s = %d %q; want %d %q", tt.body[:min(len(tt.body), 60)], resp.StatusCode, e.Error, tt.want, tt.wantError)
			}
			h.mu.Lock()
			logins := h.logins - before
			h.mu.Unlock()
			if logins != tt.wantLogins {
				t.Errorf("Login called %d times; want %d", logins, tt.wantLogins)
			}
			if tt.want == 429 && resp.Header.Get("Retry-After") != "3" {
				t.Errorf("Retry-After = %q; want 3 (2.5 s rounded up)", resp.Header.Get("Retry-After"))
			}
			if tt.want != 200 {
				if len(resp.Cookies()) != 0 {
					t.Errorf("a refused login set cookies %v", resp.Cookies())
				}
				return
			}
			var got sessionReply
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if got.Account != "ann" || got.Service != "control" || got.CSRF == "" ||
				got.Privileges["control"] != "allow" || got.Privileges["observe"] != "allow" || got.Privileges["admin"] != "deny" {
				t.Errorf("login reply = %+v; want ann on control with control and observe allowed", got)
			}
		})
	}
}

func TestCookieFlags(t *testing.T) {
	h := startHost(t, func(s *Server) { s.SessionTTL = 2 * time.Hour })
	c := h.client(t)
	resp, _ := c.call("POST", "/api/v1/login", loginRequest{"ann", "ann-pw"})
	cookies := resp.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("login set cookies %v; want one", cookies)
	}
	ck := cookies[0]
	if ck.Name != "buktu_control" || !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode ||
		ck.Path != "/" || ck.MaxAge != 7200 || len(ck.Value) != 43 {
		t.Errorf("session cookie = %+v; want buktu_control, Secure, HttpOnly, SameSite=Strict, Path=/, Max-Age=7200, 32 bytes base64url", ck)
	}
}

func TestCSRF(t *testing.T) {
	h := startHost(t, nil)
	c := h.client(t)
	good := c.login("ann").CSRF
	c.csrf = "" // each case sets its own header
	tests := []struct {
		name   string
		header []string
		want   int
	}{
		{"no token", nil, 403},
		{"wrong token", []string{"X-CSRF-Token", good + "x"}, 403},
		{"empty token", []string{"X-CSRF-Token", ""}, 403},
		{"token, other origin", []string{"X-CSRF-Token", good, "Origin", "https://evil.example"}, 403},
		{"token, http origin", []string{"X-CSRF-Token", good, "Origin", strings.Replace(h.url, "https", "http", 1)}, 403},
		{"token, null origin", []string{"X-CSRF-Token", good, "Origin", "null"}, 403},
		{"token, own origin", []string{"X-CSRF-Token", good, "Origin", h.url}, 204},
		{"token, no origin", []string{"X-CSRF-Token", good}, 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.status("POST", "/api/v1/chat", chatRequest{"hello"}, tt.header...); got != tt.want {
				t.Errorf("POST /api/v1/chat with %q = %d; want %d", tt.header, got, tt.want)
			}
		})
	}
	// Reading needs no token.
	if got := c.status("GET", "/api/v1/session", nil); got != 200 {
		t.Errorf("GET /api/v1/session without a token = %d; want 200", got)
	}
}

func TestLogout(t *testing.T) {
	h := startHost(t, nil)
	c := h.client(t)
	c.login("ann")
	if h.consoleID("ann") == "" {
		t.Fatal("a console session is not on who's list")
	}
	resp, _ := c.call("POST", "/api/v1/logout", nil)
	if resp.StatusCode != 204 {
		t.Fatalf("POST /api/v1/logout = %d; want 204", resp.StatusCode)
	}
	if ck := resp.Cookies(); len(ck) != 1 || ck[0].MaxAge >= 0 {
		t.Errorf("logout cookies = %v; want the session cookie cleared", ck)
	}
	if got := c.status("GET", "/api/v1/session", nil); got != 401 {
		t.Errorf("GET /api/v1/session after logout = %d; want 401", got)
	}
	if id := h.consoleID("ann"); id != "" {
		t.Errorf("console session %s still listed after logout", id)
	}
	if !h.recorded(events.KindSessionEnd, "logout") {
		t.Error("no session_end record for the logout")
	}
}

func TestSessionExpiry(t *testing.T) {
	tests := []struct {
		name       string
		ttl, idle  time.Duration
		wantReason string
	}{
		{"idle", time.Hour, 50 * time.Millisecond, "idle too long"},
		{"whole", 50 * time.Millisecond, time.Hour, "session expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startHost(t, func(s *Server) { s.SessionTTL, s.IdleTTL = tt.ttl, tt.idle })
			c := h.client(t)
			c.login("ann")
			// The session's timer takes it off who's list when it expires.
			until(t, h.srv.Who.Changed, func() bool { return h.consoleID("ann") == "" })
			if got := c.status("GET", "/api/v1/session", nil); got != 401 {
				t.Errorf("GET /api/v1/session after expiry = %d; want 401", got)
			}
			if !h.recorded(events.KindSessionEnd, tt.wantReason) {
				t.Errorf("no session_end record with reason %q", tt.wantReason)
			}
		})
	}
}

func TestAccountRemoved(t *testing.T) {
	h := startHost(t, nil)
	c := h.client(t)
	c.login("ann")
	h.mu.Lock()
	delete(h.accounts, "ann")
	h.mu.Unlock()
	if got := c.status("GET", "/api/v1/session", nil); got != 401 {
		t.Errorf("GET /api/v1/session after the account was removed = %d; want 401", got)
	}
	if id := h.consoleID("ann"); id != "" {
		t.Errorf("console session %s of a removed account still listed", id)
	}
}

func TestHeadersAndPages(t *testing.T) {
	tests := []struct {
		name       string
		assets     fstest.MapFS
		path       string
		want       int
		wantBody   string
		wantNoStor bool
	}{
		{"page", fstest.MapFS{"index.html": {Data: []byte("<p>console</p>")}}, "/", 200, "<p>console</p>", false},
		{"asset", fstest.MapFS{"index.html": {}, "console.js": {Data: []byte("js!")}}, "/assets/console.js", 200, "js!", false},
		{"missing asset", fstest.MapFS{"index.html": {}}, "/assets/nope.js", 404, "", false},
		{"not built", nil, "/", 503, "not built", false},
		{"api", nil, "/api/v1/session", 401, "not logged in", true},
		{"unknown api", nil, "/api/v1/nope", 404, "no such API", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startHost(t, func(s *Server) {
				if tt.assets != nil {
					s.Assets = tt.assets
				}
			})
			resp, body := h.client(t).call("GET", tt.path, nil)
			if resp.StatusCode != tt.want || !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("GET %s = %d %q; want %d with %q", tt.path, resp.StatusCode, body, tt.want, tt.wantBody)
			}
			hd := resp.Header
			if !strings.Contains(hd.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
				hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("GET %s security headers = %v", tt.path, hd)
			}
			if got := hd.Get("Cache-Control") == "no-store"; got != tt.wantNoStor {
				t.Errorf("GET %s Cache-Control = %q; want no-store %v", tt.path, hd.Get("Cache-Control"), tt.wantNoStor)
			}
		})
	}
}

// TestCookiePerPort: cookies do not tell ports apart, so each console port has its own
// cookie name, and a browser logged in on both keeps both sessions.
func TestCookiePerPort(t *testing.T) {
	h := startHost(t, func(s *Server) { s.Service = ServiceObserve })
	c := h.client(t)
	resp, _ := c.call("POST", "/api/v1/login", loginRequest{"ann", "ann-pw"})
	if cs := resp.Cookies(); len(cs) != 1 || cs[0].Name != "buktu_observe" {
		t.Errorf("login on the Observe console set cookies %v; want one named buktu_observe", cs)
	}
}

// TestSessionsPerAccount logs one account in far more often than the session table holds,
// from one address and then from ten: the account keeps its newest sessions within its own
// limits (8 from one address, 64 in all), the older ones end, and everyone else still logs in.
func TestSessionsPerAccount(t *testing.T) {
	h := startHost(t, nil)
	from := func(ip string) *client {
		c := h.client(t)
		c.hc.Transport.(*http.Transport).DialContext = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}).DialContext
		return c
	}
	first := from("127.0.0.1")
	first.login("ann")
	for range maxSessions + 10 {
		from("127.0.0.1").login("ann") // a fresh cookie jar: a new session each time
	}
	if got := first.status("GET", "/api/v1/session", nil); got != http.StatusUnauthorized {
		t.Errorf("the first of %d sessions from one address: GET /api/v1/session = %d; want 401 (ended)", maxSessions+11, got)
	}
	if !h.recorded(events.KindSessionEnd, "replaced by a newer login of the same account") {
		t.Error("no session end recorded with the reason")
	}
	for i := 2; i <= 11; i++ {
		for range maxSessionsPerAccountAddr + 1 {
			from(fmt.Sprintf("127.0.0.%d", i)).login("ann")
		}
	}
	perAddr := map[string]int{}
	total := 0
	h.srv.mu.Lock()
	for _, c := range h.srv.sessions {
		if c.account == "ann" {
			host, _, _ := net.SplitHostPort(c.remote)
			perAddr[host]++
			total++
		}
	}
	h.srv.mu.Unlock()
	if total != maxSessionsPerAccount {
		t.Errorf("ann holds %d sessions; want %d", total, maxSessionsPerAccount)
	}
	for addr, n := range perAddr {
		if n > maxSessionsPerAccountAddr {
			t.Errorf("ann holds %d sessions from %s; want at most %d", n, addr, maxSessionsPerAccountAddr)
		}
	}
	other := from("127.0.0.1")
	other.login("obs")
	if got := other.status("GET", "/api/v1/session", nil); got != http.StatusOK {
		t.Errorf("another account after ann's many logins: GET /api/v1/session = %d; want 200", got)
	}
}
