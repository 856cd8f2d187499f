package rfb

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/rfb/wire"
)

// stillDisplay is a screen that never changes: Update(0) returns its one frame at once, any
// other Update waits for ctx.
type stillDisplay struct{ f *frame.Frame }

func (d stillDisplay) Update(ctx context.Context, since uint64) (*frame.Frame, frame.Region, uint64, error) {
	if since == 0 {
		return d.f, frame.RegionOf(d.f.Bounds()), 1, nil
	}
	<-ctx.Done()
	return nil, frame.Region{}, 0, ctx.Err()
}

func (stillDisplay) Key(uint32, bool) error        { return nil }
func (stillDisplay) Pointer(uint8, int, int) error { return nil }
func (stillDisplay) SetClipboard(string) error     { return nil }

// logBuffer collects a Server's log lines.
type logBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the log lines that contain s.
func (l *logBuffer) lines(s string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for line := range strings.Lines(l.b.String()) {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return out
}

// testViewer is the viewer end of a session over net.Pipe, driven message by message.
type testViewer struct {
	net.Conn
	r    *bufio.Reader
	log  *logBuffer
	done chan struct{} // closed when the server's side of the session has ended
}

const (
	testW, testH = 64, 48
	testWait     = 10 * time.Second
)

// startSession runs an invited session (no login) on a 64×48 screen and does the viewer's
// side of the handshake; it asks for encs.
func startSession(t *testing.T, encs ...wire.Encoding) *testViewer {
	t.Helper()
	logs := &logBuffer{}
	s := &Server{
		Display: stillDisplay{frame.New(testW, testH)},
		Logger:  slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	server, client := net.Pipe()
	v := &testViewer{Conn: client, r: bufio.NewReader(client), log: logs, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		defer close(v.done)
		s.ServeInvited(ctx, server, Access{Account: "guest"})
	}()
	t.Cleanup(func() {
		cancel()
		client.Close()
		<-v.done
	})
	client.SetDeadline(time.Now().Add(testWait))
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("handshake: %s: %v", what, err)
		}
	}
	_, err := wire.ReadVersion(v.r)
	must("read version", err)
	_, err = client.Write(wire.V38.Append(nil))
	must("write version", err)
	_, err = wire.ReadSecurityTypes(v.r, wire.V38)
	must("read security types", err)
	_, err = client.Write(wire.AppendSecurityChoice(nil, wire.SecurityNone))
	must("choose None", err)
	must("read security result", wire.ReadSecurityResult(v.r, wire.V38))
	_, err = client.Write(wire.AppendClientInit(nil, true))
	must("write ClientInit", err)
	_, err = wire.ReadServerInit(v.r)
	must("read ServerInit", err)
	v.send(t, wire.SetEncodings{Encodings: encs})
	return v
}

func (v *testViewer) send(t *testing.T, m wire.ClientMessage) {
	t.Helper()
	v.SetWriteDeadline(time.Now().Add(testWait))
	if _, err := v.Write(m.Append(nil)); err != nil {
		t.Fatalf("send %T: %v", m, err)
	}
}

// update is a FramebufferUpdate as testViewer.next reads it: every rectangle's header, and the
// screens of ExtendedDesktopSize ones.
type update struct {
	rects   []wire.RectHeader
	screens [][]wire.Screen
}

// next reads the next server message; for a FramebufferUpdate, with its rectangles (Raw in
// the default 32-bit format, or pseudo-rectangles), as an update.
func (v *testViewer) next() (any, error) {
	v.SetReadDeadline(time.Now().Add(testWait))
	m, err := wire.ReadServerMessage(v.r, wire.Limits{})
	if err != nil {
		return nil, err
	}
	fu, ok := m.(wire.FramebufferUpdate)
	if !ok {
		return m, nil
	}
	var u update
	for range fu.Rects {
		h, err := wire.ReadRectHeader(v.r)
		if err != nil {
			return nil, err
		}
		var screens []wire.Screen
		switch h.Encoding {
		case wire.EncodingRaw:
			_, err = io.CopyN(io.Discard, v.r, int64(h.Width)*int64(h.Height)*4)
		case wire.EncodingExtendedDesktopSize:
			screens, err = wire.ReadExtendedDesktopSize(v.r)
		default:
			err = fmt.Errorf("rectangle in encoding %v, which the test did not ask for", h.Encoding)
		}
		if err != nil {
			return nil, err
		}
		u.rects, u.screens = append(u.rects, h), append(u.screens, screens)
	}
	return u, nil
}

// waitFor reads server messages until one of type T arrives.
func waitFor[T any](t *testing.T, v *testViewer) T {
	t.Helper()
	for {
		m, err := v.next()
		if err != nil {
			var zero T
			t.Fatalf("waiting for a %T: %v", zero, err)
		}
		if m, ok := m.(T); ok {
			return m
		}
	}
}

// idle has the viewer take a whole frame and then ask for changes, which a still screen never
// has: the session's writer then waits on the screen, and whatever else it sends must not
// wait with it.
func (v *testViewer) idle(t *testing.T) {
	t.Helper()
	v.send(t, wire.FramebufferUpdateRequest{Width: testW, Height: testH})
	waitFor[update](t, v)
	v.send(t, wire.FramebufferUpdateRequest{Incremental: true, Width: testW, Height: testH})
}

// TestSessionFence: a fence request is answered at once, while the writer waits on a still
// screen, with its payload and Request cleared; the session goes on.
func TestSessionFence(t *testing.T) {
	v := startSession(t, wire.EncodingRaw, wire.EncodingFence)
	if got := waitFor[wire.ServerFence](t, v); got.Flags&wire.FenceRequest == 0 {
		t.Errorf("the announcement is %+v; want a fence request", got)
	}
	v.idle(t)
	v.send(t, wire.ClientFence{Flags: wire.FenceRequest | wire.FenceBlockBefore | wire.FenceSyncNext, Payload: []byte("ping-7")})
	got := waitFor[wire.ServerFence](t, v)
	if want := (wire.ServerFence{Flags: wire.FenceBlockBefore | wire.FenceSyncNext, Payload: []byte("ping-7")}); got.Flags != want.Flags || !bytes.Equal(got.Payload, want.Payload) {
		t.Errorf("answer to the fence = %+v; want %+v", got, want)
	}
	v.send(t, wire.FramebufferUpdateRequest{Width: testW, Height: testH})
	if u := waitFor[update](t, v); len(u.rects) == 0 {
		t.Errorf("after the fence, a full update of no rectangles")
	}
}
