// Package rfb is buktu's RFB (VNC) protocol engine: the server side of a viewer's session
// (handshake with VeNCrypt X509Plain or, when the owner allows it, legacy VNC authentication;
// the message loop; framebuffer updates encoded once per pixel format and encoding and shared
// by every viewer who asked for the same), and a client that the snapshot command and the
// tests use. It owns no pixels and no accounts: a Display gives it frames and takes input,
// and the host's callbacks decide who may do what.
package rfb

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/quota"
	"github.com/buktu/buktu/internal/rfb/encoding"
)

// Display is all a session needs from the screen it shows.
type Display interface {
	// Update blocks until the screen has changed since sequence number since (0: always
	// returns at once) and returns the newest frame, which must not be modified, the region
	// changed since then, and its sequence number.
	Update(ctx context.Context, since uint64) (*frame.Frame, frame.Region, uint64, error)
	Key(keysym uint32, down bool) error
	Pointer(buttons uint8, x, y int) error
	SetClipboard(text string) error
}

// Access is what an authenticated viewer may do.
type Access struct {
	Account string
	Input   bool // keyboard, mouse and clipboard; false means view only
	// Tracked means whoever handed the session over (the console's WebSocket) logs it and
	// lists it among who is connected: OnSession does not hear of it.
	Tracked bool
}

// ErrDenied refuses a login; the session shows the client Reason.
type DeniedError struct{ Reason string }

func (e *DeniedError) Error() string { return e.Reason }

// Server serves RFB sessions. The zero value of each limit means its documented default.
type Server struct {
	Display Display
	Logger  *slog.Logger
	// TLS is the server side of VeNCrypt's X509 sub-types; required.
	TLS *tls.Config
	// Name is the desktop name viewers show.
	Name string
	// Authenticate checks an account and password (from VeNCrypt Plain inside TLS).
	Authenticate func(ctx context.Context, user, password string, remote netip.AddrPort) (Access, error)
	// Approve, when set, is asked after a viewer authenticated and before it is told so: it
	// may wait (the person at the host is asked), with the handshake's deadline lifted, and
	// returns the access to grant or a *DeniedError.
	Approve func(ctx context.Context, a Access, remote netip.AddrPort) (Access, error)
	// LegacyPassword, when set, enables VNC authentication (DES, for old clients) with the
	// password it returns and the access it grants.
	LegacyPassword func() (string, Access)
	// ViewOnly refuses input whatever the account may do: the Observe port.
	ViewOnly bool
	// OnSession hears of sessions starting (end false) and ending.
	OnSession func(s SessionInfo, end bool)
	// JPEG compresses Tight's JPEG rectangles for every viewer; nil means one
	// encoding.NewJPEG() (libjpeg-turbo in builds with the turbojpeg tag) for the Server.
	JPEG encoding.JPEGEncoder

	// HandshakeTimeout bounds a viewer's whole handshake, from ServeConn to ServerInit:
	// VeNCrypt and its TLS included, but not the wait for Approve.
	HandshakeTimeout time.Duration // default 30s
	MaxCutText       int           // default 1 MiB
	MaxConnsPerAddr  int           // default 8
	// Pending holds the viewers that have not authenticated yet (invited ones never wait
	// there); nil means a pool of quota's defaults of the Server's own. The host shares one
	// between the viewers and the console of a port.
	Pending *quota.Pending

	ownPending quota.Pending // Pending's stand-in when nil

	perIP    quota.PerAddr
	mu       sync.Mutex // guards sessions and ids
	ids      uint64
	sessions map[*session]struct{}
	cache    encodeCache
}

// Broadcast sends the host's clipboard text to every viewer that may control the screen.
func (s *Server) Broadcast(text string) {
	s.mu.Lock()
	list := make([]*session, 0, len(s.sessions))
	for ss := range s.sessions {
		list = append(list, ss)
	}
	s.mu.Unlock()
	for _, ss := range list {
		ss.clipboard(text)
	}
}

