package screen

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/screen/x11"
	"github.com/buktu/buktu/internal/screen/xvfb"
	"github.com/buktu/buktu/internal/testenv"
	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

var _ Source = (*x11.Conn)(nil)

const waitLimit = 10 * time.Second

// display starts Xvfb running xterm and returns a Screen on it, running until the test
// ends, plus a plain xgb client for the test to draw with.
func display(t *testing.T, w, h int) (*Screen, *xgb.Conn) {
	t.Helper()
	testenv.Require(t, "Xvfb", "xterm")
	srv, err := xvfb.Start(t.Context(), xvfb.Options{Width: w, Height: h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	conn, err := x11.Open(t.Context(), srv.Display(), x11.Options{Authority: srv.Authority()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	s := New(conn, Options{})
	run(t, s)

	t.Setenv("XAUTHORITY", srv.Authority()) // xgb reads the cookie from there
	xc, err := xgb.NewConnDisplay(srv.Display())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(xc.Close)
	return s, xc
}

// poll calls cond until it holds, failing the test after waitLimit: what it waits for
// happens in other processes.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(waitLimit)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%s did not happen within %v", what, waitLimit)
		}
	}
}

func TestCaptureLoopOnXvfb(t *testing.T) {
	s, xc := display(t, 640, 480)
	f, g, seq := mustUpdate(t, s, 0)
	if f.W != 640 || f.H != 480 || g.Bounds() != f.Bounds() {
		t.Fatalf("first Update = %dx%d, damage %v; want 640x480, all", f.W, f.H, g.Bounds())
	}

	// Draw a rectangle in a window of our own at (300, 200).
	scr := xproto.Setup(xc).DefaultScreen(xc)
	win, _ := xproto.NewWindowId(xc)
	xproto.CreateWindow(xc, scr.RootDepth, win, scr.Root, 300, 200, 100, 80, 0, xproto.WindowClassInputOutput,
		scr.RootVisual, xproto.CwBackPixel|xproto.CwOverrideRedirect, []uint32{0x00c0ff, 1})
	xproto.MapWindow(xc, win)
	xc.Sync()
	rect := frame.Rect{X: 300, Y: 200, W: 100, H: 80}

	// Other drawing (xterm starting) may come first: collect damage until the window shows.
	var union frame.Region
	for {
		f, g, seq = mustUpdate(t, s, seq)
		union.Union(g)
		if f.Pixel(350, 240)&0xffffff == 0x00c0ff {
			break
		}
	}
	for _, p := range [][2]int{{300, 200}, {399, 279}, {350, 240}} {
		if !union.Contains(p[0], p[1]) || f.Pixel(p[0], p[1])&0xffffff != 0x00c0ff {
			t.Errorf("pixel %v = %06x, in damage %v; want 00c0ff, damaged", p, f.Pixel(p[0], p[1])&0xffffff, union.Contains(p[0], p[1]))
		}
	}
	if b := union.Bounds(); !rect.In(b) {
		t.Errorf("damage %v does not cover %v", b, rect)
	}

	// A smaller screen: the next frames have the new size, all damaged.
	if err := s.Resize(320, 240); err != nil {
		t.Fatalf("Resize: %v", err)
	}
	for f.W != 320 {
		f, g, seq = mustUpdate(t, s, seq)
	}
	if f.H != 240 || g.Bounds() != f.Bounds() {
		t.Errorf("Update after Resize = %dx%d, damage %v; want 320x240, all", f.W, f.H, g.Bounds())
	}
}

func TestTypeIntoXterm(t *testing.T) {
	s, xc := display(t, 640, 480)
	root := xproto.Setup(xc).DefaultScreen(xc).Root
	poll(t, "xterm mapping its window", func() bool {
		tree, err := xproto.QueryTree(xc, root).Reply()
		if err != nil {
			return false
		}
		for _, w := range tree.Children {
			a, err := xproto.GetWindowAttributes(xc, w).Reply()
			if err == nil && a.MapState == xproto.MapStateViewable && !a.OverrideRedirect {
				return true
			}
		}
		return false
	})
	// No window manager: the keyboard follows the pointer. xterm sits at (0, 0).
	if err := s.Pointer(0, 20, 20); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "typed")
	for _, r := range "echo 'Hi_there!' >" + out + "\r" {
		sym := uint32(r)
		if r == '\r' {
			sym = 0xff0d // Return
		}
		if err := s.Key(sym, true); err != nil {
			t.Fatal(err)
		}
		if err := s.Key(sym, false); err != nil {
			t.Fatal(err)
		}
	}
	var got string
	poll(t, "the shell in xterm writing the typed line", func() bool {
		b, err := os.ReadFile(out)
		got = strings.TrimSpace(string(b))
		return err == nil && got != ""
	})
	if got != "Hi_there!" {
		t.Errorf("xterm's shell wrote %q; want %q", got, "Hi_there!")
	}
}

