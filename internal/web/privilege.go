package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/buktu/buktu/internal/ask"
	"github.com/buktu/buktu/internal/auth"
	"github.com/buktu/buktu/internal/events"
)

// Refusals of a privilege, as the person asking hears them.
var (
	errDenied   = &apiError{http.StatusForbidden, "permission denied"}
	errSaidNo   = &apiError{http.StatusForbidden, "the person at the host said no"}
	errNoAnswer = &apiError{http.StatusForbidden, "no answer from the person at the host"}
)

// grant is a session's request for an "ask" privilege: asked once, shared by the requests
// that need it meanwhile, and kept for the rest of the session once approved.
type grant struct {
	done chan struct{} // closed when answered
	err  error         // nil when approved; written before done is closed
	ok   bool          // approved; guarded by Server.mu
}

// portAllows says whether this port can ever allow p: the Observe port's console is
// view-only, so it watches the screen and chats, and nothing more.
func (s *Server) portAllows(p auth.Privilege) bool {
	return s.service() == ServiceControl || p == auth.PrivObserve || p == auth.PrivChat
}

// mode returns what c holds for p through this port, counting the session's approvals.
// Whoever may control the screen may watch it.
func (s *Server) mode(c caller, p auth.Privilege) auth.Mode {
	if !s.portAllows(p) {
		return auth.Deny
	}
	m := c.acct.Mode(p)
	if p == auth.PrivObserve {
		m = best(m, c.acct.Mode(auth.PrivControl))
	}
	if m == auth.Ask {
		s.mu.Lock()
		g := c.grants[p]
		if g != nil && g.ok {
			m = auth.Allow
		}
		s.mu.Unlock()
	}
	return m
}

// best returns the more permissive of two modes.
func best(a, b auth.Mode) auth.Mode {
	rank := func(m auth.Mode) int {
		switch m {
		case auth.Allow:
			return 2
		case auth.Ask:
			return 1
		}
		return 0
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// has says whether c holds p now, without asking.
func (s *Server) has(c caller, p auth.Privilege) bool { return s.mode(c, p) == auth.Allow }

// need returns nil when c may use p: at once when it is allowed, after the person at the host
// approves when it is "ask". A refusal is an *apiError for the person asking.
func (s *Server) need(ctx context.Context, c caller, p auth.Privilege) error {
	switch s.mode(c, p) {
	case auth.Allow:
		return nil
	case auth.Deny:
		s.decision(c, p, events.OutcomeDenied, "privilege is deny")
		return errDenied
	}
	s.mu.Lock()
	g := c.grants[p]
	first := g == nil
	if first {
		g = &grant{done: make(chan struct{})}
		if c.grants == nil {
			c.grants = map[auth.Privilege]*grant{}
		}
		c.grants[p] = g
	}
	s.mu.Unlock()
	if !first {
		select {
		case <-g.done:
			return g.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	g.err = s.ask(ctx, c, p)
	s.mu.Lock()
	if g.err == nil {
		g.ok = true
	} else {
		delete(c.grants, p) // the next request asks again
	}
	s.mu.Unlock()
	close(g.done)
	return g.err
}

// ask asks the person at the host to allow p for c, and records the answer.
func (s *Server) ask(ctx context.Context, c caller, p auth.Privilege) error {
	if s.Ask == nil {
		s.decision(c, p, events.OutcomeDenied, "privilege is ask, and nobody can be asked")
		return errNoAnswer
	}
	ok, err := s.Ask.Ask(ctx, ask.Request{Account: c.account, Privilege: string(p), Remote: c.remote,
		Service: serviceConsole})
	switch {
	case ctx.Err() != nil && !ok:
		return ctx.Err() // given up by the requester: nobody decided
	case errors.Is(err, ask.ErrNoAnswer), err != nil:
		s.decision(c, p, events.OutcomeDenied, "privilege is ask: no answer in time")
		return errNoAnswer
	case !ok:
		s.decision(c, p, events.OutcomeDenied, "privilege is ask: the person at the host said no")
		return errSaidNo
	}
	s.decision(c, p, events.OutcomeOK, "privilege is ask: the person at the host said yes")
	return nil
}

// decision records a privilege decision about c.
func (s *Server) decision(c caller, p auth.Privilege, outcome, reason string) {
	s.record(events.Record{Kind: events.KindDecision, Outcome: outcome, Account: c.account,
		Service: serviceConsole, Remote: c.remote, Session: c.id, Privilege: string(p), Reason: reason})
}

// screenAccess decides, asking when it must, whether c may see the screen and whether with
// input: input only on the Control port with the control privilege. Someone refused control
// who may watch anyway gets the screen without input.
func (s *Server) screenAccess(ctx context.Context, c caller) (input bool, err error) {
	if s.service() == ServiceControl && s.mode(c, auth.PrivControl) != auth.Deny {
		err := s.need(ctx, c, auth.PrivControl)
		if err == nil {
			return true, nil
		}
		if ctx.Err() != nil || c.acct.Mode(auth.PrivObserve) != auth.Allow {
			return false, err
		}
		return false, nil
	}
	return false, s.need(ctx, c, auth.PrivObserve)
}
