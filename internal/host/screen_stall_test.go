package host_test

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/rfb"
	"github.com/buktu/buktu/internal/rfb/wire"
)

// partialHello starts a TLS record of 256 bytes holding a ClientHello, and sends 6 of them.
var partialHello = []byte{0x16, 0x03, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00, 0xfc, 0x03, 0x03}

// vencryptTo runs RFB 3.8 on c, as a VNC viewer, until VeNCrypt is chosen (tls false) or
// until the host has said yes to its TLS (tls true): the next bytes would be a ClientHello.
func vencryptTo(c net.Conn, tls bool) error {
	r := bufio.NewReader(c)
	if _, err := wire.ReadVersion(r); err != nil {
		return err
	}
	if _, err := c.Write(wire.V38.Append(nil)); err != nil {
		return err
	}
	if _, err := wire.ReadSecurityTypes(r, wire.V38); err != nil {
		return err
	}
	if _, err := c.Write(wire.AppendSecurityChoice(nil, wire.SecurityVeNCrypt)); err != nil {
		return err
	}
	if _, _, err := wire.ReadVeNCryptVersion(r); err != nil || !tls {
		return err
	}
	if _, err := c.Write(wire.AppendVeNCryptVersion(nil)); err != nil {
		return err
	}
	if err := wire.ReadVeNCryptVersionAck(r); err != nil {
		return err
	}
	if _, err := wire.ReadVeNCryptSubtypes(r); err != nil {
		return err
	}
	if _, err := c.Write(wire.AppendVeNCryptSubtype(nil, wire.VeNCryptX509Plain)); err != nil {
		return err
	}
	return wire.ReadVeNCryptTLSAck(r)
}

// TestScreenStalledHandshakes stalls a connection to a screen port at each step before
// logging in, on the RFB side and on the console's: each is closed at
// limits.handshake_timeout, counted from its TCP connection (plus the sniff window for a
// viewer, which waits for the host to speak), never later.
func TestScreenStalledHandshakes(t *testing.T) {
	t.Parallel()
	d := startDisplay(t, 320, 240)
	const timeout = 2 * time.Second
	h := startScreenHostOn(t, d, "[limits]\nhandshake_timeout = \"2s\"\n[screen]\nmax_viewers_per_address = 32\n")
	good := dialViewer(t, h, h.Control, "admin", h.AdminPassword, rfb.ClientOptions{})
	good.full()

	consoleTLS := func(c net.Conn) (*tls.Conn, error) {
		tc := tls.Client(c, h.ScreenTLS(t))
		return tc, tc.Handshake()
	}
	tests := []struct {
		name  string
		stall func(c net.Conn) error // brings c to where it stalls
	}{
		{"RFB: silent", func(net.Conn) error { return nil }},
		{"RFB: in its version", func(c net.Conn) error {
			_, err := io.WriteString(c, "RFB 003.0")
			return err
		}},
		{"RFB: in VeNCrypt", func(c net.Conn) error { return vencryptTo(c, false) }},
		{"RFB: in VeNCrypt's TLS handshake", func(c net.Conn) error {
			if err := vencryptTo(c, true); err != nil {
				return err
			}
			_, err := c.Write(partialHello)
			return err
		}},
		{"RFB: in TLS, no account", func(c net.Conn) error {
			if err := vencryptTo(c, true); err != nil {
				return err
			}
			_, err := consoleTLS(c)
			return err
		}},
		{"console: in its ClientHello", func(c net.Conn) error {
			_, err := c.Write(partialHello)
			return err
		}},
		{"console: in TLS, no request", func(c net.Conn) error {
			_, err := consoleTLS(c)
			return err
		}},
		{"console: in its first request", func(c net.Conn) error {
			tc, err := consoleTLS(c)
			if err != nil {
				return err
			}
			_, err = io.WriteString(tc, "GET / HTTP/1.1\r\nHost: localhost\r\n")
			return err
		}},
	}
	for _, port := range []struct{ name, addr string }{{"control", h.Control}, {"observe", h.Observe}} {
		for _, tt := range tests {
			t.Run(port.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				start := time.Now()
				c, err := net.DialTimeout("tcp", port.addr, screenWait)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { c.Close() })
				c.SetDeadline(start.Add(timeout - 200*time.Millisecond))
				if err := tt.stall(c); err != nil {
					t.Fatalf("the steps before the stall: %v", err)
				}
				held, err := closedAfter(c, start, timeout+5*time.Second)
				t.Logf("closed after %v", held.Round(time.Millisecond))
				if err != nil || held < timeout || held > timeout+2500*time.Millisecond {
					t.Errorf("closed after %v (%v); want at handshake_timeout, %v, or up to a sniff window and a little after", held.Round(time.Millisecond), err, timeout)
				}
			})
		}
	}
	t.Cleanup(func() {
		good.full() // after the subtests: the host kept serving its viewer
		select {
		case <-h.Exited():
			t.Errorf("the host exited\n%s", h.Stderr())
		default:
		}
	})
}

// closedAfter reads c until the host closes it, or wait after start, and returns how long
// after start it was closed.
func closedAfter(c net.Conn, start time.Time, wait time.Duration) (time.Duration, error) {
	c.SetDeadline(start.Add(wait))
	_, err := io.Copy(io.Discard, c)
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return time.Since(start), errors.New("still open")
	}
	return time.Since(start), nil
}
