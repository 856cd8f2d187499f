package host_test

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/rfb"
	"github.com/buktu/buktu/internal/rfb/wire"
	"github.com/buktu/buktu/internal/testenv"
)

// rawConn is an RFB connection the test drives byte by byte.
type rawConn struct {
	net.Conn
	r *bufio.Reader
}

// handshakeStep says how far rawHandshake goes.
type handshakeStep int

const (
	stepTCP     handshakeStep = iota // connected; not even the version sent
	stepTLS                          // inside TLS, no account sent
	stepSession                      // ServerInit read: the session runs
)

// rawHandshake connects to addr and runs RFB 3.8 with VeNCrypt X509Plain by hand, up to
// step; closed by t.Cleanup.
func rawHandshake(t testing.TB, h *testenv.Host, addr, user, password string, step handshakeStep) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, screenWait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &rawConn{Conn: nc, r: bufio.NewReader(nc)}
	if step == stepTCP {
		return c
	}
	nc.SetDeadline(time.Now().Add(screenWait))
	defer nc.SetDeadline(time.Time{})
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("raw handshake: %s: %v", what, err)
		}
	}
	_, err = wire.ReadVersion(c.r)
	must("read version", err)
	_, err = nc.Write(wire.V38.Append(nil))
	must("write version", err)
	_, err = wire.ReadSecurityTypes(c.r, wire.V38)
	must("read security types", err)
	_, err = nc.Write(wire.AppendSecurityChoice(nil, wire.SecurityVeNCrypt))
	must("choose VeNCrypt", err)
	_, _, err = wire.ReadVeNCryptVersion(c.r)
	must("read VeNCrypt version", err)
	_, err = nc.Write(wire.AppendVeNCryptVersion(nil))
	must("write VeNCrypt version", err)
	must("read VeNCrypt version ack", wire.ReadVeNCryptVersionAck(c.r))
	_, err = wire.ReadVeNCryptSubtypes(c.r)
	must("read VeNCrypt sub-types", err)
	_, err = nc.Write(wire.AppendVeNCryptSubtype(nil, wire.VeNCryptX509Plain))
	must("choose X509Plain", err)
	must("read TLS ack", wire.ReadVeNCryptTLSAck(c.r))
	tc := tls.Client(nc, h.ScreenTLS(t))
	must("TLS handshake", tc.Handshake())
	c.Conn, c.r = tc, bufio.NewReader(tc)
	if step == stepTLS {
		return c
	}
	_, err = tc.Write(wire.PlainAuth{Username: user, Password: password}.Append(nil))
	must("send account", err)
	must("security result", wire.ReadSecurityResult(c.r, wire.V38))
	_, err = tc.Write(wire.AppendClientInit(nil, true))
	must("send ClientInit", err)
	_, err = wire.ReadServerInit(c.r)
	must("read ServerInit", err)
	return c
}

// ended waits until the host closes c, discarding what it sends, until deadline.
func (c *rawConn) ended(deadline time.Time) error {
	start := time.Now()
	c.SetReadDeadline(deadline)
	_, err := io.Copy(io.Discard, c.r)
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return fmt.Errorf("the host kept the connection open for %v", time.Since(start).Round(time.Millisecond))
	}
	return nil // EOF, reset or any other end
}

// inStep asks for a whole frame and waits for the FramebufferUpdate to start: the host
// read everything before the request as the messages they claim to be.
func (c *rawConn) inStep() error {
	if _, err := c.Write(wire.FramebufferUpdateRequest{Width: 16, Height: 16}.Append(nil)); err != nil {
		return fmt.Errorf("the host ended the connection: %w", err)
	}
	c.SetReadDeadline(time.Now().Add(screenWait))
	defer c.SetReadDeadline(time.Time{})
	for {
		m, err := wire.ReadServerMessage(c.r, wire.Limits{})
		if err != nil {
			return fmt.Errorf("no FramebufferUpdate: %w", err)
		}
		if _, ok := m.(wire.FramebufferUpdate); ok {
			return nil
		}
	}
}

