package sshd

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// Extensions in ssh.Permissions that carry the authentication's outcome to the connection.
const (
	extAccount = "buktu-account"
	extMethod  = "buktu-method"
)

// config builds the SSH server configuration for one connection.
func (s *Server) config(ctx context.Context) *ssh.ServerConfig {
	perms := func(account, method string) *ssh.Permissions {
		return &ssh.Permissions{Extensions: map[string]string{extAccount: account, extMethod: method}}
	}
	remote := func(c ssh.ConnMetadata) netip.AddrPort {
		if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
			ap := ta.AddrPort()
			return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		}
		return netip.AddrPort{}
	}
	cfg := &ssh.ServerConfig{
		ServerVersion: "SSH-2.0-buktu",
		MaxAuthTries:  6,
	}
	cfg.Ciphers = []string{"aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com", "aes128-ctr", "aes256-ctr"}
	if s.Password != nil {
		cfg.PasswordCallback = func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			acct, err := s.Password(ctx, c.User(), string(pw), remote(c))
			if err != nil {
				return nil, err
			}
			return perms(acct, "password"), nil
		}
	}
	if s.PublicKey != nil {
		cfg.PublicKeyCallback = func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			acct, err := s.PublicKey(ctx, c.User(), key, remote(c), false)
			if err != nil {
				return nil, err
			}
			return perms(acct, "publickey"), nil
		}
		cfg.VerifiedPublicKeyCallback = func(c ssh.ConnMetadata, key ssh.PublicKey, _ *ssh.Permissions, _ string) (*ssh.Permissions, error) {
			acct, err := s.PublicKey(ctx, c.User(), key, remote(c), true)
			if err != nil {
				return nil, err
			}
			return perms(acct, "publickey"), nil
		}
	}
	if s.None != nil {
		cfg.NoClientAuth = true
		cfg.NoClientAuthCallback = func(c ssh.ConnMetadata) (*ssh.Permissions, error) {
			acct, err := s.None(ctx, c.User(), remote(c))
			if err != nil {
				return nil, err
			}
			return perms(acct, "none"), nil
		}
	}
	cfg.AddHostKey(s.Signer)
	return cfg
}

// idleConn closes an authenticated connection that has been silent for longer than the idle
// timeout. Until authentication ends it leaves the handshake's deadline alone: renewed on
// each read, that would let a client which never logs in stay for the idle timeout.
type idleConn struct {
	net.Conn
	idle   time.Duration // 0 means none
	authed atomic.Bool
}

func (c *idleConn) Read(b []byte) (int, error) {
	if c.idle > 0 && c.authed.Load() {
		c.Conn.SetReadDeadline(time.Now().Add(c.idle))
	}
	return c.Conn.Read(b)
}

// authenticated lifts the handshake's deadline and starts the idle timeout, on the read
// that may be waiting already too.
func (c *idleConn) authenticated() {
	c.authed.Store(true)
	c.Conn.SetDeadline(time.Time{})
	if c.idle > 0 {
		c.Conn.SetReadDeadline(time.Now().Add(c.idle))
	}
}

func (s *Server) serveConn(ctx context.Context, sc *serverConn) {
	defer sc.nc.Close()
	log := s.log().With("remote_addr", sc.nc.RemoteAddr().String())
	sc.nc.SetDeadline(time.Now().Add(or(s.HandshakeTimeout, 30*time.Second)))
	nc := &idleConn{Conn: sc.nc, idle: max(or(s.IdleTimeout, 15*time.Minute), 0)}
	conn, chans, reqs, err := ssh.NewServerConn(nc, s.config(ctx))
	sc.ticket.Done()
	if err != nil {
		log.Info("ssh handshake ended", "err", err)
		return
	}
	defer conn.Close()
	nc.authenticated()
	if !s.startSession(sc) {
		log.Warn("session refused: too many sessions", "account", conn.Permissions.Extensions[extAccount])
		refuse(conn, chans, reqs, "too many sessions at once; try again later")
		return
	}
	c := Conn{ID: newID(), Account: conn.Permissions.Extensions[extAccount],
		Method: conn.Permissions.Extensions[extMethod], Remote: remoteAddr(sc.nc),
		Disconnect: func() { conn.Close() }}
	h, err := s.Open(ctx, c)
	if err != nil {
		log.Info("session refused", "account", c.Account, "err", err)
		var re *RefusedError
		if errors.As(err, &re) {
			refuse(conn, chans, reqs, re.Message)
		}
		return
	}
	defer h.Close()
	s.mu.Lock()
	sc.handler = h
	s.mu.Unlock()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		for req := range reqs {
			s.globalRequest(h, req)
		}
	})
	for nch := range chans {
		if nch.ChannelType() != "session" {
			nch.Reject(ssh.UnknownChannelType, "buktu serves SFTP sessions only")
			continue
		}
		ch, creqs, err := nch.Accept()
		if err != nil {
			continue
		}
		wg.Go(func() { s.session(log, sc, h, ch, creqs) })
	}
}

