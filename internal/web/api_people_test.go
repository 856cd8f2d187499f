package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/auth"
)

func TestPrivileges(t *testing.T) {
	tests := []struct {
		name, service, account string
		method, path           string
		body                   any
		want                   int
	}{
		{"host for all", "control", "nobody", "GET", "/api/v1/host", nil, 200},
		{"sessions for all", "control", "nobody", "GET", "/api/v1/sessions", nil, 200},
		{"chat needs chat", "control", "nobody", "GET", "/api/v1/chat", nil, 403},
		{"post needs chat", "control", "obs", "POST", "/api/v1/chat", chatRequest{"hi"}, 403},
		{"post with chat", "control", "ann", "POST", "/api/v1/chat", chatRequest{"hi"}, 204},
		{"notify needs chat", "control", "reader", "POST", "/api/v1/notify", nil, 403},
		{"approvals need admin", "control", "ann", "GET", "/api/v1/approvals", nil, 403},
		{"approvals for admin", "control", "admin", "GET", "/api/v1/approvals", nil, 200},
		{"decide needs admin", "control", "ann", "POST", "/api/v1/approvals/a1", approvalRequest{new(true)}, 403},
		{"decide unknown", "control", "admin", "POST", "/api/v1/approvals/a99", approvalRequest{new(true)}, 404},
		{"log needs admin", "control", "ann", "GET", "/api/v1/log", nil, 403},
		{"log for admin", "control", "admin", "GET", "/api/v1/log?limit=5", nil, 200},
		{"disconnect needs admin", "control", "ann", "DELETE", "/api/v1/sessions/s1", nil, 403},
		{"disconnect unknown", "control", "admin", "DELETE", "/api/v1/sessions/s99", nil, 404},
		{"invite needs admin", "control", "ann", "POST", "/api/v1/invite", inviteRequest{"127.0.0.1:5500", true, "ann-pw"}, 403},
		{"send needs send", "control", "reader", "POST", "/api/v1/send", nil, 403},
		{"list needs read", "control", "obs", "GET", "/api/v1/exchange/list", nil, 403},
		{"list with read", "control", "reader", "GET", "/api/v1/exchange/list", nil, 200},
		{"put needs write", "control", "reader", "PUT", "/api/v1/exchange/file?path=x", "x", 403},
		{"mkdir needs write", "control", "reader", "POST", "/api/v1/exchange/mkdir", pathRequest{"d"}, 403},
		{"rename needs delete", "control", "writer", "POST", "/api/v1/exchange/rename", renameRequest{"a", "b"}, 403},
		{"delete needs delete", "control", "writer", "DELETE", "/api/v1/exchange/file?path=x", nil, 403},
		{"observe: no send", "observe", "ann", "POST", "/api/v1/send", nil, 403},
		{"observe: no exchange", "observe", "ann", "GET", "/api/v1/exchange/list", nil, 403},
		{"observe: no admin", "observe", "admin", "GET", "/api/v1/approvals", nil, 403},
		{"observe: chat", "observe", "ann", "POST", "/api/v1/chat", chatRequest{"hi"}, 204},
		{"observe: no invite", "observe", "admin", "POST", "/api/v1/invite", inviteRequest{"127.0.0.1:5500", true, "admin-pw"}, 403},
	}
	hosts := map[string]*testHost{
		"control": startHost(t, nil),
		"observe": startHost(t, func(s *Server) { s.Service = ServiceObserve }),
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := hosts[tt.service].client(t)
			c.login(tt.account)
			resp, body := c.call(tt.method, tt.path, tt.body)
			if resp.StatusCode != tt.want {
				t.Errorf("%s %s as %s on %s = %d %s; want %d", tt.method, tt.path, tt.account, tt.service, resp.StatusCode, body, tt.want)
			}
			if tt.want == 403 && !strings.Contains(string(body), `"error"`) {
				t.Errorf("%s %s refused without an error text: %s", tt.method, tt.path, body)
			}
		})
	}
}

func TestObservePrivileges(t *testing.T) {
	h := startHost(t, func(s *Server) { s.Service = ServiceObserve })
	got := h.client(t).login("ann")
	want := map[string]string{"observe": "allow", "control": "deny", "send": "deny", "exchange:read": "deny",
		"exchange:write": "deny", "exchange:delete": "deny", "chat": "allow", "admin": "deny"}
	if fmt.Sprint(got.Privileges) != fmt.Sprint(want) || got.Service != "observe" {
		t.Errorf("login on observe = %s %v; want observe %v", got.Service, got.Privileges, want)
	}
}

