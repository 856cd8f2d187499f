package web

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/quota"
)

// dialConsole opens a TCP connection to h from the loopback address src; closed by t.Cleanup.
func dialConsole(t *testing.T, h *testHost, src string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", strings.TrimPrefix(h.url, "https://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedWithin reads c until the server closes it and says how long that took from start,
// or fails after wait.
func closedWithin(c net.Conn, start time.Time, wait time.Duration) (time.Duration, error) {
	c.SetDeadline(start.Add(wait))
	_, err := io.Copy(io.Discard, c)
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return time.Since(start), errors.New("still open")
	}
	return time.Since(start), nil
}

// TestHandshakeTimeout stalls a connection at each step before its first request: each is
// closed at the handshake timeout from its accept, whatever deadlines the HTTP server sets
// on the way. A connection whose request came in time stays for the next.
func TestHandshakeTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	h := startHost(t, func(s *Server) { s.HandshakeTimeout = timeout })
	conf := &tls.Config{RootCAs: h.pool, ServerName: "127.0.0.1"}
	tests := []struct {
		name  string
		stall func(c net.Conn) error
	}{
		{"silent", func(net.Conn) error { return nil }},
		{"in the ClientHello", func(c net.Conn) error {
			_, err := c.Write([]byte{0x16, 0x03, 0x01, 0x01, 0x00, 0x01})
			return err
		}},
		{"after TLS", func(c net.Conn) error { return tls.Client(c, conf).Handshake() }},
		{"in the headers", func(c net.Conn) error {
			_, err := io.WriteString(tls.Client(c, conf), "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			c := dialConsole(t, h, "127.0.0.1")
			if err := tt.stall(c); err != nil {
				t.Fatal(err)
			}
			held, err := closedWithin(c, start, 5*time.Second)
			if err != nil || held < timeout || held > timeout+2*time.Second {
				t.Errorf("closed after %v, %v; want at the handshake timeout, %v", held.Round(time.Millisecond), err, timeout)
			}
		})
	}

	t.Run("request in time", func(t *testing.T) {
		t.Parallel()
		tc := tls.Client(dialConsole(t, h, "127.0.0.1"), conf)
		r := bufio.NewReader(tc)
		get := func() error {
			if _, err := io.WriteString(tc, "GET /api/v1/host HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
				return err
			}
			resp, err := http.ReadResponse(r, nil)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			return resp.Body.Close()
		}
		if err := get(); err != nil {
			t.Fatalf("first request: %v", err)
		}
		// Past the handshake timeout, the connection is still there for the next request.
		tc.SetReadDeadline(time.Now().Add(3 * timeout))
		if _, err := r.Peek(1); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("waiting past the handshake timeout after a request: %v; want only our deadline", err)
		}
		tc.SetReadDeadline(time.Time{})
		if err := get(); err != nil {
			t.Errorf("second request, after the handshake timeout: %v", err)
		}
	})
}

// TestPendingPoolFull fills the pool of connections that have not sent a request with
// silent ones: the oldest of the busiest address goes, and a browser still gets in.
func TestPendingPoolFull(t *testing.T) {
	t.Parallel()
	pool := &quota.Pending{Max: 3, MaxPerAddr: 2}
	h := startHost(t, func(s *Server) { s.Pending = pool })
	start := time.Now()
	first := dialConsole(t, h, "127.0.0.2")
	dialConsole(t, h, "127.0.0.2")
	dialConsole(t, h, "127.0.0.3")
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: h.pool}}
	t.Cleanup(tr.CloseIdleConnections)
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get(h.url + "/api/v1/host")
	if err != nil {
		t.Fatalf("a request with the pool full of silent connections: %v", err)
	}
	resp.Body.Close()
	if _, err := closedWithin(first, start, 5*time.Second); err != nil {
		t.Errorf("the oldest connection of the busiest address: %v; want closed to make room", err)
	}
	if n := pool.Waiting(); n != 2 {
		t.Errorf("Waiting() = %d after the browser's request; want the 2 silent ones left", n)
	}
}
