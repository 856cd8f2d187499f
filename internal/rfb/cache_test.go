package rfb

import (
	"testing"

	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/rfb/encoding"
	"github.com/buktu/buktu/internal/rfb/wire"
)

// TestCacheSharesBySameRegion: viewers that last saw different frames but need the same
// region of the same frame (a video changes everything) get one encoding, shared; another
// region, another frame or a scroll is encoded apart.
func TestCacheSharesBySameRegion(t *testing.T) {
	f := frame.New(64, 48)
	for y := range f.H {
		for x := range f.W {
			f.SetPixel(x, y, uint32(x*y))
		}
	}
	p := encoding.Params{Encoding: wire.EncodingRaw, Format: wire.PixelFormat{BitsPerPixel: 32, Depth: 24,
		TrueColour: true, RedMax: 255, GreenMax: 255, BlueMax: 255, RedShift: 16, GreenShift: 8}, Quality: -1, Compress: -1}
	var c encodeCache
	all := frame.RegionOf(f.Bounds())
	a, n, err := c.encode(p, f, all, 7, nil)
	if err != nil || n != 1 {
		t.Fatalf("encode = %d rectangles, %v", n, err)
	}
	b, _, _ := c.encode(p, f, frame.RegionOf(f.Bounds()), 7, nil)
	if &a[0] != &b[0] {
		t.Error("two viewers needing the whole frame 7 got two encodings")
	}
	for _, tt := range []struct {
		name   string
		region frame.Region
		to     uint64
		scroll *frame.Scroll
	}{
		{"another region", frame.RegionOf(frame.Rect{W: 8, H: 8}), 7, nil},
		{"another frame", all, 8, nil},
		{"a scroll first", all, 7, &frame.Scroll{Dy: 2, Dst: frame.Rect{W: 64, H: 40}}},
	} {
		got, _, _ := c.encode(p, f, tt.region, tt.to, tt.scroll)
		if &got[0] == &a[0] {
			t.Errorf("%s: shared the encoding of the whole frame 7", tt.name)
		}
	}
}
