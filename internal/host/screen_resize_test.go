package host_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/rfb"
	"github.com/buktu/buktu/internal/rfb/wire"
)

// followResize reads incremental updates until the viewer's screen is w×h and shows want.
func followResize(v *viewer, w, h int, want func() *frame.Frame) error {
	deadline := time.Now().Add(screenWait)
	for time.Now().Before(deadline) {
		if err := v.Request(true); err != nil {
			return err
		}
		if err := v.read(nil); err != nil {
			return err
		}
		if gw, gh := v.Size(); gw != w || gh != h {
			continue
		}
		if equalFrames(v.Frame(), want()) {
			return nil
		}
	}
	gw, gh := v.Size()
	return fmt.Errorf("viewer's screen is %dx%d, want %dx%d showing the display", gw, gh, w, h)
}

// TestScreenResize resizes the host's display (RANDR on the Xvfb the test started): viewers
// that understand DesktopSize or ExtendedDesktopSize follow, and their next frames match the
// display's pixels at the new size.
func TestScreenResize(t *testing.T) {
	// Not parallel: it uses x11Conn.
	const bigW, bigH, smallW, smallH = 480, 360, 320, 240
	d := startDisplay(t, bigW, bigH)
	x := dialX(t, d)
	x.drawPattern(bigW, bigH)
	h := startScreenHostOn(t, d, "")
	encs := map[string][]wire.Encoding{
		"desktop-size":          {wire.EncodingZRLE},
		"extended-desktop-size": {wire.EncodingZRLE, wire.EncodingExtendedDesktopSize},
	}
	viewers := map[string]*viewer{}
	for name, e := range encs {
		v := dialViewer(t, h, h.Observe, "admin", h.AdminPassword, rfb.ClientOptions{Encodings: e})
		want := truth(t, d)
		v.waitFrame("the test pattern", func(f *frame.Frame) bool { return equalFrames(f, want) })
		viewers[name] = v
	}
	xc := x11Conn(t, d)
	for _, size := range []struct{ w, h int }{{smallW, smallH}, {bigW, bigH}} {
		if err := xc.Resize(size.w, size.h); err != nil {
			t.Fatalf("resize the display to %dx%d: %v", size.w, size.h, err)
		}
		if got := truth(t, d); got.W != size.w || got.H != size.h {
			t.Fatalf("the display is %dx%d after resizing to %dx%d", got.W, got.H, size.w, size.h)
		}
		for name, v := range viewers {
			if err := followResize(v, size.w, size.h, func() *frame.Frame { return truth(t, d) }); err != nil {
				t.Errorf("%s, resized to %dx%d: %v", name, size.w, size.h, err)
			}
		}
	}
}