// poll makes one events request and returns its reply.
func (c *client) poll(after uint64) eventsReply {
	c.t.Helper()
	var got eventsReply
	c.decode("GET", fmt.Sprintf("/api/v1/events?after=%d", after), nil, &got)
	return got
}

// quiet polls from after and returns the events the poll answers with before a short
// deadline of the client's; a poll that has nothing to say keeps waiting past it.
func (c *client) quiet(after uint64) []event {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.t.Context(), 200*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/api/v1/events?after=%d", c.h.url, after), nil)
	if err != nil {
		c.t.Fatal(err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil // still waiting at the deadline
	}
	defer resp.Body.Close()
	var r eventsReply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil && ctx.Err() == nil {
		c.t.Fatalf("poll: %v", err)
	}
	return r.Events
}

func TestChatEvents(t *testing.T) {
	h := startHost(t, nil)
	ann, admin, obs := h.client(t), h.client(t), h.client(t)
	ann.login("ann")
	admin.login("admin")
	obs.login("obs")
	start := ann.poll(0)
	if len(start.Events) != 0 || start.Next == 0 {
		t.Fatalf("first poll = %+v; want no events and a cursor", start)
	}
	got := make(chan eventsReply, 1)
	go func() { got <- ann.poll(start.Next) }()
	if code := admin.status("POST", "/api/v1/chat", chatRequest{"  hello ann  "}); code != 204 {
		t.Fatalf("POST /api/v1/chat = %d; want 204", code)
	}
	r := <-got
	i := slices.IndexFunc(r.Events, func(e event) bool { return e.Type == "chat" })
	if i < 0 || r.Events[i].From != "admin" || r.Events[i].Text != "hello ann" || r.Events[i].Time == nil || r.Next <= start.Next {
		t.Fatalf("poll after a chat post = %+v; want the chat event from admin", r)
	}
	var transcript struct{ Messages []struct{ From, Text string } }
	ann.decode("GET", "/api/v1/chat", nil, &transcript)
	if len(transcript.Messages) != 1 || transcript.Messages[0].Text != "hello ann" {
		t.Errorf("GET /api/v1/chat = %+v; want the message", transcript)
	}
	// Someone without chat sees no chat event: obs's poll goes on waiting.
	if got := obs.quiet(start.Next); len(got) != 0 {
		t.Errorf("obs (no chat privilege) got events %+v", got)
	}
	tests := []struct {
		name string
		text string
		want int
	}{
		{"empty", "  ", 400},
		{"too long", strings.Repeat("x", 4097), 400},
		{"control character", "a\x1b[2Jb", 400},
		{"4 KiB", strings.Repeat("x", 4096), 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ann.status("POST", "/api/v1/chat", chatRequest{tt.text}); got != tt.want {
				t.Errorf("POST /api/v1/chat %q = %d; want %d", tt.text[:min(len(tt.text), 20)], got, tt.want)
			}
		})
	}
}

func TestSessionsAndDisconnect(t *testing.T) {
	h := startHost(t, nil)
	ann, admin := h.client(t), h.client(t)
	ann.login("ann")
	admin.login("admin")
	var list struct {
		Sessions []struct{ ID, Account, Remote, Service, Since string }
	}
	ann.decode("GET", "/api/v1/sessions", nil, &list)
	if len(list.Sessions) != 2 || list.Sessions[0].Account != "ann" || list.Sessions[0].Service != "console" ||
		!strings.HasPrefix(list.Sessions[0].Remote, "127.0.0.1:") || list.Sessions[0].Since == "" {
		t.Fatalf("GET /api/v1/sessions = %+v; want ann's and admin's console sessions", list)
	}
	if got := admin.status("DELETE", "/api/v1/sessions/"+h.consoleID("ann"), nil); got != 204 {
		t.Fatalf("DELETE ann's session = %d; want 204", got)
	}
	if got := ann.status("GET", "/api/v1/session", nil); got != 401 {
		t.Errorf("ann's GET /api/v1/session after disconnect = %d; want 401", got)
	}
	if !h.recorded("session_end", "disconnected by an admin") {
		t.Error("no session_end record for the disconnect")
	}
}

