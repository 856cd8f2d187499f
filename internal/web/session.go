package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/buktu/buktu/internal/auth"
	"github.com/buktu/buktu/internal/events"
	"github.com/buktu/buktu/internal/who"
)

// cookieName is the session cookie: buktu_control or buktu_observe. Cookies do not tell
// ports apart, so with one name a browser logged in on both screen ports of a host would
// keep only the newer login.
func (s *Server) cookieName() string { return "buktu_" + s.service() }

// Console sessions a port holds at once. Each costs memory until it expires, and only a
// valid password makes one; but one account (the guest's, anyone's) must not fill the table
// for all: past its own limits a login ends that account's oldest session instead, from the
// same address first. A class of guests, each at a computer of its own, fits.
const (
	maxSessions               = 1024 // in all: past it a login is refused
	maxSessionsPerAccount     = 64
	maxSessionsPerAccountAddr = 8 // of one account from one address
)

// serviceConsole is the service of a console session in who's list and the activity log.
const serviceConsole = "console"

type sessionKey [sha256.Size]byte

// session is one logged-in browser. Sessions are held in memory by the SHA-256 of their
// cookie's token, so that looking one up takes no time that depends on the token.
type session struct {
	key     sessionKey
	csrf    string
	id      string // in who's list and the activity log
	account string
	remote  string
	created time.Time
	ctx     context.Context // ends with the session: its long polls, WebSockets and notify waits stop
	cancel  context.CancelFunc
	remove  func() // takes the session off who's list

	// Guarded by Server.mu.
	lastSeen  time.Time
	timer     *time.Timer  // ends the session when it expires without a request to notice
	acct      auth.Account // as at login: used when Server.Account is nil
	grants    map[auth.Privilege]*grant
	notifying bool
}

// caller is the session behind a request, with its account as it is now.
type caller struct {
	*session
	acct auth.Account
}

func (s *Server) sessionTTL() time.Duration {
	if s.SessionTTL > 0 {
		return s.SessionTTL
	}
	return defaultSessionTTL
}

func (s *Server) idleTTL() time.Duration {
	if s.IdleTTL > 0 {
		return s.IdleTTL
	}
	return defaultIdleTTL
}

// token returns 32 random bytes in base64url.
func token() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// newSession starts a console session for acct and returns it with its cookie's token.
func (s *Server) newSession(acct auth.Account, remote string) (*session, string, error) {
	tok := token()
	now := time.Now()
	c := &session{key: sha256.Sum256([]byte(tok)), csrf: token(), account: acct.Name, remote: remote,
		created: now, lastSeen: now, acct: acct}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	for _, old := range s.crowded(acct.Name, remote) {
		s.end(old, "replaced by a newer login of the same account")
	}
	s.mu.Lock()
	full := len(s.sessions) >= maxSessions
	s.mu.Unlock()
	if full {
		c.cancel()
		return nil, "", &apiError{http.StatusServiceUnavailable, "too many console sessions: try again later"}
	}
	c.id, c.remove = s.register(who.Session{Account: acct.Name, Remote: remote, Service: serviceConsole, Since: now},
		func() { s.end(c, "disconnected by an admin") })
	s.mu.Lock()
	s.sessions[c.key] = c
	c.timer = time.AfterFunc(min(s.idleTTL(), s.sessionTTL()), func() { s.expire(c) })
	s.mu.Unlock()
	s.record(events.Record{Kind: events.KindSessionStart, Account: acct.Name, Service: serviceConsole,
		Remote: remote, Session: c.id, Method: auth.MethodPassword})
	return c, tok, nil
}

