package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/buktu/buktu/internal/ask"
	"github.com/buktu/buktu/internal/who"
)

// dial opens the screen WebSocket with the session's cookie and the CSRF token csrf.
func (c *client) dial(csrf string) (*websocket.Conn, *http.Response, error) {
	u := "wss" + strings.TrimPrefix(c.h.url, "https") + "/ws/rfb?csrf=" + url.QueryEscape(csrf)
	return websocket.Dial(c.t.Context(), u, &websocket.DialOptions{HTTPClient: c.hc})
}

// greeted dials the screen and checks that RFB starts on it.
func (c *client) greeted() *websocket.Conn {
	c.t.Helper()
	ws, resp, err := c.dial(c.csrf)
	if err != nil {
		body := ""
		if resp != nil {
			b, _ := io.ReadAll(resp.Body)
			body = resp.Status + " " + string(b)
		}
		c.t.Fatalf("dial /ws/rfb: %v %s", err, body)
	}
	c.t.Cleanup(func() { ws.CloseNow() })
	typ, b, err := ws.Read(c.t.Context())
	if err != nil || typ != websocket.MessageBinary || string(b) != "RFB 003.008\n" {
		c.t.Fatalf("first message on /ws/rfb = %v %q, %v; want binary RFB 003.008", typ, b, err)
	}
	return ws
}

func TestScreenInput(t *testing.T) {
	tests := []struct {
		name, service, account string
		wantStatus             int // of a refused upgrade; 0: it opens
		wantInput              bool
	}{
		{"control port, control", "control", "ann", 0, true},
		{"control port, observe", "control", "obs", 0, false},
		{"observe port, control", "observe", "ann", 0, false},
		{"observe port, observe", "observe", "obs", 0, false},
		{"no screen privilege", "control", "reader", 403, false},
	}
	hosts := map[string]*testHost{
		"control": startHost(t, nil),
		"observe": startHost(t, func(s *Server) { s.Service = ServiceObserve }),
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hosts[tt.service]
			c := h.client(t)
			c.login(tt.account)
			if tt.wantStatus != 0 {
				_, resp, err := c.dial(c.csrf)
				if err == nil || resp == nil || resp.StatusCode != tt.wantStatus {
					t.Fatalf("dial /ws/rfb as %s = %v %v; want %d", tt.account, resp, err, tt.wantStatus)
				}
				return
			}
			c.greeted()
			if got := <-h.screens; got != (screenCall{tt.account, tt.wantInput}) {
				t.Errorf("Screen called with %+v; want %s with input %v", got, tt.account, tt.wantInput)
			}
			want := "observe"
			if tt.wantInput {
				want = "control"
			}
			if !slices.ContainsFunc(h.srv.Who.List(), func(s who.Session) bool { return s.Account == tt.account && s.Service == want }) {
				t.Errorf("who's list %+v has no %s session of %s", h.srv.Who.List(), want, tt.account)
			}
		})
	}
}

func TestScreenCSRF(t *testing.T) {
	h := startHost(t, nil)
	c := h.client(t)
	c.login("ann")
	for _, csrf := range []string{"", "wrong"} {
		_, resp, err := c.dial(csrf)
		if err == nil || resp == nil || resp.StatusCode != 403 {
			t.Errorf("dial /ws/rfb with csrf %q = %v; want 403", csrf, err)
		}
	}
	u := "wss" + strings.TrimPrefix(h.url, "https") + "/ws/rfb?csrf=" + c.csrf
	_, resp, err := websocket.Dial(t.Context(), u, &websocket.DialOptions{HTTPClient: c.hc,
		HTTPHeader: http.Header{"Origin": {"https://evil.example"}}})
	if err == nil || resp == nil || resp.StatusCode != 403 {
		t.Errorf("dial /ws/rfb from another origin = %v; want 403", err)
	}
	if len(h.screens) != 0 {
		t.Error("Screen was called for a refused upgrade")
	}
}

// follow polls the events in the background, as a console does, until the test ends.
func (c *client) follow() <-chan event {
	c.t.Helper()
	next := c.poll(0).Next
	ctx, cancel := context.WithCancel(context.Background())
	seen := make(chan event, 100)
	c.t.Cleanup(func() {
		cancel()
		for range seen {
		}
	})
	go func() {
		defer close(seen)
		for {
			req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/api/v1/events?after=%d", c.h.url, next), nil)
			resp, err := c.hc.Do(req)
			if err != nil {
				return
			}
			var r eventsReply
			err = json.NewDecoder(resp.Body).Decode(&r)
			resp.Body.Close()
			if err != nil {
				return
			}
			for _, e := range r.Events {
				seen <- e
			}
			next = r.Next
		}
	}()
	return seen
}

type dialed struct {
	ws   *websocket.Conn
	resp *http.Response
	err  error
}

