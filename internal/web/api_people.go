package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/buktu/buktu/internal/ask"
	"github.com/buktu/buktu/internal/auth"
	"github.com/buktu/buktu/internal/chat"
	"github.com/buktu/buktu/internal/events"
	"github.com/buktu/buktu/internal/who"
)

// notifyText is what a notify event says to the person who asked; declinedText when the
// person at the host, asked first, said not to tell.
const (
	notifyText   = "the person at the host is back"
	declinedText = "the person at the host is back, but would rather not be disturbed now"
)

var errUnavailable = &apiError{http.StatusNotFound, "not available on this host"}

func (s *Server) host(w http.ResponseWriter, r *http.Request, c caller) {
	var info HostInfo
	if s.Host != nil {
		info = s.Host()
	}
	info.Service = s.service()
	writeJSON(w, http.StatusOK, info)
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request, c caller) {
	list := []who.Session{}
	if s.Who != nil {
		list = s.Who.List()
	}
	writeJSON(w, http.StatusOK, struct {
		Sessions []who.Session `json:"sessions"`
	}{list})
}

func (s *Server) disconnect(w http.ResponseWriter, r *http.Request, c caller) {
	if err := s.need(r.Context(), c, auth.PrivAdmin); err != nil {
		s.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	if s.Who == nil || !s.Who.Disconnect(id) {
		writeError(w, http.StatusNotFound, "no such session")
		return
	}
	s.record(events.Record{Kind: events.KindDecision, Outcome: events.OutcomeOK, Account: c.account,
		Service: serviceConsole, Remote: c.remote, Session: c.id, Privilege: string(auth.PrivAdmin),
		Reason: "disconnected session " + id})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) transcript(w http.ResponseWriter, r *http.Request, c caller) {
	if err := s.need(r.Context(), c, auth.PrivChat); err != nil {
		s.fail(w, r, err)
		return
	}
	msgs := []chat.Message{}
	if s.Chat != nil {
		msgs = s.Chat.Messages()
	}
	writeJSON(w, http.StatusOK, struct {
		Messages []chat.Message `json:"messages"`
	}{msgs})
}

func (s *Server) post(w http.ResponseWriter, r *http.Request, c caller) {
	if err := s.need(r.Context(), c, auth.PrivChat); err != nil {
		s.fail(w, r, err)
		return
	}
	req, ok := readJSON(w, r, parseChat)
	if !ok {
		return
	}
	if s.Chat == nil {
		s.fail(w, r, errUnavailable)
		return
	}
	_, err := s.Chat.Post(c.account, req.Text)
	if errors.Is(err, chat.ErrBadText) {
		err = badRequest(err.Error()) // its text is written for the person who typed it
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// notify starts waiting for the person at the host; the notify event goes to this session
// only. A session waits once at a time; asking again while it waits changes nothing.
func (s *Server) notify(w http.ResponseWriter, r *http.Request, c caller) {
	if err := s.need(r.Context(), c, auth.PrivChat); err != nil {
		s.fail(w, r, err)
		return
	}
	if s.Notify == nil {
		s.fail(w, r, errUnavailable)
		return
	}
	s.mu.Lock()
	start := !c.notifying
	c.notifying = true
	s.mu.Unlock()
	if start {
		sess := c.session
		s.wg.Go(func() {
			told, err := s.Notify(sess.ctx, sess.account, sess.remote)
			s.mu.Lock()
			sess.notifying = false
			s.mu.Unlock()
			if err == nil {
				text := notifyText
				if !told {
					text = declinedText
				}
				s.feed.add(event{Type: "notify", Text: text, Approved: &told, to: sess})
			}
		})
	}
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) approvals(w http.ResponseWriter, r *http.Request, c caller) {
	if err := s.need(r.Context(), c, auth.PrivAdmin); err != nil {
		s.fail(w, r, err)
		return
	}
	list := []ask.Request{}
	if s.Ask != nil {
		list = s.Ask.Pending()
	}
	writeJSON(w, http.StatusOK, struct {
		Approvals []ask.Request `json:"approvals"`
	}{list})
}

func (s *Server) decide(w http.ResponseWriter, r *http.Request, c caller) {
	if err := s.need(r.Context(), c, auth.PrivAdmin); err != nil {
		s.fail(w, r, err)
		return
	}
	req, ok := readJSON(w, r, parseApproval)
	if !ok {
		return
	}
	if s.Ask == nil {
		s.fail(w, r, errUnavailable)
		return
	}
	id := r.PathValue("id")
	s.feed.sync(s) // so that the feed knows the request it is to report answered
	var asked ask.Request
	for _, p := range s.Ask.Pending() {
		if p.ID == id {
			asked = p
		}
	}
	if err := s.Ask.Decide(id, *req.Approve); err != nil {
		writeError(w, http.StatusNotFound, "no such request waiting for an answer")
		return
	}
	s.feed.decide(id, *req.Approve)
	outcome, answer := events.OutcomeDenied, "denied"
	if *req.Approve {
		outcome, answer = events.OutcomeOK, "approved"
	}
	s.record(events.Record{Kind: events.KindDecision, Outcome: outcome, Account: asked.Account,
		Service: asked.Service, Remote: asked.Remote, Privilege: asked.Privilege,
		Reason: "privilege is ask: " + answer + " by " + c.account + " in the console"})
	w.WriteHeader(http.StatusNoContent)
}

// invite needs the admin password again: someone who merely holds the session of an admin
// (a browser left open) must not be able to send the screen elsewhere.
func (s *Server) invite(w http.ResponseWriter, r *http.Request, c caller) {
	if err := s.need(r.Context(), c, auth.PrivAdmin); err != nil {
		s.fail(w, r, err)
		return
	}
	if s.service() != ServiceControl {
		writeError(w, http.StatusForbidden, "invite is only on the Control port")
		return
	}
	req, ok := readJSON(w, r, parseInvite)
	if !ok {
		return
	}
	if !s.master(w, r, req.Password) {
		return
	}
	if s.Invite == nil {
		s.fail(w, r, errUnavailable)
		return
	}
	if err := s.Invite(r.Context(), req.Address, req.Control); err != nil {
		s.log().Info("invite failed", "address", req.Address, "err", err)
		writeError(w, http.StatusBadGateway, "could not connect to a viewer at "+req.Address)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// master checks the admin account's password, the master password that guards settings, or
// answers the refusal.
func (s *Server) master(w http.ResponseWriter, r *http.Request, password string) bool {
	if s.Login == nil || password == "" {
		writeError(w, http.StatusForbidden, "the admin password is needed for this")
		return false
	}
	_, err := s.Login(r.Context(), auth.AdminName, password, remoteAddr(r))
	if te, ok := errorsAsThrottled(err); ok {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter(te.RetryAfter)))
		writeError(w, http.StatusTooManyRequests, te.Message())
		return false
	}
	if err != nil {
		writeError(w, http.StatusForbidden, "the admin password is needed for this")
		return false
	}
	return true
}

func (s *Server) activity(w http.ResponseWriter, r *http.Request, c caller) {
	if err := s.need(r.Context(), c, auth.PrivAdmin); err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	limit, err := parseCount(q.Get("limit"), 200, 10000)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.Log == nil {
		s.fail(w, r, errUnavailable)
		return
	}
	recs, err := s.Log(q.Get("account"), q.Get("service"), int(max(limit, 1)))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if recs == nil {
		recs = []events.Record{}
	}
	writeJSON(w, http.StatusOK, struct {
		Records []events.Record `json:"records"`
	}{recs})
}
