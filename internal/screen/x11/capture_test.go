package x11

import (
	"bytes"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/frame"
)

func TestCaptureSHMMatchesGetImage(t *testing.T) {
	d := startXvfb(t, 640, 480)
	cl := newClient(t, d)
	win := cl.window(0, 0, 640, 480, 0)
	for i, colour := range []uint32{0xff0000, 0x00ff00, 0x0000ff, 0x123456, 0xfedcba} {
		cl.fill(win, colour, 37*i, 23*i, 200-i, 150+i)
	}
	withSHM := open(t, d, Options{})
	without := open(t, d, Options{NoSHM: true})

	var a, b frame.Frame
	if err := withSHM.Capture(&a); err != nil {
		t.Fatalf("Capture (MIT-SHM): %v", err)
	}
	if err := without.Capture(&b); err != nil {
		t.Fatalf("Capture (GetImage): %v", err)
	}
	if withSHM.seg == nil {
		t.Error("Capture did not use MIT-SHM on a local Xvfb")
	}
	if without.seg != nil {
		t.Error("Capture used MIT-SHM despite NoSHM")
	}
	if a.W != 640 || a.H != 480 || b.W != 640 || b.H != 480 {
		t.Fatalf("Capture sizes = %dx%d and %dx%d; want 640x480", a.W, a.H, b.W, b.H)
	}
	if !bytes.Equal(a.Pix, b.Pix) {
		t.Error("MIT-SHM and GetImage captures differ")
	}
}

func TestCaptureShowsDrawing(t *testing.T) {
	d := startXvfb(t, 320, 240)
	cl := newClient(t, d)
	win := cl.window(10, 20, 200, 150, 0)
	c := open(t, d, Options{})

	var before, after frame.Frame
	if err := c.Capture(&before); err != nil {
		t.Fatal(err)
	}
	if c.Wake() == nil {
		t.Fatal("Wake() = nil on a display with DAMAGE")
	}
	drain(c.Wake())
	if _, _, err := c.Damaged(); err != nil { // empties the damage record: the next draw wakes
		t.Fatal(err)
	}
	cl.fill(win, 0x123456, 30, 40, 50, 60) // at (40, 60) on the screen
	select {
	case <-c.Wake():
	case <-time.After(waitLimit):
		t.Fatal("no DAMAGE wake-up after drawing")
	}
	if err := c.Capture(&after); err != nil {
		t.Fatal(err)
	}
	rect := frame.Rect{X: 40, Y: 60, W: 50, H: 60}
	for y := 0; y < after.H; y++ {
		for x := 0; x < after.W; x++ {
			got := after.Pixel(x, y) & 0xffffff
			inside := rect.Contains(x, y)
			if inside && got != 0x123456 || !inside && got == 0x123456 {
				t.Fatalf("pixel (%d, %d) = %06x; inside the rectangle: %v", x, y, got, inside)
			}
		}
	}
	damage := frame.Diff(&before, &after, 16)
	for _, r := range []frame.Rect{rect} {
		for y := r.Y; y < r.Bottom(); y++ {
			for x := r.X; x < r.Right(); x++ {
				if !damage.Contains(x, y) {
					t.Fatalf("Diff misses pixel (%d, %d) of the drawn rectangle; damage %v", x, y, damage.Rects())
				}
			}
		}
	}
	if b := damage.Bounds(); !b.In(frame.Rect{X: 32, Y: 48, W: 64, H: 80}) {
		t.Errorf("Diff bounds = %v; want within the 16-pixel tiles around %v", b, rect)
	}
}

