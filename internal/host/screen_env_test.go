package host_test

// Shared pieces of the screen end-to-end tests: an X display the test owns (so it knows the
// true pixels), a plain X client that draws on it and watches events, and RFB viewers.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/rfb"
	"github.com/buktu/buktu/internal/rfb/wire"
	"github.com/buktu/buktu/internal/screen/x11"
	"github.com/buktu/buktu/internal/screen/xvfb"
	"github.com/buktu/buktu/internal/testenv"
)

// screenWait bounds every wait for the host, a peer or the X server in these tests.
const screenWait = 15 * time.Second

// startDisplay starts an Xvfb of w×h running no session, stopped by t.Cleanup (after the
// host that shares it, which is started later and so stopped first).
func startDisplay(t testing.TB, w, h int) *xvfb.Server {
	t.Helper()
	testenv.Require(t, "Xvfb")
	srv, err := xvfb.Start(context.Background(), xvfb.Options{Width: w, Height: h, Depth: 24, Session: []string{}})
	if err != nil {
		t.Fatalf("start Xvfb: %v", err)
	}
	t.Cleanup(func() { srv.Stop() })
	return srv
}

// startScreenHostOn starts a host sharing d, with extra config.
func startScreenHostOn(t testing.TB, d *xvfb.Server, extra string) *testenv.Host {
	t.Helper()
	return testenv.StartScreenHostOn(t, d.Display(), d.Authority(), extra)
}

// truth captures d's pixels over a connection of the test's own, with the core protocol's
// GetImage: an oracle that shares no code with the host's capture.
func truth(t testing.TB, d *xvfb.Server) *frame.Frame {
	t.Helper()
	c, err := openX(t, d)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	return c.capture()
}

// x11Conn opens d with package x11, as the host does; closed by t.Cleanup. Only tests that
// do not run in parallel may use it: setting up xgb's extensions (DAMAGE, XFIXES, RANDR, MIT-SHM)
// writes process-wide tables that every other connection's reader goroutine reads, so an
// x11.Open while another test's connections receive events is a data race (and may crash
// the test binary with "concurrent map read and map write").
func x11Conn(t testing.TB, d *xvfb.Server) *x11.Conn {
	t.Helper()
	c, err := x11.Open(t.Context(), d.Display(), x11.Options{Authority: d.Authority()})
	if err != nil {
		t.Fatalf("open %s: %v", d.Display(), err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// xclient is a plain X client of the test's own: it draws and watches events.
type xclient struct {
	t      testing.TB
	xc     *xgb.Conn
	screen xproto.ScreenInfo
	events chan xgb.Event
	done   chan struct{} // closed when the event reader has ended
}

// dialX connects to d with its cookie; closed by t.Cleanup.
func dialX(t testing.TB, d *xvfb.Server) *xclient {
	t.Helper()
	c, err := openX(t, d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	return c
}

// openX connects to d with its cookie, using the core protocol only (see x11Conn).
func openX(t testing.TB, d *xvfb.Server) (*xclient, error) {
	cookie, err := readCookie(d.Authority())
	if err != nil {
		return nil, err
	}
	nc, err := net.DialTimeout("unix", "/tmp/.X11-unix/X"+strings.TrimPrefix(d.Display(), ":"), screenWait)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", d.Display(), err)
	}
	xc, err := xgb.NewConnNet(&cookieConn{Conn: nc, cookie: cookie})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("connect to %s: %w", d.Display(), err)
	}
	c := &xclient{t: t, xc: xc, screen: xproto.Setup(xc).Roots[0], events: make(chan xgb.Event, 1<<14),
		done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			ev, xerr := xc.WaitForEvent()
			if ev == nil && xerr == nil {
				return
			}
			if ev != nil {
				select {
				case c.events <- ev:
				default: // nobody watches: drop
				}
			}
		}
	}()
	return c, nil
}

func (c *xclient) close() {
	c.xc.Close()
	<-c.done
}

// capture reads the whole screen with GetImage; the displays here have depth 24 in 32-bit
// little-endian pixels, the layout of a frame.Frame.
func (c *xclient) capture() *frame.Frame {
	c.t.Helper()
	g, err := xproto.GetGeometry(c.xc, xproto.Drawable(c.screen.Root)).Reply()
	if err != nil {
		c.t.Fatalf("read the screen's size: %v", err)
	}
	img, err := xproto.GetImage(c.xc, xproto.ImageFormatZPixmap, xproto.Drawable(c.screen.Root),
		0, 0, g.Width, g.Height, 0xFFFFFFFF).Reply()
	if err != nil {
		c.t.Fatalf("capture the screen: %v", err)
	}
	f := frame.New(int(g.Width), int(g.Height))
	if img.Depth != 24 || len(img.Data) < len(f.Pix) || xproto.Setup(c.xc).ImageByteOrder != xproto.ImageOrderLSBFirst {
		c.t.Fatalf("the screen is not depth 24 in 32-bit little-endian pixels (depth %d, %d bytes for %dx%d)",
			img.Depth, len(img.Data), g.Width, g.Height)
	}
	copy(f.Pix, img.Data)
	return f
}

// readCookie returns the data of the first entry of an Xauthority file (package xvfb writes
// exactly one, for any display).
func readCookie(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the display's cookie: %w", err)
	}
	if len(b) < 2 {
		return nil, errors.New("read the display's cookie: empty Xauthority file")
	}
	b = b[2:] // family
	var field []byte
	for range 4 { // address, number, name, data
		if len(b) < 2 || len(b) < 2+int(binary.BigEndian.Uint16(b)) {
			return nil, errors.New("read the display's cookie: truncated Xauthority file")
		}
		n := int(binary.BigEndian.Uint16(b))
		field, b = b[2:2+n], b[2+n:]
	}
	return field, nil
}

