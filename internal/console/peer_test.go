package console

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/buktu/buktu/internal/ask"
	"github.com/buktu/buktu/internal/chat"
	"github.com/buktu/buktu/internal/identity"
	"github.com/buktu/buktu/internal/who"
)

// peer is a test host for the client: just enough of the console API (see the README's
// console section) to exercise every call, over TLS with a certificate that can be swapped.
// It is not the real server (package web).
type peer struct {
	srv   *httptest.Server
	addr  string
	cert  atomic.Pointer[tls.Certificate]
	room  *chat.Room
	queue ask.Queue
	who   who.Registry
	// notifyAsked gets a value for every POST /notify, polls the after of every events request.
	notifyAsked chan struct{}
	polls       chan uint64

	mu      sync.Mutex        // guards the fields below
	tokens  map[string]string // session cookie to CSRF token
	events  []Event           // events[i].Seq is i+1
	changed chan struct{}     // closed at the next event
}

// newCert makes a new host certificate, as a host's first start does.
func newCert(t *testing.T) *tls.Certificate {
	t.Helper()
	id, _, err := identity.LoadOrCreate(filepath.Join(t.TempDir(), "id"))
	if err != nil {
		t.Fatalf("make a host identity: %v", err)
	}
	return &id.TLS
}

func newPeer(t *testing.T) *peer {
	t.Helper()
	room, err := chat.Open(filepath.Join(t.TempDir(), "chat.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { room.Close() })
	p := &peer{
		room:        room,
		notifyAsked: make(chan struct{}, 10),
		polls:       make(chan uint64, 100),
		tokens:      map[string]string{},
		changed:     make(chan struct{}),
	}
	p.cert.Store(newCert(t))
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/login", p.login)
	mux.HandleFunc("POST /api/v1/logout", p.session(p.logout))
	mux.HandleFunc("GET /api/v1/host", p.session(p.host))
	mux.HandleFunc("GET /api/v1/chat", p.session(p.transcript))
	mux.HandleFunc("POST /api/v1/chat", p.session(p.chat))
	mux.HandleFunc("GET /api/v1/events", p.session(p.feed))
	mux.HandleFunc("POST /api/v1/notify", p.session(p.notify))
	mux.HandleFunc("GET /api/v1/sessions", p.session(p.sessions))
	mux.HandleFunc("DELETE /api/v1/sessions/{id}", p.session(p.disconnect))
	mux.HandleFunc("GET /api/v1/approvals", p.session(p.approvals))
	mux.HandleFunc("POST /api/v1/approvals/{id}", p.session(p.decide))
	p.srv = httptest.NewUnstartedServer(mux)
	// Asked at every handshake, so that a test can change the certificate.
	p.srv.TLS = &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		return &tls.Config{Certificates: []tls.Certificate{*p.cert.Load()}}, nil
	}}
	p.srv.StartTLS()
	t.Cleanup(p.srv.Close)
	p.addr = p.srv.Listener.Addr().String()
	return p
}

// emit adds an event to the feed.
func (p *peer) emit(ev Event) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	ev.Seq = uint64(len(p.events) + 1)
	p.events = append(p.events, ev)
	close(p.changed)
	p.changed = make(chan struct{})
	return ev.Seq
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func refuse(w http.ResponseWriter, status int, text string) {
	reply(w, status, map[string]string{"error": text})
}

// session checks the session cookie, and the CSRF token of a request that changes state.
func (p *peer) session(h func(w http.ResponseWriter, r *http.Request, account string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("buktu_session")
		p.mu.Lock()
		csrf, ok := "", false
		if err == nil {
			csrf, ok = p.tokens[c.Value]
		}
		p.mu.Unlock()
		switch {
		case !ok:
			refuse(w, http.StatusUnauthorized, "not logged in")
		case r.Method != http.MethodGet && r.Header.Get("X-CSRF-Token") != csrf:
			refuse(w, http.StatusForbidden, "missing or wrong CSRF token")
		default:
			h(w, r, "ann")
		}
	}
}

