package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/buktu/buktu/internal/ask"
	"github.com/buktu/buktu/internal/auth"
	"github.com/buktu/buktu/internal/chat"
	"github.com/buktu/buktu/internal/events"
	"github.com/buktu/buktu/internal/files"
	"github.com/buktu/buktu/internal/quota"
	"github.com/buktu/buktu/internal/who"
)

// The services a console port can be, and what its Service field holds.
const (
	ServiceControl = "control" // the full console
	ServiceObserve = "observe" // view-only: the screen without input, chat, who is connected
)

// HostInfo describes the host for GET /api/v1/host.
type HostInfo struct {
	Name      string     `json:"name"`
	Version   string     `json:"version"`
	Service   string     `json:"service"` // filled in by the Server: the port's service
	TLSSHA256 string     `json:"tls_sha256"`
	SSHSHA256 string     `json:"ssh_sha256"`
	Screen    ScreenSize `json:"screen"`
}

// ScreenSize is the size of the shared screen, in pixels.
type ScreenSize struct {
	Width  int `json:"width"`
	Height int `json:"height"`
}

// Server is the console of one screen port. The zero value serves a view-only console with
// nothing behind it; the host sets the callbacks and the shared services. Change no field
// after the first request.
type Server struct {
	Logger *slog.Logger
	// Service is what this port can ever allow: ServiceControl or ServiceObserve. Empty means
	// ServiceObserve, the safer guess.
	Service string
	// Login checks a password, throttled by the host. Its errors: *auth.ThrottledError when
	// throttled (429 with Retry-After), anything else a wrong account or password.
	Login func(ctx context.Context, account, password string, remote netip.AddrPort) (auth.Account, error)
	// Account returns an account's privileges as they are now: they change while a session
	// lasts. Nil means the account as it was at login; false ends the session.
	Account func(name string) (auth.Account, bool)
	// Screen serves RFB (security None: the session is authenticated) on c until it ends,
	// with keyboard and mouse only when input is true.
	Screen     func(ctx context.Context, c net.Conn, account string, input bool)
	Inbox      *files.Inbox
	Exchange   *files.Exchange
	OnTransfer func(account, remote string, t files.Transfer) // for the activity log
	Who        *who.Registry
	Chat       *chat.Room
	Ask        *ask.Queue
	// Notify blocks until the person at the host is active again, or ctx ends, and says
	// whether they agreed to let account (at remote) know: the host may answer for them
	// or ask them first.
	Notify func(ctx context.Context, account, remote string) (told bool, err error)
	// Invite connects out to a viewer listening at address.
	Invite func(ctx context.Context, address string, control bool) error
	Host   func() HostInfo
	Log    func(account, service string, limit int) ([]events.Record, error)
	// Record writes the activity log: console and screen sessions, privilege decisions,
	// account changes.
	Record func(events.Record)
	// Accounts are the host's accounts, which admins manage from the Control port's console
	// with the admin password; nil leaves account management out.
	Accounts AccountStore
	// SessionTTL ends a session after this long (default 12 h), IdleTTL after this long
	// without a request (default 30 min).
	SessionTTL, IdleTTL time.Duration
	// ShutdownGrace is how long Serve lets running requests (a file being sent) finish once
	// ctx ends; zero means 10 s.
	ShutdownGrace time.Duration
	// Assets are the browser's files ("index.html", "novnc.js", …); nil, or without
	// index.html, makes the page say that the console is not built into this binary.
	Assets fs.FS
	// HandshakeTimeout bounds the time from a connection's accept to its first request read:
	// the TLS handshake and the request's headers together (default 30s).
	HandshakeTimeout time.Duration
	// Pending holds the connections that have not sent their first request yet; nil means a
	// pool of quota's defaults of the Server's own. The host shares one between the console
	// and the VNC viewers of a port.
	Pending *quota.Pending

	ownPending quota.Pending // Pending's stand-in when nil

	once     sync.Once
	handler  http.Handler
	mu       sync.Mutex              // guards sessions and the fields of each session marked so
	sessions map[sessionKey]*session // by the SHA-256 of the cookie's token
	feed     feed                    // has its own lock
	wg       sync.WaitGroup          // screen bridges and notify waits
	ids      uint64                  // guarded by mu: session ids made when Who is nil
}

// Defaults of the zero Server.
const (
	defaultSessionTTL = 12 * time.Hour
	defaultIdleTTL    = 30 * time.Minute
	pollWait          = 25 * time.Second // how long a long poll waits for an event
	shutdownGrace     = 10 * time.Second
)

func (s *Server) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func (s *Server) service() string {
	if s.Service == ServiceControl {
		return ServiceControl
	}
	return ServiceObserve
}

func (s *Server) record(r events.Record) {
	if s.Record != nil {
		s.Record(r)
	}
}

// Handler returns the routes of the console: pages, assets, the API and the WebSocket.
func (s *Server) Handler() http.Handler {
	s.once.Do(s.init)
	return s.handler
}