func (s *Server) globalRequest(h Handler, req *ssh.Request) {
	reply, err := h.Request(req.Type, req.Payload)
	if req.WantReply {
		if err != nil {
			req.Reply(false, []byte(err.Error()))
			return
		}
		req.Reply(true, reply)
	}
}

// Getter is a Handler that also serves SubsystemGet.
type Getter interface {
	// OpenGet opens a file to stream; an error's message goes to the client.
	OpenGet(path string) (GetFile, error)
}

// Putter is a Handler that also serves SubsystemPut.
type Putter interface {
	// PutSink returns where the files of one put stream go.
	PutSink() PutSink
}

// serveSubsystem returns what serves the subsystem name on ch, and what to do once its exit
// status is sent; nil when h does not serve it: SFTP, and buktu's get and put streams where
// the handler serves them.
func serveSubsystem(h Handler, ch ssh.Channel, name string) (serve func() error, after func()) {
	switch name {
	case "sftp":
		srv := sftp.NewRequestServer(ch, h.SFTP(), sftp.WithRSAllocator(), sftp.WithRSMaxTxPacket(256<<10))
		return srv.Serve, func() { srv.Close() }
	case SubsystemGet:
		if g, ok := h.(Getter); ok {
			return func() error { return ServeGet(ch, g.OpenGet) }, func() {}
		}
	case SubsystemPut:
		if p, ok := h.(Putter); ok {
			return func() error { return ServePut(ch, p.PutSink()) }, func() {}
		}
	}
	return nil, nil
}

// session serves one session channel: one of the subsystems serveSubsystem knows. While a get
// or put stream is open, sc counts as busy: the client has more files to send or fetch on it,
// even while it reads or hashes the next one and no file is open on the host.
func (s *Server) session(log *slog.Logger, sc *serverConn, h Handler, ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	started := false
	done := make(chan error, 1)
	for {
		select {
		case req, ok := <-reqs:
			if !ok {
				if started {
					<-done
				}
				return
			}
			switch {
			case req.Type == "subsystem" && !started:
				serve, after := serveSubsystem(h, ch, subsystem(req.Payload))
				if serve == nil {
					req.Reply(false, nil)
					continue
				}
				req.Reply(true, nil)
				started = true
				if name := subsystem(req.Payload); name == SubsystemGet || name == SubsystemPut {
					sc.streams.Add(1)
					defer sc.streams.Add(-1)
				}
				go func() {
					err := serve()
					// The exit status goes before the channel closes: scp waits for it.
					ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{0}))
					after()
					done <- err
				}()
			case req.Type == "exec" || req.Type == "shell":
				io.WriteString(ch.Stderr(), "buktu: this port serves SFTP only (scp works in its default SFTP mode; not with -O)\n")
				req.Reply(false, nil)
			default:
				if req.WantReply {
					req.Reply(false, nil)
				}
			}
		case err := <-done:
			if err != nil && !errors.Is(err, io.EOF) {
				log.Info("session ended", "err", err)
			}
			return
		}
	}
}

// RefusedError refuses a session with a message the client may see.
type RefusedError struct{ Message string }

func (e *RefusedError) Error() string { return e.Message }

// refuse tells the client why it may not use this port, on every channel and request it opens,
// until it hangs up or a short while passes.
func refuse(conn *ssh.ServerConn, chans <-chan ssh.NewChannel, reqs <-chan *ssh.Request, msg string) {
	timer := time.AfterFunc(10*time.Second, func() { conn.Close() })
	defer timer.Stop()
	go func() {
		for req := range reqs {
			if req.WantReply {
				req.Reply(false, []byte(msg))
			}
		}
	}()
	for nch := range chans {
		ch, creqs, err := nch.Accept()
		if err != nil {
			continue
		}
		// The message goes first: refusing the client's subsystem request may make it hang up.
		io.WriteString(ch.Stderr(), "buktu: "+msg+"\n")
		ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{1}))
		go ssh.DiscardRequests(creqs)
		ch.Close()
	}
}

func subsystem(payload []byte) string {
	var p struct{ Name string }
	if err := ssh.Unmarshal(payload, &p); err != nil {
		return ""
	}
	return p.Name
}