// TestDamagedAndCaptureRects draws a few rectangles and checks that Damaged reports them
// and that reading just those parts into the earlier frame gives what a whole capture gives,
// through MIT-SHM and through GetImage.
func TestDamagedAndCaptureRects(t *testing.T) {
	d := startXvfb(t, 640, 480)
	cl := newClient(t, d)
	win := cl.window(0, 0, 640, 480, 0)
	for _, tt := range []struct {
		name string
		opts Options
	}{{"shm", Options{}}, {"getimage", Options{NoSHM: true}}} {
		t.Run(tt.name, func(t *testing.T) {
			c := open(t, d, tt.opts)
			var before frame.Frame
			if err := c.Capture(&before); err != nil {
				t.Fatal(err)
			}
			if _, ok, err := c.Damaged(); !ok || err != nil {
				t.Fatalf("Damaged() = ok %v, %v; want DAMAGE on Xvfb", ok, err)
			}
			drawn := []frame.Rect{{X: 5, Y: 7, W: 30, H: 20}, {X: 600, Y: 400, W: 40, H: 80}, {X: 300, Y: 0, W: 1, H: 480}}
			for i, r := range drawn {
				cl.fill(win, 0x203040+uint32(i)*0x111111, r.X, r.Y, r.W, r.H)
			}
			var g frame.Region
			deadline := time.Now().Add(waitLimit)
			for !covers(g, drawn) && time.Now().Before(deadline) {
				more, _, err := c.Damaged()
				if err != nil {
					t.Fatal(err)
				}
				g.Union(more)
			}
			if !covers(g, drawn) {
				t.Fatalf("Damaged() = %v; want it to cover %v", g.Rects(), drawn)
			}
			var whole frame.Frame
			if err := c.Capture(&whole); err != nil {
				t.Fatal(err)
			}
			// Overlapping and edge rectangles too: the reads must not trip over each other.
			parts := append(g.Rects(), frame.Rect{X: 0, Y: 0, W: 64, H: 64}, frame.Rect{X: 576, Y: 416, W: 64, H: 64})
			if err := c.CaptureRects(&before, parts); err != nil {
				t.Fatalf("CaptureRects: %v", err)
			}
			if !bytes.Equal(before.Pix, whole.Pix) {
				t.Error("the earlier frame with the damaged parts read again differs from a whole capture")
			}
			if err := c.CaptureRects(frame.New(10, 10), parts); err == nil {
				t.Error("CaptureRects into a frame of the wrong size succeeded")
			}
		})
	}
}

// covers reports whether g holds every pixel of rs.
func covers(g frame.Region, rs []frame.Rect) bool {
	for _, r := range rs {
		for y := r.Y; y < r.Bottom(); y++ {
			for x := r.X; x < r.Right(); x++ {
				if !g.Contains(x, y) {
					return false
				}
			}
		}
	}
	return true
}

func TestResize(t *testing.T) {
	d := startXvfb(t, 1024, 768)
	c := open(t, d, Options{})
	tests := []struct {
		name string
		w, h int
	}{
		{"shrink", 800, 600},
		{"narrower and taller", 640, 700},
		{"back", 1024, 768},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.Resize(tt.w, tt.h); err != nil {
				t.Fatalf("Resize(%d, %d): %v", tt.w, tt.h, err)
			}
			if w, h := c.Size(); w != tt.w || h != tt.h {
				t.Errorf("Size() = %d, %d; want %d, %d", w, h, tt.w, tt.h)
			}
			var f frame.Frame
			if err := c.Capture(&f); err != nil {
				t.Fatalf("Capture: %v", err)
			}
			if f.W != tt.w || f.H != tt.h || len(f.Pix) != tt.w*tt.h*4 {
				t.Errorf("Capture frame = %dx%d (%d bytes); want %dx%d", f.W, f.H, len(f.Pix), tt.w, tt.h)
			}
		})
	}
	if err := c.Resize(2000, 2000); err == nil {
		t.Error("Resize(2000, 2000) beyond Xvfb's size succeeded")
	}
}

func TestCaptureFollowsOutsideResize(t *testing.T) {
	d := startXvfb(t, 800, 600)
	c := open(t, d, Options{})
	other := open(t, d, Options{NoSHM: true})
	var f frame.Frame
	if err := c.Capture(&f); err != nil {
		t.Fatal(err)
	}
	if err := other.Resize(640, 480); err != nil {
		t.Fatal(err)
	}
	// c may or may not have seen RANDR's event yet: either way Capture must give the new size.
	if err := c.Capture(&f); err != nil {
		t.Fatalf("Capture after a resize by another client: %v", err)
	}
	if f.W != 640 || f.H != 480 {
		t.Errorf("Capture frame = %dx%d; want 640x480", f.W, f.H)
	}
}

func drain(ch <-chan struct{}) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

func BenchmarkCapture(b *testing.B) {
	d := startXvfb(b, 1920, 1080)
	for _, bc := range []struct {
		name string
		opts Options
	}{{"shm", Options{}}, {"getimage", Options{NoSHM: true}}} {
		b.Run(bc.name, func(b *testing.B) {
			c := open(b, d, bc.opts)
			var f frame.Frame
			b.ReportAllocs()
			b.SetBytes(1920 * 1080 * 4)
			for b.Loop() {
				if err := c.Capture(&f); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}
