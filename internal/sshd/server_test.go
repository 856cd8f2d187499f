package sshd

import (
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/buktu/buktu/internal/quota"
)

// memHandler serves an SFTP tree in memory.
type memHandler struct{ h sftp.Handlers }

func (m memHandler) SFTP() sftp.Handlers                  { return m.h }
func (memHandler) Request(string, []byte) ([]byte, error) { return nil, errors.New("no requests") }
func (memHandler) Busy() bool                             { return false }
func (memHandler) Close() error                           { return nil }
func newMemHandler(context.Context, Conn) (Handler, error) {
	return memHandler{sftp.InMemHandler()}, nil
}
func password(context.Context, string, string, netip.AddrPort) (string, error) { return "alice", nil }

// startServer serves s on a loopback port until the test ends and returns its address.
func startServer(t *testing.T, s *Server) string {
	t.Helper()
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Signer, err = ssh.NewSignerFromKey(key); err != nil {
		t.Fatal(err)
	}
	s.Password, s.Open = password, newMemHandler
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// dialFrom opens a TCP connection to addr from the loopback address src; closed by t.Cleanup.
func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from %s: %v", addr, src, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// heldFor reads c until the server closes it, or wait passes, and returns how long that took.
func heldFor(c net.Conn, wait time.Duration) (time.Duration, error) {
	start := time.Now()
	c.SetReadDeadline(start.Add(wait))
	_, err := io.Copy(io.Discard, c)
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return time.Since(start), errors.New("still open")
	}
	return time.Since(start), nil
}

func login(addr string) error {
	conn, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{User: "alice", Auth: []ssh.AuthMethod{ssh.Password("pw")},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	defer conn.Close()
	c, err := sftp.NewClient(conn)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Getwd()
	return err
}

// TestHandshakeTimeout: a client that never finishes logging in is closed at the handshake
// timeout, however far it got and whatever the idle timeout; the idle timeout is for the
// logged in.
func TestHandshakeTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	addr := startServer(t, &Server{HandshakeTimeout: timeout, IdleTimeout: time.Hour})
	tests := []struct {
		name string
		send string
	}{
		{"silent", ""},
		{"version only", "SSH-2.0-test\r\n"},
		{"half a packet", "SSH-2.0-test\r\n\x00\x00\x01\x00\x05"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := dialFrom(t, "127.0.0.1", addr)
			if _, err := io.WriteString(c, tt.send); err != nil {
				t.Fatal(err)
			}
			held, err := heldFor(c, 5*time.Second)
			if err != nil || held < timeout-50*time.Millisecond || held > timeout+2*time.Second {
				t.Errorf("a client that sent %q was closed after %v, %v; want at the handshake timeout, %v", tt.send, held.Round(time.Millisecond), err, timeout)
			}
		})
	}
}

// TestSilentConnsDoNotTakeSessions fills every session and more with silent connections: they
// wait in the pool of connections logging in, at most its size of them, and real logins still
// get in.
func TestSilentConnsDoNotTakeSessions(t *testing.T) {
	t.Parallel()
	pool := &quota.Pending{Max: 4, MaxPerAddr: 2}
	addr := startServer(t, &Server{MaxConns: 2, Pending: pool})
	type held struct {
		d   time.Duration
		err error
	}
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait) // after the connections close
	ends := make(chan held, 12)
	for i := range 12 {
		c := dialFrom(t, netip.AddrFrom4([4]byte{127, 0, 0, byte(2 + i%6)}).String(), addr)
		wg.Go(func() {
			d, err := heldFor(c, 10*time.Second)
			ends <- held{d, err}
		})
	}
	// 6 addresses, 2 each: 12, of which the pool keeps 4.
	for range 8 {
		if e := <-ends; e.err != nil {
			t.Fatalf("the pool of 4 kept more: %v", e.err)
		}
	}
	for i := range 3 {
		if err := login(addr); err != nil {
			t.Errorf("login %d with 4 silent connections waiting and 2 sessions allowed: %v", i+1, err)
		}
	}
	if n := pool.Waiting(); n > 4 {
		t.Errorf("Waiting() = %d; want at most 4", n)
	}
}