// cookieConn puts the MIT-MAGIC-COOKIE-1 into xgb's connection setup request: xgb reads
// only $XAUTHORITY, which parallel tests cannot each set.
type cookieConn struct {
	net.Conn
	cookie []byte
	once   sync.Once
}

func (c *cookieConn) Write(b []byte) (int, error) {
	first := false
	c.once.Do(func() { first = true })
	if !first || len(b) < 12 || b[0] != 'l' {
		return c.Conn.Write(b)
	}
	const name = "MIT-MAGIC-COOKIE-1"
	pad := func(n int) []byte { return make([]byte, (4-n%4)%4) }
	req := append([]byte(nil), b[:6]...)
	req = binary.LittleEndian.AppendUint16(req, uint16(len(name)))
	req = binary.LittleEndian.AppendUint16(req, uint16(len(c.cookie)))
	req = append(req, 0, 0)
	req = append(append(req, name...), pad(len(name))...)
	req = append(append(req, c.cookie...), pad(len(c.cookie))...)
	if _, err := c.Conn.Write(req); err != nil {
		return 0, err
	}
	return len(b), nil
}

// window creates and maps an override-redirect w×h window at (x, y), black, reporting the
// events in mask.
func (c *xclient) window(x, y, w, h int, mask uint32) xproto.Window {
	c.t.Helper()
	win, err := xproto.NewWindowId(c.xc)
	if err != nil {
		c.t.Fatal(err)
	}
	err = xproto.CreateWindowChecked(c.xc, c.screen.RootDepth, win, c.screen.Root, int16(x), int16(y),
		uint16(w), uint16(h), 0, xproto.WindowClassInputOutput, c.screen.RootVisual,
		xproto.CwBackPixel|xproto.CwOverrideRedirect|xproto.CwEventMask, []uint32{0, 1, mask}).Check()
	if err != nil {
		c.t.Fatalf("create window: %v", err)
	}
	if err := xproto.MapWindowChecked(c.xc, win).Check(); err != nil {
		c.t.Fatalf("map window: %v", err)
	}
	return win
}

// fill paints rects of win in colour 0xRRGGBB.
func (c *xclient) fill(win xproto.Window, colour uint32, rects ...frame.Rect) {
	c.t.Helper()
	gc, err := xproto.NewGcontextId(c.xc)
	if err != nil {
		c.t.Fatal(err)
	}
	xproto.CreateGC(c.xc, gc, xproto.Drawable(win), xproto.GcForeground, []uint32{colour})
	xr := make([]xproto.Rectangle, len(rects))
	for i, r := range rects {
		xr[i] = xproto.Rectangle{X: int16(r.X), Y: int16(r.Y), Width: uint16(r.W), Height: uint16(r.H)}
	}
	xproto.PolyFillRectangle(c.xc, xproto.Drawable(win), gc, xr)
	xproto.FreeGC(c.xc, gc)
}