// crowded returns the sessions to end so that one more of account from remote keeps within
// the per-account limits: the oldest from the same address, then the oldest of the account.
func (s *Server) crowded(account, remote string) []*session {
	s.mu.Lock()
	defer s.mu.Unlock()
	var mine, here []*session
	for _, c := range s.sessions {
		if c.account != account {
			continue
		}
		mine = append(mine, c)
		if sameHost(c.remote, remote) {
			here = append(here, c)
		}
	}
	oldest := func(a, b *session) int { return a.created.Compare(b.created) }
	slices.SortFunc(here, oldest)
	var end []*session
	if n := len(here) - (maxSessionsPerAccountAddr - 1); n > 0 {
		end = here[:n]
	}
	if n := len(mine) - len(end) - (maxSessionsPerAccount - 1); n > 0 {
		slices.SortFunc(mine, oldest)
		for _, c := range mine {
			if n == 0 {
				break
			}
			if !slices.Contains(end, c) {
				end = append(end, c)
				n--
			}
		}
	}
	return end
}

// sameHost says whether two "host:port" remote addresses are the same host.
func sameHost(a, b string) bool {
	ha, _, errA := net.SplitHostPort(a)
	hb, _, errB := net.SplitHostPort(b)
	return errA == nil && errB == nil && ha == hb
}

// register puts a session on who's list; without a Who it only makes an id for the log.
func (s *Server) register(ws who.Session, disconnect func()) (string, func()) {
	if s.Who != nil {
		return s.Who.Add(ws, disconnect)
	}
	s.mu.Lock()
	s.ids++
	id := "w" + strconv.FormatUint(s.ids, 10)
	s.mu.Unlock()
	return id, func() {}
}

// end ends a session once: it forgets it, stops what runs for it and records why it ended.
func (s *Server) end(c *session, reason string) {
	s.mu.Lock()
	if s.sessions[c.key] != c {
		s.mu.Unlock()
		return
	}
	delete(s.sessions, c.key)
	c.timer.Stop()
	s.mu.Unlock()
	c.cancel()
	// Recorded before it leaves who's list: whoever sees it gone finds why in the log.
	s.record(events.Record{Kind: events.KindSessionEnd, Account: c.account, Service: serviceConsole,
		Remote: c.remote, Session: c.id, DurationMS: time.Since(c.created).Milliseconds(), Reason: reason})
	c.remove()
}

// endAll ends every session, as when the port stops.
func (s *Server) endAll(reason string) {
	s.mu.Lock()
	all := make([]*session, 0, len(s.sessions))
	for _, c := range s.sessions {
		all = append(all, c)
	}
	s.mu.Unlock()
	for _, c := range all {
		s.end(c, reason)
	}
}

// leftLocked returns how long c has before it expires, and the reason it will.
func (s *Server) leftLocked(c *session, now time.Time) (time.Duration, string) {
	idle := c.lastSeen.Add(s.idleTTL()).Sub(now)
	whole := c.created.Add(s.sessionTTL()).Sub(now)
	if whole <= idle {
		return whole, "session expired"
	}
	return idle, "idle too long"
}

// expire runs on c's timer: it ends c when it has expired, else sets the timer again. It is
// what takes an abandoned session off who's list.
func (s *Server) expire(c *session) {
	s.mu.Lock()
	left, reason := s.leftLocked(c, time.Now())
	if s.sessions[c.key] == c && left > 0 {
		c.timer.Reset(left)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.end(c, reason)
}

// lookup returns the live session of r's cookie, or nil, and counts r as activity.
func (s *Server) lookup(r *http.Request) *session {
	for _, ck := range r.CookiesNamed(s.cookieName()) {
		key := sessionKey(sha256.Sum256([]byte(ck.Value)))
		now := time.Now()
		s.mu.Lock()
		c := s.sessions[key]
		if c == nil {
			s.mu.Unlock()
			continue
		}
		if left, reason := s.leftLocked(c, now); left <= 0 {
			s.mu.Unlock()
			s.end(c, reason)
			return nil
		}
		c.lastSeen = now
		s.mu.Unlock()
		return c
	}
	return nil
}

// current returns c's account as it is now, or false when it may no longer log in.
func (s *Server) current(c *session) (auth.Account, bool) {
	if s.Account == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		return c.acct, true
	}
	a, ok := s.Account(c.account)
	if !ok || a.Disabled {
		return auth.Account{}, false
	}
	return a, true
}

