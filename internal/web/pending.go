package web

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/buktu/buktu/internal/quota"
)

// defaultHandshakeTimeout is the zero Server's bound on a connection's TLS handshake and
// first request together.
const defaultHandshakeTimeout = 30 * time.Second

// pendingListener hands out the connections of its Listener that its pool admits, each bound
// to the handshake timeout until its first request has been read.
type pendingListener struct {
	net.Listener
	pool    *quota.Pending
	timeout time.Duration
	log     *slog.Logger
}

func (l *pendingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		remote := c.RemoteAddr().String()
		var ip netip.Addr
		if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
			ip = ta.AddrPort().Addr()
		}
		t, ok := l.pool.Admit(ip, func() {
			l.log.Warn("connection dropped: too many connections logging in, and this one waited longest", "remote_addr", remote)
			c.Close()
		})
		if !ok {
			l.log.Warn("connection refused: too many connections logging in from this address", "remote_addr", remote)
			c.Close()
			continue
		}
		pc := &pendingConn{Conn: c, ticket: t, until: time.Now().Add(l.timeout)}
		pc.SetDeadline(time.Time{}) // the handshake's, until the first request
		return pc, nil
	}
}

// pendingConn is a connection that has not sent its first request yet: whatever deadlines
// the HTTP server sets meanwhile (one for the TLS handshake, another for the headers), none
// goes past the handshake's. That is the whole time a connection may take, from accept.
type pendingConn struct {
	net.Conn
	ticket *quota.Ticket

	mu          sync.Mutex // guards the fields below
	until       time.Time  // the handshake's deadline; zero once the first request is in
	read, write time.Time  // the deadlines the server asked for
}

func (c *pendingConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.read, c.write = t, t
	return c.applyLocked()
}

func (c *pendingConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.read = t
	return c.applyLocked()
}

func (c *pendingConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.write = t
	return c.applyLocked()
}

func (c *pendingConn) applyLocked() error {
	return errors.Join(c.Conn.SetReadDeadline(c.boundLocked(c.read)), c.Conn.SetWriteDeadline(c.boundLocked(c.write)))
}

func (c *pendingConn) boundLocked(t time.Time) time.Time {
	if c.until.IsZero() || !t.IsZero() && t.Before(c.until) {
		return t
	}
	return c.until
}

// started ends the handshake: the connection's first request is read (or it ended). The
// deadlines the server asked for apply from now on.
func (c *pendingConn) started() {
	c.ticket.Done()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.until.IsZero() {
		c.until = time.Time{}
		c.applyLocked()
	}
}

func (c *pendingConn) Close() error {
	c.ticket.Done()
	return c.Conn.Close()
}

// connState tells a connection that its first request is in: the server has read a
// request's headers (StateActive) or is done with it.
func connState(c net.Conn, st http.ConnState) {
	if st == http.StateNew {
		return
	}
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if pc, ok := c.(*pendingConn); ok {
		pc.started()
	}
}
