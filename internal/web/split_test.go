package web

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// splitListen splits a new loopback listener, closed when the test ends.
func splitListen(t *testing.T, window time.Duration) (rfbLn, httpsLn net.Listener, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rfbLn, httpsLn = Split(ln, window)
	t.Cleanup(func() { rfbLn.Close() })
	return rfbLn, httpsLn, ln.Addr().String()
}

// accept returns the next connection of ln, or fails the test after a while.
func accept(t *testing.T, ln net.Listener) net.Conn {
	t.Helper()
	got := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(got)
			return
		}
		got <- c
	}()
	select {
	case c, ok := <-got:
		if !ok {
			t.Fatal("Accept failed")
		}
		t.Cleanup(func() { c.Close() })
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("nothing accepted")
		return nil
	}
}

func TestSplit(t *testing.T) {
	cert, pool := testCert(t)
	tests := []struct {
		name      string
		window    time.Duration
		tls       bool   // the client speaks TLS
		send      string // what a plain client sends first
		wantHTTPS bool
	}{
		{"browser", time.Second, true, "", true},
		{"silent VNC client", 20 * time.Millisecond, false, "", false},
		{"client that speaks RFB first", time.Second, false, "RFB 003.008\n", false},
		{"one zero byte", time.Second, false, "\x00", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rfbLn, httpsLn, addr := splitListen(t, tt.window)
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			if tt.tls {
				tc := tls.Client(c, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
				go tc.Handshake()
				s := tls.Server(accept(t, httpsLn), &tls.Config{Certificates: []tls.Certificate{cert}})
				// The handshake completes only if the peeked byte is read again.
				if err := s.HandshakeContext(t.Context()); err != nil {
					t.Fatalf("TLS handshake through the split: %v", err)
				}
				return
			}
			c.Write([]byte(tt.send))
			s := accept(t, rfbLn)
			if tt.send != "" {
				got := make([]byte, len(tt.send))
				if _, err := io.ReadFull(s, got); err != nil || string(got) != tt.send {
					t.Errorf("read on the rfb side = %q, %v; want %q", got, err, tt.send)
				}
			}
			s.Write([]byte("RFB 003.008\n"))
			got := make([]byte, 12)
			if _, err := io.ReadFull(c, got); err != nil || string(got) != "RFB 003.008\n" {
				t.Errorf("client read = %q, %v; want the server's greeting", got, err)
			}
		})
	}
}

func TestSplitSilentClientBlocksNobody(t *testing.T) {
	_, pool := testCert(t)
	rfbLn, httpsLn, addr := splitListen(t, time.Hour)
	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go tls.Client(c, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}).Handshake()
	accept(t, httpsLn) // while the silent one still has its hour
	// Closing does not wait out the silent client's window.
	closed := make(chan error, 1)
	go func() { closed <- rfbLn.Close() }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for a silent client")
	}
}

func TestSplitClose(t *testing.T) {
	for _, side := range []string{"rfb", "https"} {
		t.Run(side, func(t *testing.T) {
			rfbLn, httpsLn, addr := splitListen(t, time.Second)
			closer, other := rfbLn, httpsLn
			if side == "https" {
				closer, other = httpsLn, rfbLn
			}
			if err := closer.Close(); err != nil {
				t.Fatalf("Close() = %v", err)
			}
			if _, err := other.Accept(); !errors.Is(err, net.ErrClosed) {
				t.Errorf("Accept on the other side after Close = %v; want net.ErrClosed", err)
			}
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				t.Error("the port still accepts connections after Close")
			}
		})
	}
}

// failing is a listener whose Accept fails.
type failing struct{ net.Listener }

var errAccept = errors.New("too many open files")

func (failing) Accept() (net.Conn, error) { return nil, errAccept }

func TestSplitAcceptError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rfbLn, httpsLn := Split(failing{ln}, time.Second)
	defer rfbLn.Close()
	for name, l := range map[string]net.Listener{"rfb": rfbLn, "https": httpsLn} {
		if _, err := l.Accept(); !errors.Is(err, errAccept) {
			t.Errorf("%s Accept() = %v; want the listener's error", name, err)
		}
	}
}
