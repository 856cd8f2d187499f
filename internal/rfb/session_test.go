package rfb

import (
	"bufio"
	"bytes"
	"context"
	"errors"
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

// TestSessionFenceOverLimit: a fence claiming more than rfbproto's 64 bytes ends the session,
// and the log says why.
func TestSessionFenceOverLimit(t *testing.T) {
	v := startSession(t, wire.EncodingRaw, wire.EncodingFence)
	waitFor[wire.ServerFence](t, v) // the announcement
	over := wire.ClientFence{Flags: wire.FenceRequest}.Append(nil)
	over[len(over)-1] = wire.MaxFencePayload + 1
	v.SetWriteDeadline(time.Now().Add(testWait))
	v.Write(append(over, make([]byte, wire.MaxFencePayload+1)...)) // the host may close first
	for {
		_, err := v.next()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) {
			break
		}
		if err != nil {
			t.Fatalf("after a fence of %d bytes: %v; want the host to end the connection", wire.MaxFencePayload+1, err)
		}
	}
	select {
	case <-v.done:
	case <-time.After(testWait):
		t.Fatalf("the session still runs %v after a fence of %d bytes", testWait, wire.MaxFencePayload+1)
	}
	if got := v.log.lines("fence payload over 64 bytes"); len(got) != 1 || !strings.Contains(got[0], "viewer session ended") {
		t.Errorf("log lines about the fence: %q; want one saying the session ended for it", got)
	}
}

// TestSessionFence: a fence request is answered at once, while the writer waits on a still
// screen, with its payload, Request cleared and the flags rfbproto does not define dropped;
// the session goes on.
func TestSessionFence(t *testing.T) {
	v := startSession(t, wire.EncodingRaw, wire.EncodingFence)
	if got := waitFor[wire.ServerFence](t, v); got.Flags&wire.FenceRequest == 0 {
		t.Errorf("the announcement is %+v; want a fence request", got)
	}
	v.idle(t)
	v.send(t, wire.ClientFence{Flags: wire.FenceRequest | wire.FenceBlockBefore | wire.FenceSyncNext | 1<<5, Payload: []byte("ping-7")})
	got := waitFor[wire.ServerFence](t, v)
	if want := (wire.ServerFence{Flags: wire.FenceBlockBefore | wire.FenceSyncNext, Payload: []byte("ping-7")}); got.Flags != want.Flags || !bytes.Equal(got.Payload, want.Payload) {
		t.Errorf("answer to the fence = %+v; want %+v", got, want)
	}
	v.send(t, wire.FramebufferUpdateRequest{Width: testW, Height: testH})
	if u := waitFor[update](t, v); len(u.rects) == 0 {
		t.Errorf("after the fence, a full update of no rectangles")
	}
}

// TestSessionSetDesktopSize: each request gets an update of its own, at once, holding one
// ExtendedDesktopSize rectangle from this client (x 1) with the status code (y): invalid
// screen layout for a bogus layout, else resize prohibited; the rest tells the screen as it
// is. Only the first refusal is logged above Debug.
func TestSessionSetDesktopSize(t *testing.T) {
	one := func(id uint32, x, y, w, h uint16) wire.Screen {
		return wire.Screen{ID: id, X: x, Y: y, Width: w, Height: h}
	}
	many := make([]wire.Screen, 255)
	for i := range many {
		many[i] = one(uint32(i), uint16(i), 0, 1, 1)
	}
	manyOutside := append([]wire.Screen(nil), many...)
	manyOutside[254].Y = 1
	tests := []struct {
		name string
		m    wire.SetDesktopSize
		want uint16
	}{
		{"a larger screen", wire.SetDesktopSize{Width: 1920, Height: 1080, Screens: []wire.Screen{one(0, 0, 0, 1920, 1080)}}, wire.ResizeProhibited},
		{"the same screen", wire.SetDesktopSize{Width: testW, Height: testH, Screens: []wire.Screen{one(0, 0, 0, testW, testH)}}, wire.ResizeProhibited},
		{"255 screens", wire.SetDesktopSize{Width: 255, Height: 1, Screens: many}, wire.ResizeProhibited},
		{"no screens", wire.SetDesktopSize{Width: 1920, Height: 1080}, wire.ResizeInvalidLayout},
		{"zero size", wire.SetDesktopSize{Screens: []wire.Screen{one(0, 0, 0, 0, 0)}}, wire.ResizeInvalidLayout},
		{"a screen outside", wire.SetDesktopSize{Width: 1920, Height: 1080, Screens: []wire.Screen{one(0, 1000, 0, 1920, 1080)}}, wire.ResizeInvalidLayout},
		{"the 255th screen outside", wire.SetDesktopSize{Width: 255, Height: 1, Screens: manyOutside}, wire.ResizeInvalidLayout},
		{"one id twice", wire.SetDesktopSize{Width: 200, Height: 100, Screens: []wire.Screen{one(3, 0, 0, 100, 100), one(3, 100, 0, 100, 100)}}, wire.ResizeInvalidLayout},
	}
	v := startSession(t, wire.EncodingRaw, wire.EncodingExtendedDesktopSize)
	v.idle(t)
	for _, tt := range tests {
		v.send(t, tt.m)
		m, err := v.next()
		if err != nil {
			t.Fatalf("%s: no answer: %v", tt.name, err)
		}
		u, ok := m.(update)
		if !ok || len(u.rects) != 1 {
			t.Fatalf("%s: answered with %#v; want an update of one rectangle", tt.name, m)
		}
		wantRect := wire.RectHeader{X: wire.ResizeByThisClient, Y: tt.want, Width: testW, Height: testH, Encoding: wire.EncodingExtendedDesktopSize}
		wantScreens := []wire.Screen{{Width: testW, Height: testH}}
		if got := u.rects[0]; got != wantRect || len(u.screens[0]) != 1 || u.screens[0][0] != wantScreens[0] {
			t.Errorf("%s: answered with %+v, screens %+v; want %+v, screens %+v", tt.name, got, u.screens[0], wantRect, wantScreens)
		}
	}
	loud := 0
	for _, line := range v.log.lines("resize request refused") {
		if !strings.Contains(line, "level=DEBUG") {
			loud++
		}
	}
	if loud != 1 {
		t.Errorf("%d refusals logged above Debug; want the first only\n%s", loud, v.log.lines("resize"))
	}
}

// TestSessionSetDesktopSizeUnheard: a viewer that did not list ExtendedDesktopSize cannot
// read the answer, so it gets none and stays in step; the log says so.
func TestSessionSetDesktopSizeUnheard(t *testing.T) {
	v := startSession(t, wire.EncodingRaw, wire.EncodingDesktopSize)
	v.send(t, wire.SetDesktopSize{Width: 1920, Height: 1080, Screens: []wire.Screen{{Width: 1920, Height: 1080}}})
	v.send(t, wire.FramebufferUpdateRequest{Width: testW, Height: testH})
	u := waitFor[update](t, v)
	for _, r := range u.rects {
		if r.Encoding != wire.EncodingRaw {
			t.Errorf("the update after the request has a %v rectangle; want Raw only", r.Encoding)
		}
	}
	if got := v.log.lines("refused unanswered"); len(got) != 1 || !strings.Contains(got[0], "level=WARN") {
		t.Errorf("log lines about the unanswered request: %q; want one warning", got)
	}
}
