package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/buktu/buktu/internal/ask"
	"github.com/buktu/buktu/internal/chat"
	"github.com/buktu/buktu/internal/who"
)

// The types of Event.
const (
	EventChat         = "chat"          // a chat message: From, Text, Time
	EventApproval     = "approval"      // a request waits for approval: ID, Account, Privilege, Remote, Service, Time
	EventApprovalDone = "approval_done" // a request was answered: ID, Approved
	EventNotify       = "notify"        // the person at the host is back: Text
	EventSessions     = "sessions"      // who is connected changed: call Sessions again
)

// Event is one event of the console's feed. Which fields are set depends on Type.
type Event struct {
	Seq       uint64    `json:"seq"`
	Type      string    `json:"type"`
	From      string    `json:"from,omitempty"`
	Text      string    `json:"text,omitempty"`
	Time      time.Time `json:"time,omitzero"`
	ID        string    `json:"id,omitempty"`
	Account   string    `json:"account,omitempty"`
	Privilege string    `json:"privilege,omitempty"`
	Remote    string    `json:"remote,omitempty"`
	Service   string    `json:"service,omitempty"`
	Approved  bool      `json:"approved,omitempty"`
}

// HostInfo describes the host, as GET /api/v1/host tells it.
type HostInfo struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Service   string `json:"service"`
	TLSSHA256 string `json:"tls_sha256"`
	SSHSHA256 string `json:"ssh_sha256"`
	Screen    struct {
		Width  int `json:"width"`
		Height int `json:"height"`
	} `json:"screen"`
}

// Host returns what the host says about itself.
func (c *Client) Host(ctx context.Context) (HostInfo, error) {
	var h HostInfo
	if err := c.do(ctx, http.MethodGet, "/api/v1/host", nil, &h); err != nil {
		return HostInfo{}, fmt.Errorf("ask about the host: %w", err)
	}
	return h, nil
}

// Chat posts text to the host's chat.
func (c *Client) Chat(ctx context.Context, text string) error {
	if err := c.do(ctx, http.MethodPost, "/api/v1/chat", map[string]string{"text": text}, nil); err != nil {
		return fmt.Errorf("send chat message: %w", err)
	}
	return nil
}

// Transcript returns the latest chat messages (the host keeps 200), oldest first.
func (c *Client) Transcript(ctx context.Context) ([]chat.Message, error) {
	var r struct {
		Messages []chat.Message `json:"messages"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/chat", nil, &r); err != nil {
		return nil, fmt.Errorf("read chat transcript: %w", err)
	}
	return r.Messages, nil
}

// Events waits for events from the cursor after and returns them with the cursor to pass
// next. The host answers at once when it has events, else after a while (25 s) with none.
// after 0 starts the feed at the present: the answer holds no events, only the cursor.
func (c *Client) Events(ctx context.Context, after uint64) ([]Event, uint64, error) {
	var r struct {
		Events []Event `json:"events"`
		Next   uint64  `json:"next"`
	}
	path := "/api/v1/events?after=" + strconv.FormatUint(after, 10)
	if err := c.do(ctx, http.MethodGet, path, nil, &r); err != nil {
		return nil, after, fmt.Errorf("read events: %w", err)
	}
	return r.Events, r.Next, nil
}

// ErrDeclined is Notify's answer when the person at the host came back but, asked first
// (console.notify = "ask"), chose not to say so.
var ErrDeclined = errors.New("the person at the host is back, but would rather not be disturbed now")

// Notify asks the host to say when its user is next active (keyboard or mouse), and waits
// until it does or ctx ends.
func (c *Client) Notify(ctx context.Context) error {
	// Take the cursor first, so that the notify event cannot fall before it.
	_, next, err := c.Events(ctx, 0)
	if err != nil {
		return err
	}
	if err := c.do(ctx, http.MethodPost, "/api/v1/notify", nil, nil); err != nil {
		return fmt.Errorf("ask to be notified: %w", err)
	}
	for {
		evs, n, err := c.Events(ctx, next)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			if ev.Type == EventNotify {
				if !ev.Approved {
					return ErrDeclined
				}
				return nil
			}
		}
		next = n
	}
}

// Sessions returns who is connected to the host.
func (c *Client) Sessions(ctx context.Context) ([]who.Session, error) {
	var r struct {
		Sessions []who.Session `json:"sessions"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/sessions", nil, &r); err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return r.Sessions, nil
}

// Disconnect ends the session id on the host (admin only).
func (c *Client) Disconnect(ctx context.Context, id string) error {
	if err := c.do(ctx, http.MethodDelete, "/api/v1/sessions/"+url.PathEscape(id), nil, nil); err != nil {
		return fmt.Errorf("disconnect session %s: %w", id, err)
	}
	return nil
}

// Approvals returns the requests waiting for the person at the host to allow them (admin
// only).
func (c *Client) Approvals(ctx context.Context) ([]ask.Request, error) {
	var r struct {
		Approvals []ask.Request `json:"approvals"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/approvals", nil, &r); err != nil {
		return nil, fmt.Errorf("list approvals: %w", err)
	}
	return r.Approvals, nil
}

// Decide approves or denies the waiting request id (admin only).
func (c *Client) Decide(ctx context.Context, id string, approve bool) error {
	verb := "deny"
	if approve {
		verb = "approve"
	}
	body := map[string]bool{"approve": approve}
	if err := c.do(ctx, http.MethodPost, "/api/v1/approvals/"+url.PathEscape(id), body, nil); err != nil {
		return fmt.Errorf("%s request %s: %w", verb, id, err)
	}
	return nil
}
