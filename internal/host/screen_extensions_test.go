package host_test

// Tests of the RFB extensions viewers negotiate: cursor shape, continuous updates and
// fences, QEMU's extended key events, and resize requests.

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jezek/xgb/xproto"

	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/rfb"
	"github.com/buktu/buktu/internal/rfb/wire"
)

// rawRect is one rectangle of an update read by rawConn.readUpdate: its header and, for
// pseudo-rectangles with a body the tests look at (Cursor), the body.
type rawRect struct {
	wire.RectHeader
	body []byte
}

// setEncodings sends SetEncodings on a raw connection, which stays in the default pixel
// format (32-bit BGRX) so readUpdate can size Raw rectangles.
func (c *rawConn) setEncodings(t testing.TB, encs ...wire.Encoding) {
	t.Helper()
	if _, err := c.Write(wire.SetEncodings{Encodings: encs}.Append(nil)); err != nil {
		t.Fatal(err)
	}
}

// request sends a FramebufferUpdateRequest for a w×h screen.
func (c *rawConn) request(t testing.TB, incremental bool, w, h int) {
	t.Helper()
	if _, err := c.Write(wire.FramebufferUpdateRequest{Incremental: incremental, Width: uint16(w), Height: uint16(h)}.Append(nil)); err != nil {
		t.Fatal(err)
	}
}

// readUpdate reads server messages until a FramebufferUpdate, and returns its rectangles.
// It reads Raw rectangles in 32 bits per pixel and the pseudo-rectangles the tests ask for.
func (c *rawConn) readUpdate(deadline time.Time) ([]rawRect, error) {
	c.SetReadDeadline(deadline)
	defer c.SetReadDeadline(time.Time{})
	for {
		m, err := wire.ReadServerMessage(c.r, wire.Limits{})
		if err != nil {
			return nil, err
		}
		fu, ok := m.(wire.FramebufferUpdate)
		if !ok {
			continue
		}
		var rects []rawRect
		for i := 0; fu.Rects == wire.RectsUntilLastRect || i < int(fu.Rects); i++ {
			h, err := wire.ReadRectHeader(c.r)
			if err != nil {
				return nil, err
			}
			r := rawRect{RectHeader: h}
			w, ht := int(h.Width), int(h.Height)
			switch h.Encoding {
			case wire.EncodingLastRect:
				return rects, nil
			case wire.EncodingRaw:
				_, err = io.CopyN(io.Discard, c.r, int64(w*ht*4))
			case wire.EncodingCursor:
				r.body = make([]byte, w*ht*4+(w+7)/8*ht)
				_, err = io.ReadFull(c.r, r.body)
			case wire.EncodingExtendedDesktopSize:
				_, err = wire.ReadExtendedDesktopSize(c.r)
			case wire.EncodingDesktopSize, wire.EncodingQEMUExtendedKey:
			default:
				return nil, fmt.Errorf("rectangle in encoding %v, which the test did not ask for", h.Encoding)
			}
			if err != nil {
				return nil, err
			}
			rects = append(rects, r)
		}
		return rects, nil
	}
}

// cursorOf returns the Cursor pseudo-rectangle of rects, if any.
func cursorOf(rects []rawRect) (rawRect, bool) {
	for _, r := range rects {
		if r.Encoding == wire.EncodingCursor {
			return r, true
		}
	}
	return rawRect{}, false
}

// sameCursor compares a Cursor pseudo-rectangle with the shape the X server reports: the
// hotspot, the size, the mask (opaque where alpha is at least half) and the opaque pixels.
func sameCursor(r rawRect, img *frame.Frame, hotX, hotY int) error {
	if int(r.X) != hotX || int(r.Y) != hotY || int(r.Width) != img.W || int(r.Height) != img.H {
		return fmt.Errorf("cursor %dx%d with hotspot %d,%d; the X server's is %dx%d with hotspot %d,%d",
			r.Width, r.Height, r.X, r.Y, img.W, img.H, hotX, hotY)
	}
	stride := (img.W + 7) / 8
	mask := r.body[img.W*img.H*4:]
	for y := range img.H {
		for x := range img.W {
			p := img.Pixel(x, y)
			opaque := mask[y*stride+x/8]&(0x80>>(x%8)) != 0
			if opaque != (p>>24 >= 0x80) {
				return fmt.Errorf("cursor mask at %d,%d is %v, alpha %#x", x, y, opaque, p>>24)
			}
			got := binary.LittleEndian.Uint32(r.body[4*(y*img.W+x):]) & 0xFFFFFF
			if opaque && got != p&0xFFFFFF {
				return fmt.Errorf("cursor pixel at %d,%d is %06x, want %06x", x, y, got, p&0xFFFFFF)
			}
		}
	}
	return nil
}

