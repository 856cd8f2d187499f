package host_test

// The console's person-to-person and security parts in a real browser: chat with the CLI,
// throttled logins, the session cookie's flags and CSRF. See console_browser_test.go for the
// scene.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/buktu/buktu/internal/events"
	"github.com/buktu/buktu/internal/testenv"
)

// chatHas is the JavaScript test of whether #chat-log shows a message holding text.
func chatHas(text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#chat-log .chat-message")].some(m => m.textContent.includes(%q))`, text)
}

// testChat writes in the page's chat box, which reaches the host's transcript and the CLI,
// then writes with `buktu chat HOST "text"`, which shows in the page.
func (sc *consoleScene) testChat(t *testing.T) {
	t.Parallel()
	tb := sc.b.open(t, sc.h.Control)
	tb.login("admin", sc.h.AdminPassword)
	const fromBrowser, fromCLI = "hello from the browser", "hello from the command line"

	tb.do("write in the chat", chromedp.SendKeys(chromedp.ID("chat-input"), fromBrowser+"\r"))
	// It comes back through the events feed: from here on the page follows the feed.
	tb.waitJS("the page's message in #chat-log", chatHas(fromBrowser), `document.getElementById("chat-log").textContent`)
	pollUntil(t, "the page's message in the host's chat.log", func() bool {
		b, _ := os.ReadFile(filepath.Join(sc.h.DataDir, "chat.log"))
		return bytes.Contains(b, []byte(fromBrowser))
	})
	env := testenv.ClientEnv(t, sc.h.AdminPassword)
	target := "admin@" + sc.h.Control
	if out, errOut, code := sc.h.Buktu(t, "", env, "chat", target); code != 0 || !strings.Contains(out, "admin: "+fromBrowser) {
		t.Errorf("interactive buktu chat: exit %d; want the page's message in the transcript\n%s%s", code, out, errOut)
	}

	if out, errOut, code := sc.h.Buktu(t, "", env, "chat", target, fromCLI); code != 0 {
		t.Fatalf("buktu chat: exit %d\n%s%s", code, out, errOut)
	}
	tb.waitJS("the CLI's message in #chat-log", chatHas(fromCLI), `document.getElementById("chat-log").textContent`)
	tb.waitJS("who is connected lists someone", `document.querySelector("#who-list li[data-id]") !== null`,
		`document.getElementById("who-list").textContent`)
	tb.screenshot("chat.png", "chat-panel")
	tb.screenshot("people.png", "people-panel")
}

// testThrottled tries wrong passwords in the login form, on a host of its own (the throttle
// counts per source address too) until the host throttles: then the right password gets the
// throttled message (429) as well, and the activity log has the failures.
func (sc *consoleScene) testThrottled(t *testing.T) {
	t.Parallel()
	h := startScreenHostOn(t, startDisplay(t, 320, 240), "")
	h.AddAccount(t, "victim", "victim-password-1", "observe")
	tb := sc.b.open(t, h.Control)
	try := func(password string) string {
		t.Helper()
		// Clear the message, so that the host's next answer is new text.
		eval[bool](tb, `(document.getElementById("login-error").textContent = "") === ""`)
		tb.submitLogin("victim", password)
		tb.waitJS("the host's answer to the login",
			`document.getElementById("login-error").textContent !== "" || document.body.dataset.view === "console"`, "")
		if eval[string](tb, "document.body.dataset.view") == "console" {
			return "logged in"
		}
		return tb.text("login-error")
	}

	// internal/auth lets 5 failures from one address go, then delays the next attempt by 1 s,
	// doubling: go on until a delay of 2 s or more, so that the right password surely comes
	// within it. The page shows the host's own words, which say when to try again.
	var answers []string
	deadline := time.Now().Add(screenWait)
	for {
		got := try("not-the-password")
		answers = append(answers, got)
		if strings.HasPrefix(got, throttledText) && !strings.HasSuffix(got, " in 1 s") {
			break
		}
		if got == "logged in" || time.Now().After(deadline) {
			t.Fatalf("wrong passwords were never throttled; the page said: %q", answers)
		}
	}
	for i, got := range answers[:5] {
		if got != "wrong account or password" {
			t.Errorf("wrong password %d: the page said %q; want wrong account or password", i+1, got)
		}
	}
	if got := try("victim-password-1"); !strings.HasPrefix(got, throttledText) {
		t.Errorf("the right password while throttled: the page said %q; want the throttled message", got)
	}
	tb.screenshot("login-throttled.png", "")
	status := eval[string](tb, `fetch("/api/v1/login", {method: "POST", headers: {"Content-Type": "application/json"},
		body: JSON.stringify({account: "victim", password: "victim-password-1"})})
		.then(r => r.status + " " + r.headers.get("Retry-After"))`)
	if !strings.HasPrefix(status, "429 ") || strings.HasSuffix(status, " null") {
		t.Errorf("the login API while throttled: %s; want 429 with Retry-After", status)
	}

	// Refusals after the first are counted, and written when the host stops at the latest.
	h.Stop()
	var bad, throttled, ok uint64
	for _, r := range h.Records(t, "--kind", events.KindLogin, "--account", "victim") {
		reasons := r.Reasons
		if r.Count == 0 {
			reasons = map[string]uint64{r.Reason: 1}
		}
		switch {
		case r.Outcome == events.OutcomeOK:
			ok++
		default:
			bad += reasons["bad password"]
			throttled += reasons["throttled"]
		}
		if r.Service != "control" || r.Remote == "" {
			t.Errorf("login record without the control service or the remote address: %+v", r)
		}
	}
	if bad < 5 || throttled < 2 || ok != 0 {
		t.Errorf("activity log: %d bad passwords, %d throttled, %d successful logins; want at least 5, at least 2, none",
			bad, throttled, ok)
	}
}