// SessionInfo describes a viewer's session, for the activity log.
type SessionInfo struct {
	ID      uint64 // unique among the Server's sessions
	Account string
	Remote  string
	Input   bool
	Started time.Time
	Reason  string // why it ended
	// Disconnect ends the session (who is connected, an admin's button).
	Disconnect func()
}

func (s *Server) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Serve accepts viewers on ln until ctx is cancelled.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		wg.Go(func() { s.ServeConn(ctx, c) })
	}
}

func remoteOf(c net.Conn) netip.AddrPort {
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		ap := ta.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return netip.AddrPort{}
}

// ServeConn runs one viewer's session on c, which it closes; it returns when the session ends.
func (s *Server) ServeConn(ctx context.Context, c net.Conn) { s.serveConn(ctx, c, nil) }

// ServeInvited runs a session on c, a connection the host made to a listening viewer because
// the person at the host invited it (Timbuktu's Invite). The viewer has no account here: it
// gets access without logging in, so the invitation itself is the permission.
func (s *Server) ServeInvited(ctx context.Context, c net.Conn, access Access) {
	s.serveConn(ctx, c, &access)
}

func (s *Server) serveConn(ctx context.Context, c net.Conn, invited *Access) {
	defer c.Close()
	remote := remoteOf(c)
	if !s.admit(remote.Addr()) {
		s.log().Warn("viewer refused: too many connections", "remote_addr", c.RemoteAddr().String())
		return
	}
	defer s.release(remote.Addr())
	log := s.log().With("remote_addr", c.RemoteAddr().String())
	var ticket *quota.Ticket // nil for the invited, whose Done does nothing
	if invited == nil {
		pool := s.Pending
		if pool == nil {
			pool = &s.ownPending
		}
		var ok bool
		ticket, ok = pool.Admit(remote.Addr(), func() {
			log.Warn("viewer dropped: too many connections logging in, and this one waited longest")
			c.Close()
		})
		if !ok {
			log.Warn("viewer refused: too many connections logging in from this address")
			return
		}
		defer ticket.Done()
	}
	c.SetDeadline(time.Now().Add(or(s.HandshakeTimeout, 30*time.Second)))
	conn, v, access, err := s.handshake(ctx, c, remote, invited, ticket.Done)
	if err != nil {
		log.Info("viewer handshake ended", "err", err)
		return
	}
	c.SetDeadline(time.Time{})
	if s.ViewOnly {
		access.Input = false
	}
	s.mu.Lock()
	s.ids++
	id := s.ids
	s.mu.Unlock()
	info := SessionInfo{ID: id, Account: access.Account, Remote: c.RemoteAddr().String(), Input: access.Input,
		Started: time.Now(), Disconnect: func() { c.Close() }}
	if s.OnSession != nil && !access.Tracked {
		s.OnSession(info, false)
	}
	s.cache.useJPEG(s.JPEG)
	sess := newSession(s, conn, v, access, log)
	s.mu.Lock()
	if s.sessions == nil {
		s.sessions = map[*session]struct{}{}
	}
	s.sessions[sess] = struct{}{}
	s.mu.Unlock()
	err = sess.run(ctx)
	s.mu.Lock()
	delete(s.sessions, sess)
	s.mu.Unlock()
	info.Reason = "viewer left"
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && ctx.Err() == nil {
		info.Reason = err.Error()
		log.Info("viewer session ended", "err", err)
	}
	if s.OnSession != nil && !access.Tracked {
		s.OnSession(info, true)
	}
}

func (s *Server) admit(ip netip.Addr) bool { return s.perIP.Take(ip, or(s.MaxConnsPerAddr, 8)) }

func (s *Server) release(ip netip.Addr) { s.perIP.Give(ip) }

// rw is a connection with buffered reads, as the handshake leaves it.
type rw struct {
	net.Conn
	r *bufio.Reader
}

func (c rw) Read(b []byte) (int, error) { return c.r.Read(b) }