// sync waits until the X server has done every request sent so far.
func (c *xclient) sync() { c.xc.Sync() }

// drawPattern covers the whole w×h screen with a window showing a deterministic test
// pattern that exercises every path of the encoders: solid blocks (Tight fill, Hextile
// background), a few colours (palettes), a two-colour checkerboard (Tight mono, ZRLE packed
// palettes) and smooth gradients with thousands of colours (raw tiles, JPEG). It returns the
// window and the rectangle of a marker block, pure 0x12_34_56, nowhere else on screen.
func (c *xclient) drawPattern(w, h int) (xproto.Window, frame.Rect) {
	c.t.Helper()
	win := c.window(0, 0, w, h, 0)
	c.fill(win, 0x202020, frame.Rect{W: w, H: h})
	marker := frame.Rect{X: 8, Y: 8, W: 24, H: 16}
	c.fill(win, 0x123456, marker)
	// Primary colours in a row of blocks.
	for i, col := range []uint32{0xFF0000, 0x00FF00, 0x0000FF, 0xFFFF00, 0xFF00FF, 0x00FFFF, 0xFFFFFF, 0x808080} {
		c.fill(win, col, frame.Rect{X: 40 + i*30, Y: 8, W: 26, H: 40})
	}
	// A checkerboard of single pixels, two colours.
	var dark []frame.Rect
	for y := 56; y < 56+48; y++ {
		for x := 8 + (y % 2); x < 8+96; x += 2 {
			dark = append(dark, frame.Rect{X: x, Y: y, W: 1, H: 1})
		}
	}
	c.fill(win, 0xF0F0E0, frame.Rect{X: 8, Y: 56, W: 96, H: 48})
	c.fill(win, 0x102040, dark...)
	// Horizontal and vertical gradients: one colour per column or row.
	gw := min(w-120, 256)
	for x := range gw {
		v := uint32(x * 255 / max(gw-1, 1))
		c.fill(win, v<<16|(255-v)<<8|uint32(x*7%256), frame.Rect{X: 112 + x, Y: 56, W: 1, H: 48})
	}
	gh := h - 112 - 8
	for y := range gh {
		v := uint32(y * 255 / max(gh-1, 1))
		c.fill(win, (255-v)<<16|uint32(y*13%256)<<8|v, frame.Rect{X: 8, Y: 112 + y, W: w - 16, H: 1})
	}
	// Diagonal stripes of four colours across the gradient.
	cols := []uint32{0x000000, 0xFFFFFF, 0xC04000, 0x0040C0}
	for i := 0; i < 40; i++ {
		c.fill(win, cols[i%4], frame.Rect{X: 16 + i*7, Y: 120 + i, W: 5, H: 5})
	}
	c.sync()
	return win, marker
}

// viewer is an RFB client of the test with deadlines on its reads.
type viewer struct {
	*rfb.Client
	t testing.TB
}

// dialViewer logs in at addr as user with password (VeNCrypt X509Plain, trusting the host's
// certificate); closed by t.Cleanup.
func dialViewer(t testing.TB, h *testenv.Host, addr, user, password string, o rfb.ClientOptions) *viewer {
	t.Helper()
	v, err := tryViewer(t, h, addr, user, password, o)
	if err != nil {
		t.Fatalf("log in at %s as %s: %v", addr, user, err)
	}
	return v
}

func tryViewer(t testing.TB, h *testenv.Host, addr, user, password string, o rfb.ClientOptions) (*viewer, error) {
	t.Helper()
	o.User, o.Password, o.TLS, o.Timeout = user, password, h.ScreenTLS(t), screenWait
	ctx, cancel := context.WithTimeout(t.Context(), screenWait)
	defer cancel()
	c, err := rfb.Dial(ctx, addr, o)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return &viewer{Client: c, t: t}, nil
}

