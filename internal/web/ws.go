package web

import (
	"context"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/buktu/buktu/internal/auth"
	"github.com/buktu/buktu/internal/events"
	"github.com/buktu/buktu/internal/who"
)

// maxMessage bounds a WebSocket message from the browser: noVNC's clipboard text is the
// largest, and the RFB server has its own, smaller, limit on it.
const maxMessage = 1 << 20

// rfb bridges a WebSocket to the host's RFB session code. The decision (and any asking) comes
// before the upgrade, so a refusal is an ordinary 403 with its reason; the person's browser
// waits on the upgrade meanwhile.
func (s *Server) rfb(w http.ResponseWriter, r *http.Request, c caller) {
	s.wg.Add(1) // before the upgrade: Serve's shutdown waits for requests until then
	defer s.wg.Done()
	if s.Screen == nil {
		s.fail(w, r, errUnavailable)
		return
	}
	input, err := s.screenAccess(r.Context(), c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	priv := auth.PrivObserve
	if input {
		priv = auth.PrivControl
	}
	// noVNC offers no subprotocol; older clients offer "binary".
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"binary"}})
	if err != nil {
		return // Accept has answered
	}
	// The request's context is not to be used after the upgrade; the bridge lasts as long as
	// the console session, or until someone disconnects it.
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	conn := websocket.NetConn(ctx, ws, websocket.MessageBinary)
	ws.SetReadLimit(maxMessage) // NetConn lifts the limit; put one back
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	svc := s.service()
	if !input {
		svc = ServiceObserve
	}
	id, remove := s.register(who.Session{Account: c.account, Remote: r.RemoteAddr, Service: svc}, cancel)
	defer remove()
	started := time.Now()
	s.record(events.Record{Kind: events.KindSessionStart, Account: c.account, Service: svc,
		Remote: r.RemoteAddr, Session: id, Privilege: string(priv), Reason: "browser viewer"})
	s.log().Info("browser viewer joined", "account", c.account, "remote_addr", r.RemoteAddr, "input", input)

	s.Screen(ctx, conn, c.account, input)

	reason := "viewer left"
	if c.ctx.Err() != nil {
		reason = "console session ended"
	} else if ctx.Err() != nil {
		reason = "disconnected by an admin"
	}
	s.record(events.Record{Kind: events.KindSessionEnd, Account: c.account, Service: svc,
		Remote: r.RemoteAddr, Session: id, DurationMS: time.Since(started).Milliseconds(), Reason: reason})
}