// TestScreenCursorShape asks for the Cursor pseudo-encoding: the first update carries the
// host's pointer shape, and a change of shape (a new cursor on the root window, nothing
// drawn) reaches the viewer waiting on an incremental request.
func TestScreenCursorShape(t *testing.T) {
	// Not parallel: it uses x11Conn.
	const w, h = 320, 240
	d := startDisplay(t, w, h)
	x := dialX(t, d)
	host := startScreenHostOn(t, d, "")
	xc := x11Conn(t, d)
	c := rawHandshake(t, host, host.Observe, "admin", host.AdminPassword, stepSession)
	c.setEncodings(t, wire.EncodingRaw, wire.EncodingCursor)
	c.request(t, false, w, h)
	rects, err := c.readUpdate(time.Now().Add(screenWait))
	if err != nil {
		t.Fatalf("read the first update: %v", err)
	}
	cur, ok := cursorOf(rects)
	if !ok {
		t.Fatalf("the first update has no Cursor pseudo-rectangle: %v", rects)
	}
	img, _, hx, hy, err := xc.Cursor()
	if err != nil {
		t.Fatal(err)
	}
	if err := sameCursor(cur, img, hx, hy); err != nil {
		t.Errorf("first cursor: %v", err)
	}

	// A crosshair from the X server's built-in cursor font, red on blue.
	font, _ := xproto.NewFontId(x.xc)
	cursor, _ := xproto.NewCursorId(x.xc)
	xproto.OpenFont(x.xc, font, uint16(len("cursor")), "cursor")
	const crosshair = 34
	xproto.CreateGlyphCursor(x.xc, cursor, font, font, crosshair, crosshair+1, 0xFFFF, 0, 0, 0, 0, 0xFFFF)
	if err := xproto.ChangeWindowAttributesChecked(x.xc, x.screen.Root, xproto.CwCursor, []uint32{uint32(cursor)}).Check(); err != nil {
		t.Fatalf("set the root window's cursor: %v", err)
	}
	var newImg *frame.Frame
	pollUntil(t, "the X server shows the new cursor", func() bool {
		newImg, _, hx, hy, err = xc.Cursor()
		return err == nil && !bytes.Equal(newImg.Pix, img.Pix)
	})
	c.request(t, true, w, h)
	rects, err = c.readUpdate(time.Now().Add(screenWait))
	if err != nil {
		t.Fatalf("no update after the cursor changed (the screen did not): %v", err)
	}
	cur, ok = cursorOf(rects)
	if !ok {
		t.Fatalf("the update after the cursor changed has no Cursor pseudo-rectangle: %v", rects)
	}
	if err := sameCursor(cur, newImg, hx, hy); err != nil {
		t.Errorf("new cursor: %v", err)
	}
}

