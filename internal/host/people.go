package host

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/buktu/buktu/internal/ask"
	"github.com/buktu/buktu/internal/auth"
	"github.com/buktu/buktu/internal/events"
	"github.com/buktu/buktu/internal/screen/x11"
	"github.com/buktu/buktu/internal/who"
)

// ChatFile is the chat transcript, in the data directory.
const ChatFile = "chat.log"

// allowed decides one privilege of an account for a session: allow and deny are the account's
// word; ask holds the session until the person at the host answers (console, or buktu
// approve / deny) or ask_timeout passes, which means no. Every decision goes to the log.
func (h *host) allowed(ctx context.Context, acct auth.Account, p auth.Privilege, service, remote, session string) bool {
	m := acct.Mode(p)
	outcome, reason := events.OutcomeOK, ""
	switch m {
	case auth.Deny:
		outcome, reason = events.OutcomeDenied, "privilege is deny"
	case auth.Ask:
		ok, err := h.ask.Ask(ctx, ask.Request{Account: acct.Name, Privilege: string(p), Remote: remote, Service: service})
		switch {
		case ok:
			reason = "the person at the host said yes"
		case errors.Is(err, ask.ErrNoAnswer):
			outcome, reason = events.OutcomeDenied, "no answer from the person at the host"
		case err != nil:
			outcome, reason = events.OutcomeDenied, "the session ended while asking"
		default:
			outcome, reason = events.OutcomeDenied, "the person at the host said no"
		}
	}
	h.record(events.Record{Kind: events.KindDecision, Outcome: outcome, Account: acct.Name, Service: service,
		Remote: remote, Session: session, Privilege: string(p), Reason: reason})
	return outcome == events.OutcomeOK
}

// notifyPrivilege names, in the approval queue, the question whether to tell someone that
// the person at the host is back.
const notifyPrivilege = "notify"

// asked tells the person at the host that someone waits for an answer, on the host's output
// and in its log (the console shows it too, from the queue).
func (h *host) asked(r ask.Request) {
	h.log.Info("approval requested", "id", r.ID, "account", r.Account, "privilege", r.Privilege,
		"remote_addr", r.Remote, "service", r.Service)
	what := "asks for " + r.Privilege + " on " + r.Service
	if r.Privilege == notifyPrivilege {
		what = "wants to know you are back"
	}
	fmt.Fprintf(h.out, "%s %s from %s %s: buktu approve %s, or buktu deny %s\n",
		time.Now().Format("15:04:05"), r.Account, r.Remote, what, r.ID, r.ID)
}

// notify waits until the person at the host is back, then, with console.notify = "ask",
// asks them whether to tell account; no answer in time means not to.
func (h *host) notify(ctx context.Context, d *display, account, remote string) (bool, error) {
	if err := waitForUser(ctx, d.conn); err != nil {
		return false, err
	}
	if h.cfg.Console.Notify != "ask" {
		return true, nil
	}
	ok, err := h.ask.Ask(ctx, ask.Request{Account: account, Privilege: notifyPrivilege, Remote: remote, Service: "console"})
	if errors.Is(err, ask.ErrNoAnswer) {
		return false, nil
	}
	return ok, err
}

// join registers a session in who is connected until the returned func is called.
func (h *host) join(account, remote, service string, disconnect func()) (leave func()) {
	_, leave = h.who.Add(who.Session{Account: account, Remote: remote, Service: service}, disconnect)
	return leave
}

// notifyPoll is how often Notify looks at the display's idle time.
const notifyPoll = 250 * time.Millisecond

// waitForUser blocks until someone uses the display's own keyboard or mouse (input injected
// for viewers does not count), or ctx ends: Timbuktu's Notify.
func waitForUser(ctx context.Context, conn *x11.Conn) error {
	start := time.Now()
	t := time.NewTicker(notifyPoll)
	defer t.Stop()
	for {
		back, err := conn.LocalInputSince(start)
		if err != nil {
			return fmt.Errorf("watch the host's keyboard and mouse: %w", err)
		}
		if back {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