func (p *peer) login(w http.ResponseWriter, r *http.Request) {
	var in struct{ Account, Password string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		refuse(w, http.StatusBadRequest, "bad request")
		return
	}
	switch {
	case in.Account == "throttled":
		w.Header().Set("Retry-After", "30")
		refuse(w, http.StatusTooManyRequests, "too many failed logins")
		return
	case in.Account == "banned": // as buktu's hosts say it: the text has the wait already
		w.Header().Set("Retry-After", "900")
		refuse(w, http.StatusTooManyRequests, "too many failed logins from your address: it is blocked; try again in 900 s")
		return
	case in.Account == "evil":
		refuse(w, http.StatusUnauthorized, "\x1b[2Jwrong\r\naccount")
		return
	case in.Account != "ann" || in.Password != "secret":
		refuse(w, http.StatusUnauthorized, "wrong account or password")
		return
	}
	token, csrf := rand.Text(), rand.Text()
	p.mu.Lock()
	p.tokens[token] = csrf
	p.mu.Unlock()
	p.who.Add(who.Session{Account: in.Account, Remote: r.RemoteAddr, Service: "console"}, nil)
	p.emit(Event{Type: EventSessions})
	http.SetCookie(w, &http.Cookie{Name: "buktu_session", Value: token, Path: "/",
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	reply(w, http.StatusOK, map[string]any{"account": in.Account, "service": "control",
		"privileges": map[string]string{"chat": "allow", "admin": "allow"}, "csrf": csrf})
}

func (p *peer) logout(w http.ResponseWriter, r *http.Request, _ string) {
	c, _ := r.Cookie("buktu_session")
	p.mu.Lock()
	delete(p.tokens, c.Value)
	p.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "buktu_session", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true})
	w.WriteHeader(http.StatusNoContent)
}

func (p *peer) host(w http.ResponseWriter, _ *http.Request, _ string) {
	reply(w, http.StatusOK, map[string]any{"name": "buktu on test", "version": "test", "service": "control",
		"tls_sha256": identity.CertFingerprint(p.cert.Load().Leaf.Raw), "ssh_sha256": "SHA256:x",
		"screen": map[string]int{"width": 1920, "height": 1080}})
}

func (p *peer) transcript(w http.ResponseWriter, _ *http.Request, _ string) {
	reply(w, http.StatusOK, map[string]any{"messages": p.room.Messages()})
}

func (p *peer) chat(w http.ResponseWriter, r *http.Request, account string) {
	var in struct{ Text string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		refuse(w, http.StatusBadRequest, "bad request")
		return
	}
	m, err := p.room.Post(account, in.Text)
	if errors.Is(err, chat.ErrBadText) {
		refuse(w, http.StatusBadRequest, err.Error())
		return
	}
	if err != nil {
		refuse(w, http.StatusInternalServerError, "internal error")
		return
	}
	p.emit(Event{Type: EventChat, From: m.From, Text: m.Text, Time: m.Time})
	w.WriteHeader(http.StatusNoContent)
}

// feed is the long poll, with package web's cursor: a reply holds the events from after on,
// and after 0 (or beyond the end) answers at once with the cursor of now.
func (p *peer) feed(w http.ResponseWriter, r *http.Request, _ string) {
	after, err := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
	if err != nil {
		refuse(w, http.StatusBadRequest, "bad after")
		return
	}
	select {
	case p.polls <- after:
	case <-r.Context().Done():
		return
	}
	for {
		p.mu.Lock()
		end, changed := uint64(len(p.events)+1), p.changed
		var evs []Event
		if after != 0 && after < end {
			evs = append(evs, p.events[after-1:]...)
		}
		p.mu.Unlock()
		if after == 0 || after > end || len(evs) > 0 {
			reply(w, http.StatusOK, map[string]any{"events": evs, "next": end})
			return
		}
		select {
		case <-changed:
		case <-r.Context().Done():
			return
		}
	}
}

func (p *peer) notify(w http.ResponseWriter, _ *http.Request, _ string) {
	p.notifyAsked <- struct{}{}
	w.WriteHeader(http.StatusAccepted)
}

func (p *peer) sessions(w http.ResponseWriter, _ *http.Request, _ string) {
	reply(w, http.StatusOK, map[string]any{"sessions": p.who.List()})
}

func (p *peer) disconnect(w http.ResponseWriter, r *http.Request, _ string) {
	if !p.who.Disconnect(r.PathValue("id")) {
		refuse(w, http.StatusNotFound, "no such session")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (p *peer) approvals(w http.ResponseWriter, _ *http.Request, _ string) {
	reply(w, http.StatusOK, map[string]any{"approvals": p.queue.Pending()})
}

func (p *peer) decide(w http.ResponseWriter, r *http.Request, _ string) {
	var in struct{ Approve *bool }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Approve == nil {
		refuse(w, http.StatusBadRequest, "bad request")
		return
	}
	if err := p.queue.Decide(r.PathValue("id"), *in.Approve); err != nil {
		refuse(w, http.StatusNotFound, err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