// rssMiB returns the resident memory of process pid, in MiB.
func rssMiB(t testing.TB, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatalf("read the host's memory use: %v", err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return kb / 1024
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// cutTextHeader is a ClientCutText header claiming n bytes (negative: the extended form).
func cutTextHeader(n int32) []byte {
	return binary.BigEndian.AppendUint32([]byte{6, 0, 0, 0}, uint32(n))
}

// fenceHeader is a ClientFence header claiming a payload of n bytes.
func fenceHeader(flags wire.FenceFlags, n uint8) []byte {
	return append(binary.BigEndian.AppendUint32([]byte{248, 0, 0, 0}, uint32(flags)), n)
}

// clipboardBomb is an extended-clipboard provide whose text claims to be claim bytes.
func clipboardBomb(claim uint32) []byte {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(binary.BigEndian.AppendUint32(nil, claim))
	zw.Write(make([]byte, 1<<20))
	zw.Close()
	return wire.ClientClipboard{Clipboard: wire.Clipboard{Flags: wire.ClipboardProvide | wire.ClipboardText, Data: z.Bytes()}}.Append(nil)
}

// TestScreenHostileInput sends what no honest viewer sends, each on a connection of its own,
// while a well-behaved viewer keeps watching: the host ends the offending connection, or
// skips the message and stays in step where the protocol lets it (an over-long cut text or
// encoding list is skipped, as TigerVNC does; a fence over rfbproto's 64 bytes is not, as
// its sender could not get the synchronisation it asks for); it never allocates what a length
// field claims,
// and it ends connections that never finish the handshake after limits.handshake_timeout.
func TestScreenHostileInput(t *testing.T) {
	t.Parallel()
	d := startDisplay(t, 320, 240)
	dialX(t, d).drawPattern(320, 240)
	const handshakeTimeout = 2 * time.Second
	h := startScreenHostOn(t, d, "[limits]\nhandshake_timeout = \"2s\"\n[screen]\nmax_viewers_per_address = 32\n")
	good := dialViewer(t, h, h.Control, "admin", h.AdminPassword, rfb.ClientOptions{})
	good.full()
	junk := make([]byte, 8<<20)
	encodings := binary.BigEndian.AppendUint16([]byte{2, 0}, 0xFFFF)
	encodings = append(encodings, make([]byte, 4*0xFFFF)...)

	type outcome int
	const (
		ends        outcome = iota // the host closes the connection
		staysInStep                // the host skips the message and answers the next
		unharmed                   // the host waits for bytes that never come, and stays well
	)
	tests := []struct {
		name  string
		bytes []byte
		want  outcome
	}{
		{"cut text over the limit", append(cutTextHeader(2<<20), make([]byte, 2<<20)...), staysInStep},
		{"cut text claiming 2 GiB", append(cutTextHeader(0x7FFFFFF0), junk...), unharmed},
		{"extended cut text claiming 2 GiB", append(cutTextHeader(-0x7FFFFFF0), junk...), unharmed},
		{"extended clipboard text claiming 1 GiB", clipboardBomb(1 << 30), staysInStep},
		{"65535 encodings", encodings, staysInStep},
		{"24 bits per pixel", wire.SetPixelFormat{Format: wire.PixelFormat{BitsPerPixel: 24, Depth: 24, TrueColour: true, RedMax: 255, GreenMax: 255, BlueMax: 255, RedShift: 16, GreenShift: 8}}.Append(nil), ends},
		{"colour map pixel format", wire.SetPixelFormat{Format: wire.PixelFormat{BitsPerPixel: 8, Depth: 8}}.Append(nil), ends},
		{"overlapping channels", wire.SetPixelFormat{Format: wire.PixelFormat{BitsPerPixel: 16, Depth: 16, TrueColour: true, RedMax: 255, GreenMax: 255, BlueMax: 255, RedShift: 8, GreenShift: 4}}.Append(nil), ends},
		{"unknown message type", []byte{77, 1, 2, 3}, ends},
		{"fence over 64 bytes", append(fenceHeader(wire.FenceRequest, wire.MaxFencePayload+1), make([]byte, wire.MaxFencePayload+1)...), ends},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rawHandshake(t, h, h.Control, "admin", h.AdminPassword, stepSession)
			c.SetWriteDeadline(time.Now().Add(screenWait))
			_, werr := c.Write(tt.bytes)
			c.SetWriteDeadline(time.Time{})
			switch tt.want {
			case ends:
				if err := c.ended(time.Now().Add(screenWait)); err != nil {
					t.Errorf("%v", err)
				}
			case staysInStep:
				if werr != nil {
					t.Fatalf("the host stopped reading: %v", werr)
				}
				if err := c.inStep(); err != nil {
					t.Errorf("%v", err)
				}
			case unharmed:
				if werr != nil && !errors.Is(werr, os.ErrDeadlineExceeded) {
					t.Logf("the host ended the connection: %v", werr)
				}
			}
			if mib := rssMiB(t, h.PID()); mib > 256 {
				t.Errorf("the host holds %d MiB after the message", mib)
			}
			good.full()
		})
	}

	t.Run("half-open", func(t *testing.T) {
		deadline := time.Now().Add(handshakeTimeout + 5*time.Second)
		conns := map[string]*rawConn{
			"never sent a version":  rawHandshake(t, h, h.Control, "", "", stepTCP),
			"never sent an account": rawHandshake(t, h, h.Observe, "", "", stepTLS),
		}
		good.full()
		errs := make(chan error, len(conns))
		for name, c := range conns {
			go func() {
				if err := c.ended(deadline); err != nil {
					errs <- fmt.Errorf("connection that %s, with handshake_timeout %v: %w", name, handshakeTimeout, err)
					return
				}
				errs <- nil
			}()
		}
		for range conns {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		good.full()
	})
	select {
	case <-h.Exited():
		t.Fatalf("the host exited\n%s", h.Stderr())
	default:
	}
}