func TestSessionEndStopsPoll(t *testing.T) {
	// Without who's list there are no sessions events: only the end of the session can end
	// the poll before its 25 s.
	h := startHost(t, func(s *Server) { s.Who = nil })
	ann := h.client(t)
	ann.login("ann")
	start := ann.poll(0)
	polled := make(chan int, 1)
	go func() {
		resp, _ := ann.call("GET", fmt.Sprintf("/api/v1/events?after=%d", start.Next), nil)
		polled <- resp.StatusCode
	}()
	if got := ann.status("POST", "/api/v1/logout", nil); got != 204 {
		t.Fatalf("POST /api/v1/logout = %d; want 204", got)
	}
	select {
	case <-polled:
	case <-time.After(5 * time.Second):
		t.Fatal("the long poll went on after its session ended")
	}
}

func TestNotify(t *testing.T) {
	for _, tt := range []struct {
		name string
		told bool
		want string
	}{{"told", true, notifyText}, {"declined", false, declinedText}} {
		t.Run(tt.name, func(t *testing.T) {
			back := make(chan struct{})
			var asker string
			h := startHost(t, func(s *Server) {
				s.Notify = func(ctx context.Context, account, remote string) (bool, error) {
					asker = account
					select {
					case <-back:
						return tt.told, nil
					case <-ctx.Done():
						return false, ctx.Err()
					}
				}
			})
			ann, admin := h.client(t), h.client(t)
			ann.login("ann")
			admin.login("admin")
			start := ann.poll(0)
			if got := ann.status("POST", "/api/v1/notify", nil); got != 202 {
				t.Fatalf("POST /api/v1/notify = %d; want 202", got)
			}
			close(back)
			r := ann.poll(start.Next)
			if len(r.Events) != 1 || r.Events[0].Type != "notify" || r.Events[0].Text != tt.want ||
				r.Events[0].Approved == nil || *r.Events[0].Approved != tt.told {
				t.Fatalf("ann's poll after the host's user came back = %+v; want one notify event saying %q", r, tt.want)
			}
			if asker != "ann" {
				t.Errorf("Notify was called for %q; want ann", asker)
			}
			if got := admin.quiet(start.Next); len(got) != 0 {
				t.Errorf("admin got %+v; want nothing: the notify was ann's", got)
			}
		})
	}
}

func TestInvite(t *testing.T) {
	h := startHost(t, nil)
	admin := h.client(t)
	admin.login("admin")
	tests := []struct {
		name      string
		body      any
		want      int
		wantError string
	}{
		{"no password", inviteRequest{"127.0.0.1:5500", true, ""}, 403, "the admin password is needed for this"},
		{"wrong password", inviteRequest{"127.0.0.1:5500", true, "guess"}, 403, "the admin password is needed for this"},
		{"bad address", inviteRequest{"no port", true, "admin-pw"}, 400, "the address must be host:port"},
		{"ok", inviteRequest{"127.0.0.1:5500", true, "admin-pw"}, 204, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := admin.call("POST", "/api/v1/invite", tt.body)
			var e errorReply
			json.Unmarshal(body, &e)
			if resp.StatusCode != tt.want || e.Error != tt.wantError {
				t.Errorf("POST /api/v1/invite = %d %q; want %d %q", resp.StatusCode, e.Error, tt.want, tt.wantError)
			}
		})
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !slices.Equal(h.invites, []string{"127.0.0.1:5500"}) {
		t.Errorf("Invite calls = %v; want only the one with the admin password", h.invites)
	}
}

func TestHostInfo(t *testing.T) {
	h := startHost(t, func(s *Server) { s.Service = ServiceObserve })
	c := h.client(t)
	c.login("obs")
	var got HostInfo
	c.decode("GET", "/api/v1/host", nil, &got)
	if got.Name != "buktu on test" || got.Service != "observe" {
		t.Errorf("GET /api/v1/host = %+v; want the host's name on observe", got)
	}
}

func TestLiveAccountChange(t *testing.T) {
	h := startHost(t, nil)
	c := h.client(t)
	c.login("ann")
	if got := c.status("POST", "/api/v1/chat", chatRequest{"hi"}); got != 204 {
		t.Fatalf("POST /api/v1/chat = %d; want 204", got)
	}
	h.mu.Lock()
	h.accounts["ann"].Privileges[auth.PrivChat] = auth.Deny
	h.mu.Unlock()
	if got := c.status("POST", "/api/v1/chat", chatRequest{"hi"}); got != http.StatusForbidden {
		t.Errorf("POST /api/v1/chat after chat was denied = %d; want 403", got)
	}
}