// read reads one FramebufferUpdate within screenWait, passing other messages to onOther.
func (v *viewer) read(onOther func(wire.ServerMessage)) error {
	done := make(chan error, 1)
	go func() { done <- v.ReadUpdate(onOther) }()
	select {
	case err := <-done:
		return err
	case <-time.After(screenWait):
		v.Close()
		<-done
		return fmt.Errorf("no FramebufferUpdate within %v", screenWait)
	}
}

// full asks for and reads a whole frame.
func (v *viewer) full() *frame.Frame {
	v.t.Helper()
	if err := v.Request(false); err != nil {
		v.t.Fatalf("request a frame: %v", err)
	}
	if err := v.read(nil); err != nil {
		v.t.Fatalf("read a frame: %v", err)
	}
	return v.Frame()
}

// waitFrame reads frames until ok accepts one, failing the test after screenWait.
func (v *viewer) waitFrame(what string, ok func(*frame.Frame) bool) *frame.Frame {
	v.t.Helper()
	deadline := time.Now().Add(screenWait)
	for {
		f := v.full()
		if ok(f) {
			return f
		}
		if time.Now().After(deadline) {
			v.t.Fatalf("the viewer never saw %s within %v", what, screenWait)
		}
	}
}

// pollUntil polls cond until it holds, failing the test with what after screenWait.
func pollUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(screenWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, screenWait)
		}
		time.Sleep(20 * time.Millisecond) // polling an external process: no event to wait on
	}
}

// reduction maps a pixel 0xRRGGBB to the precision of a client pixel format, channel by
// channel, rounding as the encoders do; nil keeps full precision.
type reduction func(uint32) uint32

func reduceTo(pf wire.PixelFormat) reduction {
	if pf.RedMax == 255 && pf.GreenMax == 255 && pf.BlueMax == 255 {
		return nil
	}
	ch := func(v, max uint32) uint32 { return (v*max + 127) / 255 }
	return func(p uint32) uint32 {
		return ch(p>>16&0xFF, uint32(pf.RedMax))<<16 | ch(p>>8&0xFF, uint32(pf.GreenMax))<<8 | ch(p&0xFF, uint32(pf.BlueMax))
	}
}

// diffFrames counts the pixels of want that got (placed with want's (0, 0) at (dx, dy))
// shows differently after reduce, and describes the first.
func diffFrames(got, want *frame.Frame, dx, dy int, reduce reduction) (int, string) {
	if dx < 0 || dy < 0 || dx+want.W > got.W || dy+want.H > got.H {
		return want.W * want.H, fmt.Sprintf("size %dx%d cannot hold %dx%d at %+d%+d", got.W, got.H, want.W, want.H, dx, dy)
	}
	n, first := 0, ""
	for y := range want.H {
		for x := range want.W {
			g, w := got.Pixel(dx+x, dy+y)&0xFFFFFF, want.Pixel(x, y)&0xFFFFFF
			if reduce != nil {
				g, w = reduce(g), reduce(w)
			}
			if g != w {
				if n == 0 {
					first = fmt.Sprintf("at %d,%d got %06x, want %06x", x, y, g, w)
				}
				n++
			}
		}
	}
	return n, first
}

// equalFrames reports whether got shows exactly want.
func equalFrames(got, want *frame.Frame) bool {
	n, _ := diffFrames(got, want, 0, 0, nil)
	return got.W == want.W && got.H == want.H && n == 0
}

// psnr is the peak signal-to-noise ratio of got against want over the RGB channels, in dB.
func psnr(got, want *frame.Frame) float64 {
	var sum float64
	for y := range want.H {
		for x := range want.W {
			g, w := got.Pixel(x, y), want.Pixel(x, y)
			for _, s := range []uint{0, 8, 16} {
				d := float64(g>>s&0xFF) - float64(w>>s&0xFF)
				sum += d * d
			}
		}
	}
	mse := sum / float64(3*want.W*want.H)
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/mse)
}

// findColour returns the first pixel (in reading order) of f whose colour is c (0xRRGGBB).
func findColour(f *frame.Frame, c uint32) (int, int, bool) {
	for y := range f.H {
		row := f.Row(0, y, f.W)
		for x := range f.W {
			if binary.LittleEndian.Uint32(row[4*x:])&0xFFFFFF == c {
				return x, y, true
			}
		}
	}
	return 0, 0, false
}