// askedDial dials the screen as c in the background and waits until the dial waits for an
// answer; it returns the request and where the dial's result arrives.
func askedDial(t *testing.T, h *testHost, c *client) (ask.Request, chan dialed) {
	t.Helper()
	done := make(chan dialed, 1)
	go func() {
		ws, resp, err := c.dial(c.csrf)
		done <- dialed{ws, resp, err}
	}()
	until(t, h.srv.Ask.Changed, func() bool { return len(h.srv.Ask.Pending()) == 1 })
	return h.srv.Ask.Pending()[0], done
}

func TestScreenAsk(t *testing.T) {
	h := startHost(t, nil)
	admin := h.client(t)
	admin.login("admin")
	yes := h.client(t)
	yes.login("asker")
	// The admin's console follows the events, as a console does all the time.
	seen := admin.follow()
	wait := func(typ string) event {
		for e := range seen {
			if e.Type == typ {
				return e
			}
		}
		t.Fatalf("no %s event", typ)
		return event{}
	}

	req, done := askedDial(t, h, yes)
	if req.Account != "asker" || req.Privilege != "control" || req.Service != "console" {
		t.Errorf("pending request = %+v; want asker asking for control", req)
	}
	if e := wait("approval"); e.ID != req.ID || e.Account != "asker" || e.Privilege != "control" || e.Time == nil {
		t.Errorf("approval event = %+v; want %+v", e, req)
	}
	var list struct{ Approvals []ask.Request }
	admin.decode("GET", "/api/v1/approvals", nil, &list)
	if len(list.Approvals) != 1 || list.Approvals[0].ID != req.ID {
		t.Errorf("GET /api/v1/approvals = %+v; want %s", list, req.ID)
	}
	if got := admin.status("POST", "/api/v1/approvals/"+req.ID, approvalRequest{new(true)}); got != 204 {
		t.Fatalf("approve %s = %d; want 204", req.ID, got)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("dial after approval: %v", r.err)
	}
	r.ws.CloseNow()
	if got := <-h.screens; got != (screenCall{"asker", true}) {
		t.Errorf("Screen called with %+v; want asker with input", got)
	}
	// The approval holds for the session: a second viewer does not ask again.
	yes.greeted()
	<-h.screens

	if e := wait("approval_done"); e.ID != req.ID || e.Approved == nil || !*e.Approved {
		t.Errorf("approval_done event = %+v; want %s approved", e, req.ID)
	}

	no := h.client(t)
	no.login("asker")
	req, done = askedDial(t, h, no)
	if err := h.srv.Ask.Decide(req.ID, false); err != nil { // as `buktu deny` does
		t.Fatal(err)
	}
	r = <-done
	if r.err == nil || r.resp == nil || r.resp.StatusCode != 403 {
		t.Fatalf("dial after a denial = %v; want 403", r.err)
	}
	if b, _ := io.ReadAll(r.resp.Body); !strings.Contains(string(b), "the person at the host said no") {
		t.Errorf("denied dial's body = %s; want the reason", b)
	}
	if !h.recorded("decision", "said no") {
		t.Error("no decision record for the denial")
	}
}

func TestScreenNoAnswer(t *testing.T) {
	h := startHost(t, func(s *Server) { s.Ask = &ask.Queue{Timeout: 20 * time.Millisecond} })
	c := h.client(t)
	c.login("asker")
	_, resp, err := c.dial(c.csrf)
	if err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("dial without an answer = %v; want 403", err)
	}
	if b, _ := io.ReadAll(resp.Body); !strings.Contains(string(b), "no answer from the person at the host") {
		t.Errorf("unanswered dial's body = %s; want the reason", b)
	}
}

func TestScreenDisconnect(t *testing.T) {
	tests := []struct {
		name string
		end  func(h *testHost, admin, ann *client)
	}{
		{"the viewer", func(h *testHost, admin, ann *client) {
			for _, s := range h.srv.Who.List() {
				if s.Service == "control" {
					admin.status("DELETE", "/api/v1/sessions/"+s.ID, nil)
				}
			}
		}},
		{"the console session", func(h *testHost, admin, ann *client) {
			admin.status("DELETE", "/api/v1/sessions/"+h.consoleID("ann"), nil)
		}},
		{"logout", func(h *testHost, admin, ann *client) { ann.status("POST", "/api/v1/logout", nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startHost(t, nil)
			admin, ann := h.client(t), h.client(t)
			admin.login("admin")
			ann.login("ann")
			ws := ann.greeted()
			<-h.screens
			tt.end(h, admin, ann)
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			if _, _, err := ws.Read(ctx); err == nil || ctx.Err() != nil {
				t.Errorf("Read after ending %s = %v; want the WebSocket closed", tt.name, err)
			}
			until(t, h.srv.Who.Changed, func() bool {
				return !slices.ContainsFunc(h.srv.Who.List(), func(s who.Session) bool { return s.Service == "control" })
			})
		})
	}
}