func BenchmarkCaptureAndDiff(b *testing.B) {
	testenv.Require(b, "Xvfb")
	srv, err := xvfb.Start(b.Context(), xvfb.Options{Session: []string{}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Stop() })
	conn, err := x11.Open(b.Context(), srv.Display(), x11.Options{Authority: srv.Authority()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	prev, cur := &frame.Frame{}, &frame.Frame{}
	if err := conn.Capture(prev); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(prev.Pix)))
	for b.Loop() {
		if err := conn.Capture(cur); err != nil {
			b.Fatal(err)
		}
		frame.Diff(prev, cur, 0)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

// blind hides a display's damage reports, so the loop captures the whole screen each round
// as it does on a display without DAMAGE.
type blind struct{ *x11.Conn }

func (b blind) Damaged() (frame.Region, bool, error) { return frame.Region{}, false, nil }
func (b blind) Wake() <-chan struct{}                { return nil }

// BenchmarkLoopSmallChange measures the capture loop's CPU per published change while a
// client moves a 64x64 square over a 1920x1080 screen, reading damage or the whole screen.
func BenchmarkLoopSmallChange(b *testing.B) {
	testenv.Require(b, "Xvfb")
	srv, err := xvfb.Start(b.Context(), xvfb.Options{Width: 1920, Height: 1080, Session: []string{}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Stop() })
	b.Setenv("XAUTHORITY", srv.Authority())
	xc, err := xgb.NewConnDisplay(srv.Display())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(xc.Close)
	root := xproto.Setup(xc).DefaultScreen(xc).Root
	gc, _ := xproto.NewGcontextId(xc)
	xproto.CreateGC(xc, gc, xproto.Drawable(root), 0, nil)
	for _, bc := range []struct {
		name  string
		blind bool
	}{{"damage", false}, {"whole", true}} {
		b.Run(bc.name, func(b *testing.B) {
			conn, err := x11.Open(b.Context(), srv.Display(), x11.Options{Authority: srv.Authority()})
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			var src Source = conn
			if bc.blind {
				src = blind{conn}
			}
			s := New(src, Options{})
			ctx, cancel := context.WithCancel(b.Context())
			var wg sync.WaitGroup
			wg.Go(func() { s.Run(ctx) })
			defer func() { cancel(); wg.Wait() }()
			_, _, seq, err := s.Update(b.Context(), 0)
			if err != nil {
				b.Fatal(err)
			}
			start, before := seq, cpuTime(b)
			i := 0
			for b.Loop() {
				i++
				x, y := int16(100+(i*7)%1600), int16(100+(i*5)%800)
				xproto.ChangeGC(xc, gc, xproto.GcForeground, []uint32{uint32(i * 0x10203)})
				xproto.PolyFillRectangle(xc, xproto.Drawable(root), gc, []xproto.Rectangle{{X: x, Y: y, Width: 64, Height: 64}})
				xc.Sync()
				var f *frame.Frame
				if f, _, seq, err = s.Update(b.Context(), seq); err != nil {
					b.Fatal(err)
				}
				s.Release(f)
			}
			b.ReportMetric(float64(cpuTime(b)-before)/float64(time.Millisecond)/float64(seq-start), "cpu-ms/update")
		})
	}
}

// cpuTime returns the user and system CPU time this process has used.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
