package host_test

import (
	"testing"
	"time"

	"github.com/jezek/xgb/xproto"

	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/rfb"
	"github.com/buktu/buktu/internal/rfb/wire"
)

// TestScreenScrollCopyRect scrolls the host's screen as a terminal does (the content moves
// up, new rows appear at the bottom): a viewer that takes CopyRect gets the moved rows as a
// copy of what it has, not again, and ends with the host's exact pixels.
func TestScreenScrollCopyRect(t *testing.T) {
	t.Parallel()
	d := startDisplay(t, patternW, patternH)
	x := dialX(t, d)
	win, _ := x.drawPattern(patternW, patternH)
	x.sync()
	h := startScreenHostOn(t, d, "")
	// Raw makes the difference plain: a full repaint is W×H×4 bytes.
	v := dialViewer(t, h, h.Observe, "admin", h.AdminPassword, rfb.ClientOptions{Encodings: []wire.Encoding{wire.EncodingRaw}})
	want := truth(t, d)
	v.waitFrame("the test pattern", func(f *frame.Frame) bool { return equalFrames(f, want) })

	const step = 24
	gc, err := xproto.NewGcontextId(x.xc)
	if err != nil {
		t.Fatal(err)
	}
	xproto.CreateGC(x.xc, gc, xproto.Drawable(win), 0, nil)
	xproto.CopyArea(x.xc, xproto.Drawable(win), xproto.Drawable(win), gc, 0, step, 0, 0, patternW, patternH-step)
	x.fill(win, 0x00ff00, frame.Rect{Y: patternH - step, W: patternW, H: step})
	x.sync()
	want = truth(t, d)

	before := v.Bytes
	deadline := time.Now().Add(screenWait)
	for !equalFrames(v.Frame(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the viewer never showed the scrolled screen")
		}
		if err := v.Request(true); err != nil {
			t.Fatal(err)
		}
		if err := v.read(nil); err != nil {
			t.Fatal(err)
		}
	}
	sent, full := v.Bytes-before, int64(patternW*patternH*4)
	if sent > full/4 {
		t.Errorf("the scroll cost %d bytes, a full repaint %d: the moved rows were sent again, not copied", sent, full)
	}
	t.Logf("scroll by %d rows: %d bytes (a full repaint: %d)", step, sent, full)
}
