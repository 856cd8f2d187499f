// Package sshd owns the SSH side of the file services: listening, the handshake with its
// limits and timeouts, authentication through the host's callbacks, the SFTP subsystem, buktu's
// own requests on the same connection, and a graceful stop. What a client may do with files is
// not its business: each connection gets a Handler from the host.
package sshd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/buktu/buktu/internal/quota"
)

// Conn describes an authenticated connection.
type Conn struct {
	ID      string
	Account string
	Method  string // "password", "publickey" or "none"
	Remote  netip.AddrPort
	// Disconnect closes the connection (who is connected, an admin's button).
	Disconnect func()
}

// Handler serves one authenticated connection.
type Handler interface {
	// SFTP returns the handlers of the connection's SFTP subsystem.
	SFTP() sftp.Handlers
	// Request answers one of buktu's own requests (names ending in "@buktu").
	Request(name string, payload []byte) (reply []byte, err error)
	// Busy says whether a transfer is under way, so a stopping host waits for it.
	Busy() bool
	// Close ends the connection's session.
	Close() error
}

// Server is an SSH server that offers only SFTP. The zero value of each limit means the
// documented default.
type Server struct {
	Signer ssh.Signer
	Logger *slog.Logger

	// Password and PublicKey check credentials for account user from remote and return the
	// account's name; None admits a user with no credentials (the guest) or refuses.
	// PublicKey is called first when the client offers a key (verified false), and again once
	// the client has proven it holds the key (verified true).
	Password  func(ctx context.Context, user, password string, remote netip.AddrPort) (string, error)
	PublicKey func(ctx context.Context, user string, key ssh.PublicKey, remote netip.AddrPort, verified bool) (string, error)
	None      func(ctx context.Context, user string, remote netip.AddrPort) (string, error)
	// Open is called once a connection is authenticated. A *RefusedError's message is shown
	// to the client; the connection then serves nothing.
	Open func(ctx context.Context, c Conn) (Handler, error)

	// HandshakeTimeout bounds the time from the TCP connection to the end of authentication;
	// IdleTimeout applies only after.
	HandshakeTimeout time.Duration // default 30s
	IdleTimeout      time.Duration // default 15m; negative means none
	ShutdownGrace    time.Duration // default 10s
	// MaxConns and MaxConnsPerAddr bound the sessions: authenticated connections.
	MaxConns        int // default 64
	MaxConnsPerAddr int // default 8
	// Pending holds the connections that have not authenticated yet, apart from the sessions,
	// so that sockets that never log in cannot take their places; nil means a pool of quota's
	// defaults of the Server's own.
	Pending *quota.Pending

	ownPending quota.Pending
	perIP      quota.PerAddr
	mu         sync.Mutex // guards conns and nconns
	conns      map[*serverConn]struct{}
	nconns     int // sessions
}

type serverConn struct {
	nc      net.Conn
	ticket  *quota.Ticket // its place among the connections logging in
	session bool          // counted among the sessions; guarded by Server.mu
	handler Handler       // set once authenticated; guarded by Server.mu
	streams atomic.Int32  // get and put streams open
}

// busy says whether a stopping host should wait for sc: a transfer is under way on it.
func (sc *serverConn) busy() bool {
	return sc.handler != nil && (sc.handler.Busy() || sc.streams.Load() > 0)
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

// Serve accepts connections on ln until ctx is cancelled. Then it accepts no more, lets
// running transfers go on for the shutdown grace, closes what is left and returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.mu.Lock()
	s.conns = map[*serverConn]struct{}{}
	s.mu.Unlock()

	connCtx, cancelConns := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelConns()
	var wg sync.WaitGroup
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			cancelConns()
			wg.Wait()
			return fmt.Errorf("accept: %w", err)
		}
		sc := &serverConn{nc: nc}
		if !s.admit(sc) {
			continue
		}
		wg.Go(func() {
			defer s.release(sc)
			s.serveConn(connCtx, sc)
		})
	}
	s.drain()
	cancelConns()
	wg.Wait()
	return nil
}

func (s *Server) pending() *quota.Pending {
	if s.Pending != nil {
		return s.Pending
	}
	return &s.ownPending
}

// admit gives a new connection a place among those logging in, or closes it when its
// address holds all it may. To make room, the pool may drop another.
func (s *Server) admit(sc *serverConn) bool {
	remote := sc.nc.RemoteAddr().String()
	t, ok := s.pending().Admit(remoteAddr(sc.nc).Addr(), func() {
		s.log().Warn("connection dropped: too many connections logging in, and this one waited longest", "remote_addr", remote)
		sc.nc.Close()
	})
	if !ok {
		s.log().Warn("connection refused: too many connections logging in from this address", "remote_addr", remote)
		sc.nc.Close()
		return false
	}
	sc.ticket = t
	s.mu.Lock()
	s.conns[sc] = struct{}{}
	s.mu.Unlock()
	return true
}

// startSession counts an authenticated connection among the sessions, unless a limit is
// reached.
func (s *Server) startSession(sc *serverConn) bool {
	ip := remoteAddr(sc.nc).Addr()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nconns >= or(s.MaxConns, 64) || !s.perIP.Take(ip, or(s.MaxConnsPerAddr, 8)) {
		return false
	}
	s.nconns++
	sc.session = true
	return true
}

func (s *Server) release(sc *serverConn) {
	sc.ticket.Done()
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc.session {
		s.nconns--
		s.perIP.Give(remoteAddr(sc.nc).Addr())
	}
	delete(s.conns, sc)
}

// drain waits, up to the shutdown grace, for busy connections, and closes idle ones at once.
func (s *Server) drain() {
	deadline := time.Now().Add(or(s.ShutdownGrace, 10*time.Second))
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		busy := 0
		for sc := range s.conns {
			if sc.busy() {
				busy++
				continue
			}
			sc.nc.Close()
		}
		s.mu.Unlock()
		if busy == 0 || time.Now().After(deadline) {
			break
		}
		<-tick.C
	}
	s.mu.Lock()
	for sc := range s.conns {
		sc.nc.Close()
	}
	s.mu.Unlock()
}

func remoteAddr(nc net.Conn) netip.AddrPort {
	if ta, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		ap := ta.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return netip.AddrPort{}
}

func newID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}
