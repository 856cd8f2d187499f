package encoding

import (
	"testing"

	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/rfb/wire"
)

var lossless = []struct {
	name string
	enc  wire.Encoding
}{
	{"raw", wire.EncodingRaw},
	{"hextile", wire.EncodingHextile},
	{"zrle", wire.EncodingZRLE},
	{"tight", wire.EncodingTight},
}

// shapes are the rectangles the round-trip tests encode, in a 640×480 frame.
var shapes = []frame.Rect{
	{X: 0, Y: 0, W: 1, H: 1},
	{X: 639, Y: 479, W: 1, H: 1},
	{X: 13, Y: 7, W: 3, H: 5},
	{X: 100, Y: 200, W: 17, H: 33},
	{X: 64, Y: 64, W: 64, H: 64},
	{X: 1, Y: 1, W: 63, H: 65},
	{X: 5, Y: 300, W: 65, H: 1},
	{X: 300, Y: 5, W: 1, H: 70},
	{X: 250, Y: 150, W: 129, H: 130},
	{X: 10, Y: 0, W: 257, H: 300},
	{X: 0, Y: 0, W: 640, H: 480},
}

// roundTrip encodes r of src with p, decodes it into a frame of noise, and checks the
// rectangle shows src as p's format sees it and nothing else changed.
func roundTrip(t *testing.T, src, before *frame.Frame, r frame.Rect, p Params) {
	t.Helper()
	e, err := NewEncoder(p, nil)
	if err != nil {
		t.Fatalf("NewEncoder(%+v): %v", p, err)
	}
	b, n := e.Encode(nil, src, r)
	var s Stream
	b = s.Append(nil, b)
	got := before.Clone()
	var d Decoder
	m, err := decodeAll(t, &d, b, got, p.Format)
	if err != nil {
		t.Fatalf("decode %v: %v", r, err)
	}
	if m != n {
		t.Errorf("Encode said %d rectangles; decoded %d", n, m)
	}
	want := before.Clone()
	for y := r.Y; y < r.Bottom(); y++ {
		for x := r.X; x < r.Right(); x++ {
			want.SetPixel(x, y, quantized(e.conv, src.Pixel(x, y)))
		}
	}
	if err := compare(got, want, got.Bounds()); err != nil {
		t.Fatalf("round trip of %v: %v", r, err)
	}
}

func TestRoundTrip(t *testing.T) {
	src := desktop(640, 480, 1)
	before := noise(640, 480)
	for _, enc := range lossless {
		for _, f := range formats {
			t.Run(enc.name+"/"+f.name, func(t *testing.T) {
				for _, r := range shapes {
					roundTrip(t, src, before, r, Params{Encoding: enc.enc, Format: f.pf, Quality: -1, Compress: -1})
				}
			})
		}
	}
}

func TestRoundTripContent(t *testing.T) {
	flat := frame.New(640, 480)
	flat.Fill(flat.Bounds(), 0x336699)
	two := flat.Clone()
	for y := range 480 {
		for x := y % 3; x < 640; x += 3 {
			two.SetPixel(x, y, 0xffffff)
		}
	}
	// Exactly 127, 128, 256 and 257 colours, in runs and scattered: the palette limits.
	palettes := frame.New(640, 480)
	for i := range 640 * 480 {
		x, y := i%640, i/640
		n := uint32([]int{127, 128, 256, 257}[x/160])
		palettes.SetPixel(x, y, (uint32(i)*7919%n)*0x010203)
	}
	content := []struct {
		name string
		f    *frame.Frame
	}{
		{"flat", flat},
		{"two colours", two},
		{"palette limits", palettes},
		{"photo", photo(640, 480, 3)},
	}
	before := noise(640, 480)
	for _, c := range content {
		for _, enc := range lossless {
			for _, fi := range []int{0, 1, 7, 9} {
				f := formats[fi]
				t.Run(c.name+"/"+enc.name+"/"+f.name, func(t *testing.T) {
					for _, r := range shapes {
						roundTrip(t, c.f, before, r, Params{Encoding: enc.enc, Format: f.pf, Quality: -1, Compress: 6})
					}
				})
			}
		}
	}
}

func TestTightJPEG(t *testing.T) {
	src := photo(640, 480, 5)
	for _, level := range []int{0, 5, 9} {
		for _, fi := range []int{0, 1, 7} {
			f := formats[fi]
			t.Run(f.name, func(t *testing.T) {
				p := Params{Encoding: wire.EncodingTight, Format: f.pf, Quality: level, Compress: -1}
				e, err := NewEncoder(p, nil)
				if err != nil {
					t.Fatal(err)
				}
				r := frame.Rect{X: 3, Y: 4, W: 600, H: 400}
				b, _ := e.Encode(nil, src, r)
				got := frame.New(640, 480)
				var d Decoder
				if _, err := decodeAll(t, &d, b, got, p.Format); err != nil {
					t.Fatal(err)
				}
				want := 24.0 + float64(level)
				if f.pf.BitsPerPixel == 16 {
					want = min(want, 28) // 565 itself costs about 30 dB
				}
				if db := psnr(got, src, r); db < want {
					t.Errorf("quality %d: PSNR %.1f dB; want at least %.1f", level, db, want)
				}
				if len(b) > r.Area() {
					t.Errorf("quality %d: %d bytes for %d pixels: not compressed", level, len(b), r.Area())
				}
			})
		}
	}
}

func TestCopyRect(t *testing.T) {
	f := desktop(200, 100, 2)
	want := f.Clone()
	want.Copy(50, 20, f, frame.Rect{X: 40, Y: 10, W: 100, H: 60})
	b := AppendCopyRect(nil, frame.Rect{X: 50, Y: 20, W: 100, H: 60}, 40, 10)
	var d Decoder
	if _, err := decodeAll(t, &d, b, f, formats[0].pf); err != nil {
		t.Fatal(err)
	}
	if err := compare(f, want, f.Bounds()); err != nil {
		t.Fatal(err)
	}
	bad := AppendCopyRect(nil, frame.Rect{X: 0, Y: 0, W: 100, H: 60}, 150, 0)
	if _, err := decodeAll(t, &d, bad, f, formats[0].pf); err == nil {
		t.Error("a CopyRect from outside the framebuffer decoded without error")
	}
}
