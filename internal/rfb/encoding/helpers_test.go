package encoding

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/rfb/wire"
)

// formats are the pixel formats the round-trip tests cover.
var formats = []struct {
	name string
	pf   wire.PixelFormat
}{
	{"bgrx-le", pfmt(32, 24, false, 255, 255, 255, 16, 8, 0)},
	{"rgbx-le", pfmt(32, 24, false, 255, 255, 255, 0, 8, 16)},
	{"bgrx-be", pfmt(32, 24, true, 255, 255, 255, 16, 8, 0)},
	{"rgbx-be", pfmt(32, 24, true, 255, 255, 255, 0, 8, 16)},
	{"xrgb-le-high", pfmt(32, 24, false, 255, 255, 255, 24, 16, 8)},
	{"xrgb-be-high", pfmt(32, 24, true, 255, 255, 255, 24, 16, 8)},
	{"depth32", pfmt(32, 32, false, 255, 255, 255, 16, 8, 0)},
	{"565-le", pfmt(16, 16, false, 31, 63, 31, 11, 5, 0)},
	{"565-be", pfmt(16, 16, true, 31, 63, 31, 11, 5, 0)},
	{"332", pfmt(8, 8, false, 7, 7, 3, 5, 2, 0)},
	{"bgr233", pfmt(8, 8, false, 7, 7, 3, 0, 3, 6)},
}

// pfmt returns a true-colour pixel format.
func pfmt(bpp, depth uint8, big bool, rmax, gmax, bmax uint16, rs, gs, bs uint8) wire.PixelFormat {
	return wire.PixelFormat{
		BitsPerPixel: bpp, Depth: depth, BigEndian: big, TrueColour: true,
		RedMax: rmax, GreenMax: gmax, BlueMax: bmax, RedShift: rs, GreenShift: gs, BlueShift: bs,
	}
}

// desktop returns a w×h frame like a desktop: a gradient wallpaper, windows with title bars
// and anti-aliased text, flat panels, and a photo.
func desktop(w, h int, seed uint64) *frame.Frame {
	f := frame.New(w, h)
	rng := rand.New(rand.NewPCG(seed, 1))
	for y := range h {
		c := uint32(0x20+0x60*y/max(h, 1))<<0 | uint32(0x30+0x30*y/max(h, 1))<<8 | 0x10<<16
		f.Fill(frame.Rect{X: 0, Y: y, W: w, H: 1}, c)
	}
	f.Fill(frame.Rect{X: 0, Y: h - 28, W: w, H: 28}, 0x2b2b2b) // a panel
	for range 6 {
		win := frame.Rect{X: rng.IntN(max(w/2, 1)), Y: rng.IntN(max(h/2, 1)), W: w/4 + rng.IntN(w/3+1), H: h/4 + rng.IntN(h/3+1)}
		f.Fill(win, 0xffffff)
		for x := win.X; x < win.Right() && x < w; x++ {
			c := uint32(0x40+0x80*(x-win.X)/max(win.W, 1)) * 0x010101
			f.Fill(frame.Rect{X: x, Y: win.Y, W: 1, H: 22}, c&0x00ffff|0x300000)
		}
		text(f, frame.Rect{X: win.X + 8, Y: win.Y + 30, W: win.W - 16, H: win.H - 40}, rng)
	}
	p := photo(w/4+1, h/4+1, seed)
	f.Copy(w/2, h/3, p, p.Bounds())
	return f
}

// text draws lines of glyph-like strokes: dark ink, grey edges, white paper.
func text(f *frame.Frame, r frame.Rect, rng *rand.Rand) {
	r = r.Intersect(f.Bounds())
	for y := r.Y; y+12 <= r.Bottom(); y += 16 {
		for x := r.X; x+7 <= r.Right(); x += 7 {
			if rng.IntN(6) == 0 {
				continue // a space
			}
			for range 3 {
				gx, gy := x+rng.IntN(5), y+rng.IntN(10)
				f.SetPixel(gx, gy, 0x202020)
				f.SetPixel(gx+1, gy, 0x909090)
				f.SetPixel(gx, gy+1, 0x202020)
				f.SetPixel(gx, gy+2, 0xc0c0c0)
			}
		}
	}
}

// photo returns a w×h frame of smooth colour with grain, like a photograph.
func photo(w, h int, seed uint64) *frame.Frame {
	f := frame.New(w, h)
	rng := rand.New(rand.NewPCG(seed, 2))
	for y := range h {
		for x := range w {
			fx, fy := float64(x)/37, float64(y)/23
			r := 128 + 100*math.Sin(fx+math.Cos(fy))
			g := 128 + 90*math.Sin(fy*1.3+fx*0.4)
			b := 128 + 80*math.Cos(fx*0.7-fy)
			n := func(v float64) uint32 { return uint32(min(max(v+float64(rng.IntN(17))-8, 0), 255)) }
			f.SetPixel(x, y, n(r)<<16|n(g)<<8|n(b))
		}
	}
	return f
}

// noise returns a w×h frame of random pixels.
func noise(w, h int) *frame.Frame {
	f := frame.New(w, h)
	rng := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	for i := range f.Pix {
		if i%8 == 0 && i+8 <= len(f.Pix) {
			binary.LittleEndian.PutUint64(f.Pix[i:], rng.Uint64())
		} else if i+8 > len(f.Pix) {
			f.Pix[i] = byte(rng.Uint32())
		}
	}
	return f
}

// quantized returns what a viewer in pf sees of native pixel n, as a native pixel.
func quantized(c *converter, n uint32) uint32 { return c.native(c.value(n)) }

// decodeAll decodes every rectangle in b, as a client reads a framebuffer update, and returns
// how many there were.
func decodeAll(t testing.TB, d *Decoder, b []byte, dst *frame.Frame, pf wire.PixelFormat) (int, error) {
	t.Helper()
	rd := bytes.NewReader(b)
	n := 0
	for rd.Len() > 0 {
		h, err := wire.ReadRectHeader(rd)
		if err != nil {
			return n, err
		}
		r := frame.Rect{X: int(h.X), Y: int(h.Y), W: int(h.Width), H: int(h.Height)}
		if err := d.Decode(rd, dst, r, h.Encoding, pf); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// compare reports the first pixel of r where got differs from want in colour.
func compare(got, want *frame.Frame, r frame.Rect) error {
	for y := r.Y; y < r.Bottom(); y++ {
		if bytes.Equal(got.Row(r.X, y, r.W), want.Row(r.X, y, r.W)) {
			continue
		}
		for x := r.X; x < r.Right(); x++ {
			if g, w := got.Pixel(x, y)&0xffffff, want.Pixel(x, y)&0xffffff; g != w {
				return fmt.Errorf("pixel (%d, %d) = %06x; want %06x", x, y, g, w)
			}
		}
	}
	return nil
}

// psnr returns the peak signal-to-noise ratio of got against want over r, in dB.
func psnr(got, want *frame.Frame, r frame.Rect) float64 {
	var sum float64
	for y := r.Y; y < r.Bottom(); y++ {
		for x := r.X; x < r.Right(); x++ {
			g, w := got.Pixel(x, y), want.Pixel(x, y)
			for s := 0; s < 24; s += 8 {
				d := float64(int(g>>s&0xff) - int(w>>s&0xff))
				sum += d * d
			}
		}
	}
	mse := sum / float64(3*r.Area())
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/mse)
}