// sameOrigin says whether r may change state as far as its Origin goes: a browser sends its
// page's origin, which must be this host's; a request without one is not a browser's
// cross-site request.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Scheme == "https" && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// csrfOK says whether tok is c's CSRF token.
func (c *session) csrfOK(tok string) bool {
	return tok != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(c.csrf)) == 1
}

var errCSRF = &apiError{http.StatusForbidden, "missing or wrong CSRF token"}

// authed wraps an API handler: it needs a live session, the CSRF token and a same-origin
// Origin on what changes state, and an account that still exists. The handler's context
// ends with the session.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, caller)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := s.lookup(r)
		if c == nil {
			writeError(w, http.StatusUnauthorized, "not logged in")
			return
		}
		tok := r.Header.Get("X-CSRF-Token")
		if r.URL.Path == "/ws/rfb" {
			// Browsers cannot set headers on a WebSocket, and the upgrade must be checked
			// like a POST: it starts a session on the screen.
			tok = r.URL.Query().Get("csrf")
		}
		if (r.Method != http.MethodGet && r.Method != http.MethodHead || r.URL.Path == "/ws/rfb") &&
			(!sameOrigin(r) || !c.csrfOK(tok)) {
			writeError(w, errCSRF.status, errCSRF.msg)
			return
		}
		acct, ok := s.current(c)
		if !ok {
			s.end(c, "account removed or disabled")
			writeError(w, http.StatusUnauthorized, "not logged in")
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		stop := context.AfterFunc(c.ctx, cancel)
		defer stop()
		h(w, r.WithContext(ctx), caller{c, acct})
	}
}

// sessionReply is the body of login and GET /api/v1/session.
type sessionReply struct {
	Account    string            `json:"account"`
	Service    string            `json:"service"`
	Privileges map[string]string `json:"privileges"`
	CSRF       string            `json:"csrf"`
}

func (s *Server) reply(c caller) sessionReply {
	privs := map[string]string{}
	for _, p := range auth.Privileges() {
		privs[string(p)] = s.mode(c, p).String()
	}
	return sessionReply{Account: c.account, Service: s.service(), Privileges: privs, CSRF: c.csrf}
}

func (s *Server) cookie(tok string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: s.cookieName(), Value: tok, Path: "/", MaxAge: maxAge, Secure: true,
		HttpOnly: true, SameSite: http.SameSiteStrictMode}
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		writeError(w, errCSRF.status, errCSRF.msg)
		return
	}
	req, ok := readJSON(w, r, parseLogin)
	if !ok {
		return
	}
	if s.Login == nil {
		writeError(w, http.StatusServiceUnavailable, "logins are not set up on this port")
		return
	}
	acct, err := s.Login(r.Context(), req.Account, req.Password, remoteAddr(r))
	if te, ok := errorsAsThrottled(err); ok {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter(te.RetryAfter)))
		writeError(w, http.StatusTooManyRequests, te.Message())
		return
	}
	if err != nil {
		writeError(w, http.StatusUnauthorized, "wrong account or password")
		return
	}
	if old := s.lookup(r); old != nil {
		s.end(old, "logged in again")
	}
	c, tok, err := s.newSession(acct, r.RemoteAddr)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.SetCookie(w, s.cookie(tok, int(s.sessionTTL().Seconds())))
	writeJSON(w, http.StatusOK, s.reply(caller{c, acct}))
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, c caller) {
	s.end(c.session, "logout")
	http.SetCookie(w, s.cookie("", -1))
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) whoami(w http.ResponseWriter, r *http.Request, c caller) {
	writeJSON(w, http.StatusOK, s.reply(c))
}