func (s *Server) init() {
	s.sessions = map[sessionKey]*session{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.page)
	mux.HandleFunc("GET /assets/{name...}", s.asset)

	mux.HandleFunc("POST /api/v1/login", s.login)
	mux.HandleFunc("POST /api/v1/logout", s.authed(s.logout))
	mux.HandleFunc("GET /api/v1/session", s.authed(s.whoami))

	mux.HandleFunc("GET /api/v1/host", s.authed(s.host))
	mux.HandleFunc("GET /api/v1/sessions", s.authed(s.listSessions))
	mux.HandleFunc("DELETE /api/v1/sessions/{id}", s.authed(s.disconnect))
	mux.HandleFunc("GET /api/v1/events", s.authed(s.events))
	mux.HandleFunc("GET /api/v1/chat", s.authed(s.transcript))
	mux.HandleFunc("POST /api/v1/chat", s.authed(s.post))
	mux.HandleFunc("POST /api/v1/notify", s.authed(s.notify))
	mux.HandleFunc("GET /api/v1/approvals", s.authed(s.approvals))
	mux.HandleFunc("POST /api/v1/approvals/{id}", s.authed(s.decide))
	mux.HandleFunc("POST /api/v1/invite", s.authed(s.invite))
	mux.HandleFunc("GET /api/v1/log", s.authed(s.activity))
	mux.HandleFunc("GET /api/v1/accounts", s.authed(s.listAccounts))
	mux.HandleFunc("POST /api/v1/accounts", s.authed(s.addAccount))
	mux.HandleFunc("DELETE /api/v1/accounts/{name}", s.authed(s.removeAccount))
	mux.HandleFunc("POST /api/v1/accounts/{name}/password", s.authed(s.setAccountPassword))
	mux.HandleFunc("POST /api/v1/accounts/{name}/privileges", s.authed(s.setAccountPrivileges))

	mux.HandleFunc("POST /api/v1/send", s.authed(s.send))
	mux.HandleFunc("GET /api/v1/exchange/list", s.authed(s.list))
	mux.HandleFunc("GET /api/v1/exchange/file", s.authed(s.download))
	mux.HandleFunc("PUT /api/v1/exchange/file", s.authed(s.upload))
	mux.HandleFunc("DELETE /api/v1/exchange/file", s.authed(s.remove))
	mux.HandleFunc("POST /api/v1/exchange/mkdir", s.authed(s.mkdir))
	mux.HandleFunc("POST /api/v1/exchange/rename", s.authed(s.rename))

	mux.HandleFunc("GET /ws/rfb", s.authed(s.rfb))
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API")
	})
	s.handler = headers(mux)
}

// headers sets the security headers of every response.
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/ws/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// notBuilt is the page of a binary built without the console.
const notBuilt = `<!doctype html>
<meta charset="utf-8">
<title>buktu</title>
<p>The web console is not built into this binary. Build it with <code>make web</code>, then
build buktu again. VNC clients and the buktu command work without it.</p>
`

func (s *Server) built() bool {
	if s.Assets == nil {
		return false
	}
	_, err := fs.Stat(s.Assets, "index.html")
	return err == nil
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	if !s.built() {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(notBuilt))
		return
	}
	// The page itself may change with the binary; the hashed assets may be cached.
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeFileFS(w, r, s.Assets, "index.html")
}

func (s *Server) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !s.built() || name == "" || name == "index.html" || !fs.ValidPath(name) {
		http.NotFound(w, r)
		return
	}
	if fi, err := fs.Stat(s.Assets, name); err != nil || fi.IsDir() {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeFileFS(w, r, s.Assets, name)
}

// Serve serves the console over TLS on ln until ctx ends. Then it ends every console session
// (which closes their WebSockets and long polls), lets running requests finish for up to
// ShutdownGrace, and returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener, tlsConf *tls.Config) error {
	if tlsConf == nil {
		return errors.New("serve console: no TLS configuration")
	}
	h := s.Handler()
	conf := tlsConf.Clone()
	// WebSockets need HTTP/1.1: a browser offered HTTP/2 would try them over it.
	conf.NextProtos = []string{"http/1.1"}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log().Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ConnState:         connState,
	}
	pool := s.Pending
	if pool == nil {
		pool = &s.ownPending
	}
	timeout := s.HandshakeTimeout
	if timeout <= 0 {
		timeout = defaultHandshakeTimeout
	}
	pl := &pendingListener{Listener: ln, pool: pool, timeout: timeout, log: s.log()}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(tls.NewListener(pl, conf)) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
	}
	s.endAll("the host is stopping")
	grace := s.ShutdownGrace
	if grace <= 0 {
		grace = shutdownGrace
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil {
		srv.Close()
	}
	if err == nil {
		err = <-done
	}
	s.wg.Wait()
	// Stopping, the listener may close before Shutdown does (the port's other half, RFB,
	// closes the socket both share): that is the stop, not a failure.
	if errors.Is(err, http.ErrServerClosed) || ctx.Err() != nil && errors.Is(err, net.ErrClosed) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("serve console: %w", err)
	}
	return nil
}