// TestScreenContinuousUpdates negotiates continuous updates and fences as TigerVNC does:
// the host announces both, streams updates of an animation without requests once enabled,
// answers a fence with its payload, and ends the stream with EndOfContinuousUpdates.
func TestScreenContinuousUpdates(t *testing.T) {
	t.Parallel()
	const w, h = 320, 240
	d := startDisplay(t, w, h)
	x := dialX(t, d)
	host := startScreenHostOn(t, d, "")
	v := dialViewer(t, host, host.Observe, "admin", host.AdminPassword, rfb.ClientOptions{
		Encodings: []wire.Encoding{wire.EncodingTight, wire.EncodingContinuousUpdates, wire.EncodingFence}})
	var mu sync.Mutex // guards heard: onOther runs in read's goroutine
	var heard []wire.ServerMessage
	onOther := func(m wire.ServerMessage) {
		mu.Lock()
		heard = append(heard, m)
		mu.Unlock()
		if f, ok := m.(wire.ServerFence); ok && f.Flags&wire.FenceRequest != 0 {
			v.Send(wire.ClientFence{Flags: f.Flags &^ wire.FenceRequest, Payload: f.Payload})
		}
	}
	has := func(match func(wire.ServerMessage) bool) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range heard {
			if match(m) {
				return true
			}
		}
		return false
	}
	isEnd := func(m wire.ServerMessage) bool { _, ok := m.(wire.EndOfContinuousUpdates); return ok }
	if err := v.Request(false); err != nil {
		t.Fatal(err)
	}
	if err := v.read(onOther); err != nil {
		t.Fatal(err)
	}
	if !has(isEnd) {
		t.Errorf("the host did not announce continuous updates with EndOfContinuousUpdates")
	}
	if !has(func(m wire.ServerMessage) bool {
		f, ok := m.(wire.ServerFence)
		return ok && f.Flags&wire.FenceRequest != 0
	}) {
		t.Errorf("the host did not announce fences with a fence request")
	}

	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	box := x.window(0, 0, 40, 40, 0)
	wg.Go(func() { x.animate(ctx, box, w, h) })
	if err := v.Send(wire.EnableContinuousUpdates{Enable: true, Width: w, Height: h}); err != nil {
		t.Fatal(err)
	}
	const want = 10
	for i := range want {
		if err := v.read(onOther); err != nil {
			t.Fatalf("continuous update %d of %d without a request: %v", i+1, want, err)
		}
	}

	if err := v.Send(wire.ClientFence{Flags: wire.FenceRequest | wire.FenceBlockBefore, Payload: []byte("ping-42")}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	heard = nil
	mu.Unlock()
	if err := v.Send(wire.EnableContinuousUpdates{Enable: false, Width: w, Height: h}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(screenWait)
	for !has(isEnd) {
		if time.Now().After(deadline) {
			t.Fatalf("no EndOfContinuousUpdates after disabling them within %v", screenWait)
		}
		if err := v.Request(true); err != nil { // keeps updates, and so reads, coming
			t.Fatal(err)
		}
		if err := v.read(onOther); err != nil {
			t.Fatal(err)
		}
	}
	if !has(func(m wire.ServerMessage) bool {
		f, ok := m.(wire.ServerFence)
		return ok && f.Flags&wire.FenceRequest == 0 && string(f.Payload) == "ping-42"
	}) {
		t.Errorf("the host did not answer the fence with its payload")
	}
}

// TestScreenQEMUExtendedKey asks for QEMU extended key events: the host acknowledges them
// with the pseudo-rectangle, then presses the physical key a QEMUKeyEvent names, whatever
// its keysym (as from a viewer with another keyboard layout).
func TestScreenQEMUExtendedKey(t *testing.T) {
	t.Parallel()
	const w, h = 320, 240
	d := startDisplay(t, w, h)
	x := dialX(t, d)
	win := x.window(0, 0, w, h, xproto.EventMaskKeyPress)
	if err := xproto.SetInputFocusChecked(x.xc, xproto.InputFocusParent, win, xproto.TimeCurrentTime).Check(); err != nil {
		t.Fatalf("focus: %v", err)
	}
	host := startScreenHostOn(t, d, "")
	host.AddAccount(t, "pilot", "pilot-pw-1", "control")
	c := rawHandshake(t, host, host.Control, "pilot", "pilot-pw-1", stepSession)
	c.setEncodings(t, wire.EncodingRaw, wire.EncodingQEMUExtendedKey)
	c.request(t, false, w, h)
	acked := false
	for deadline := time.Now().Add(screenWait); !acked; {
		rects, err := c.readUpdate(deadline)
		if err != nil {
			t.Fatalf("no QEMU extended key pseudo-rectangle: %v", err)
		}
		for _, r := range rects {
			acked = acked || r.Encoding == wire.EncodingQEMUExtendedKey
		}
		if !acked {
			c.request(t, false, w, h)
		}
	}
	// XT scancodes of a US keyboard's A, Z and 1, sent with the keysyms an AZERTY
	// keyboard gives those keys: the host must press the keys, not the keysyms.
	keys := []struct {
		scancode, keysym, want uint32
	}{{0x1e, 'q', 'a'}, {0x2c, 'w', 'z'}, {0x02, '&', '1'}}
	for _, k := range keys {
		for _, down := range []bool{true, false} {
			if _, err := c.Write(wire.QEMUKeyEvent{Down: down, Keysym: k.keysym, Keycode: k.scancode}.Append(nil)); err != nil {
				t.Fatal(err)
			}
		}
	}
	timeout := time.After(screenWait)
	for _, k := range keys {
		var ev xproto.KeyPressEvent
		for got := false; !got; {
			select {
			case e := <-x.events:
				ev, got = e.(xproto.KeyPressEvent)
			case <-timeout:
				t.Fatalf("no key press for scancode %#x within %v", k.scancode, screenWait)
			}
		}
		km, err := xproto.GetKeyboardMapping(x.xc, ev.Detail, 1).Reply()
		if err != nil || len(km.Keysyms) == 0 {
			t.Fatalf("keyboard mapping of keycode %d: %v", ev.Detail, err)
		}
		if got := uint32(km.Keysyms[0]); got != k.want {
			t.Errorf("scancode %#x (keysym %#x) pressed keycode %d, keysym %#x; want %#x", k.scancode, k.keysym, ev.Detail, got, k.want)
		}
	}
}

// TestScreenResizeRequest asks the host to resize its screen, as a viewer that listed
// ExtendedDesktopSize may: each request gets an update of its own holding one
// ExtendedDesktopSize rectangle from this client with the status code (invalid screen layout
// for a bogus layout, else resize prohibited: viewers never resize the shared screen), even
// while an incremental request waits on a still screen. A well-formed fence is answered with
// its payload and only the flags rfbproto defines; one over 64 bytes ends the connection,
// and the log says why.
func TestScreenResizeRequest(t *testing.T) {
	t.Parallel()
	const w, h = 320, 240
	d := startDisplay(t, w, h)
	host := startScreenHostOn(t, d, "")
	c := rawHandshake(t, host, host.Observe, "admin", host.AdminPassword, stepSession)
	c.setEncodings(t, wire.EncodingRaw, wire.EncodingExtendedDesktopSize, wire.EncodingFence)
	c.request(t, false, w, h)
	if _, err := c.readUpdate(time.Now().Add(screenWait)); err != nil { // after the fence announcement
		t.Fatalf("read the first update: %v", err)
	}

	// No request is pending: the only message to come is the fence's answer.
	c.Write(wire.ClientFence{Flags: wire.FenceRequest | wire.FenceBlockBefore | 1<<9, Payload: []byte("still-here")}.Append(nil))
	c.SetReadDeadline(time.Now().Add(screenWait))
	m, err := wire.ReadServerMessage(c.r, wire.Limits{})
	c.SetReadDeadline(time.Time{})
	if f, ok := m.(wire.ServerFence); err != nil || !ok || f.Flags != wire.FenceBlockBefore || string(f.Payload) != "still-here" {
		t.Errorf("answer to a fence = %#v, %v; want a ServerFence with BlockBefore and its payload", m, err)
	}

	c.request(t, true, w, h)
	screen := func(id uint32, x, y, sw, sh uint16) wire.Screen {
		return wire.Screen{ID: id, X: x, Y: y, Width: sw, Height: sh}
	}
	tests := []struct {
		name string
		m    wire.SetDesktopSize
		want uint16
	}{
		{"a larger screen", wire.SetDesktopSize{Width: 1024, Height: 768, Screens: []wire.Screen{screen(0, 0, 0, 1024, 768)}}, wire.ResizeProhibited},
		{"the same screen", wire.SetDesktopSize{Width: w, Height: h, Screens: []wire.Screen{screen(0, 0, 0, w, h)}}, wire.ResizeProhibited},
		{"no screens", wire.SetDesktopSize{Width: 1024, Height: 768}, wire.ResizeInvalidLayout},
		{"zero size", wire.SetDesktopSize{Screens: []wire.Screen{screen(0, 0, 0, 0, 0)}}, wire.ResizeInvalidLayout},
		{"a screen outside", wire.SetDesktopSize{Width: 1024, Height: 768, Screens: []wire.Screen{screen(0, 512, 384, 1024, 768)}}, wire.ResizeInvalidLayout},
		{"one id twice", wire.SetDesktopSize{Width: 2048, Height: 768, Screens: []wire.Screen{screen(1, 0, 0, 1024, 768), screen(1, 1024, 0, 1024, 768)}}, wire.ResizeInvalidLayout},
	}
	for _, tt := range tests {
		if _, err := c.Write(tt.m.Append(nil)); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var answer []rawRect
		for deadline := time.Now().Add(screenWait); answer == nil; {
			rects, err := c.readUpdate(deadline)
			if err != nil {
				t.Fatalf("%s: no answer: %v", tt.name, err)
			}
			for _, r := range rects {
				if r.Encoding == wire.EncodingExtendedDesktopSize {
					answer = rects
				}
			}
			if answer == nil { // the screen changed: an update of what the request waited for
				c.request(t, true, w, h)
			}
		}
		want := wire.RectHeader{X: wire.ResizeByThisClient, Y: tt.want, Width: w, Height: h, Encoding: wire.EncodingExtendedDesktopSize}
		if len(answer) != 1 || answer[0].RectHeader != want {
			t.Errorf("%s: answered with %+v; want an update of one rectangle, %+v", tt.name, answer, want)
		}
	}

	c.Write(fenceHeader(wire.FenceRequest, wire.MaxFencePayload+1))
	if err := c.ended(time.Now().Add(screenWait)); err != nil {
		t.Errorf("after a fence of %d bytes: %v", wire.MaxFencePayload+1, err)
	}
	pollUntil(t, "the host logs why it ended the connection", func() bool {
		return strings.Contains(host.Stderr(), "fence payload over 64 bytes")
	})
	if !strings.Contains(host.Stderr(), "resize request refused") {
		t.Errorf("the host did not log the refused resize requests")
	}
}