// throttledText begins what a person is told when a login was refused unchecked.
const throttledText = "too many failed logins from your address; try again in "

// testCSRF checks the session cookie's flags as the browser holds them, and that a state
// change needs the CSRF token and the host's own origin, from the page and from outside it.
func (sc *consoleScene) testCSRF(t *testing.T) {
	t.Parallel()
	tb := sc.b.open(t, sc.h.Control)
	tb.login("admin", sc.h.AdminPassword)

	ctx, cancel := context.WithTimeout(tb.ctx, screenWait)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{tb.base + "/"}})
	if err != nil {
		t.Fatalf("read the browser's cookies: %v", err)
	}
	var session *network.Cookie
	for _, c := range res.Cookies {
		if c.Name == "buktu_control" {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("the browser holds no buktu_control cookie after the login: %+v", res.Cookies)
	}
	if !session.HTTPOnly || !session.Secure || session.SameSite != network.CookieSameSiteStrict || session.Path != "/" {
		t.Errorf("buktu_control: HttpOnly %v, Secure %v, SameSite %q, Path %q; want HttpOnly, Secure, Strict, /",
			session.HTTPOnly, session.Secure, session.SameSite, session.Path)
	}
	if got := eval[string](tb, "document.cookie"); strings.Contains(got, "buktu_control") {
		t.Errorf("the page's script can read the session cookie: %q", got)
	}

	const post = `fetch("/api/v1/chat", {method: "POST", headers: {"Content-Type": "application/json"%s},
		body: JSON.stringify({text: %q})}).then(r => r.status)`
	if got := eval[int](tb, fmt.Sprintf(post, "", "from the page without a token")); got != http.StatusForbidden {
		t.Errorf("fetch POST from the page without X-CSRF-Token: %d; want 403", got)
	}
	withToken := fmt.Sprintf(`fetch("/api/v1/session").then(r => r.json()).then(s => `+post+`)`,
		`, "X-CSRF-Token": s.csrf`, "from the page with its token")
	if got := eval[int](tb, withToken); got != http.StatusNoContent {
		t.Errorf("fetch POST from the page with X-CSRF-Token: %d; want 204", got)
	}

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: sc.h.ScreenTLS(t)}, Timeout: screenWait}
	t.Cleanup(client.CloseIdleConnections)
	do := func(method, path, token, origin, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, tb.base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.AddCookie(&http.Cookie{Name: session.Name, Value: session.Value})
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("X-CSRF-Token", token)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := do("GET", "/api/v1/session", "", "", "")
	var who struct{ CSRF string }
	if err := json.Unmarshal([]byte(body), &who); code != http.StatusOK || err != nil || who.CSRF == "" {
		t.Fatalf("GET /api/v1/session with the browser's cookie: %d %s", code, body)
	}
	tests := []struct {
		name, token, origin string
		want                int
	}{
		{"no token", "", "", http.StatusForbidden},
		{"wrong token", who.CSRF + "x", "", http.StatusForbidden},
		{"foreign origin", who.CSRF, "https://evil.example", http.StatusForbidden},
		{"plain http origin", who.CSRF, "http://" + sc.h.Control, http.StatusForbidden},
		{"token and own origin", who.CSRF, tb.base, http.StatusNoContent},
	}
	for _, tt := range tests {
		text := "from Go: " + tt.name
		got, body := do("POST", "/api/v1/chat", tt.token, tt.origin, fmt.Sprintf(`{"text": %q}`, text))
		if got != tt.want {
			t.Errorf("%s: POST /api/v1/chat = %d %s; want %d", tt.name, got, body, tt.want)
		}
		if tt.want == http.StatusForbidden && !strings.Contains(body, "CSRF") {
			t.Errorf("%s: the refusal says %s; want the CSRF error", tt.name, body)
		}
	}
	b, err := os.ReadFile(filepath.Join(sc.h.DataDir, "chat.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		sent := bytes.Contains(b, []byte("from Go: "+tt.name))
		if want := tt.want == http.StatusNoContent; sent != want {
			t.Errorf("%s: in the chat transcript %v; want %v", tt.name, sent, want)
		}
	}
	for _, text := range []string{"from the page without a token", "from the page with its token"} {
		if sent, want := bytes.Contains(b, []byte(text)), strings.Contains(text, "with its"); sent != want {
			t.Errorf("%q in the chat transcript %v; want %v", text, sent, want)
		}
	}
}
