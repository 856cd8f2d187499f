package encoding

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/rfb/wire"
)

// appendTightGradient appends r of f as a Tight rectangle with the gradient filter, which
// the Encoder never sends but servers such as TightVNC do.
func appendTightGradient(e *Encoder, dst []byte, f *frame.Frame, r frame.Rect) []byte {
	c := e.conv
	px := make([]uint32, r.Area())
	c.load(px, f, r)
	shifts := [3]uint8{c.rs, c.gs, c.bs}
	maxes := [3]uint32{c.rmax, c.gmax, c.bmax}
	diffs := make([]uint32, len(px))
	for i := range px {
		x := i % r.W
		for ch := range 3 {
			s, m := shifts[ch], maxes[ch]
			at := func(j int) int { return int(px[j] >> s & m) }
			var left, up, upLeft int
			if x > 0 {
				left = at(i - 1)
			}
			if i >= r.W {
				up = at(i - r.W)
				if x > 0 {
					upLeft = at(i - r.W - 1)
				}
			}
			est := uint32(min(max(left+up-upLeft, 0), int(m)))
			diffs[i] |= (px[i]>>s&m - est) & m << s
		}
	}
	dst = appendRectHeader(dst, r, wire.EncodingTight)
	dst = append(dst, 1<<streamCopy|streamCopy<<4|tightExplicitFilter, tightFilterGradient)
	data := c.tpixel().appendAll(nil, diffs)
	return e.tightData(dst, &scratch{}, data)
}

func TestTightGradient(t *testing.T) {
	src := desktop(200, 150, 4)
	for _, fi := range []int{0, 1, 7, 9} {
		f := formats[fi]
		t.Run(f.name, func(t *testing.T) {
			e, _ := NewEncoder(Params{Encoding: wire.EncodingTight, Format: f.pf, Quality: -1, Compress: -1}, nil)
			for _, r := range []frame.Rect{{X: 0, Y: 0, W: 200, H: 150}, {X: 5, Y: 5, W: 1, H: 1}, {X: 7, Y: 9, W: 33, H: 17}} {
				b := appendTightGradient(e, nil, src, r)
				got := frame.New(200, 150)
				var d Decoder
				if _, err := decodeAll(t, &d, b, got, f.pf); err != nil {
					t.Fatalf("decode gradient %v: %v", r, err)
				}
				want := frame.New(200, 150)
				for y := r.Y; y < r.Bottom(); y++ {
					for x := r.X; x < r.Right(); x++ {
						want.SetPixel(x, y, quantized(e.conv, src.Pixel(x, y)))
					}
				}
				if err := compare(got, want, got.Bounds()); err != nil {
					t.Fatalf("gradient %v: %v", r, err)
				}
			}
		})
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestDecodeReadsExactly(t *testing.T) {
	src := desktop(300, 200, 6)
	for _, enc := range lossless {
		t.Run(enc.name, func(t *testing.T) {
			p := Params{Encoding: enc.enc, Format: formats[1].pf, Quality: 5, Compress: -1}
			e, _ := NewEncoder(p, nil)
			rects, _ := e.Encode(nil, src, frame.Rect{X: 10, Y: 10, W: 100, H: 20})
			var s Stream
			b := s.Append(nil, rects)
			body := b[wire.RectHeaderLength:]
			trailer := []byte("next message")
			cr := &countingReader{r: io.MultiReader(bytes.NewReader(body), bytes.NewReader(trailer))}
			var d Decoder
			if err := d.Decode(cr, frame.New(300, 200), frame.Rect{X: 10, Y: 10, W: 100, H: 20}, enc.enc, p.Format); err != nil {
				t.Fatal(err)
			}
			if cr.n != len(body) {
				t.Errorf("Decode read %d bytes; the body has %d", cr.n, len(body))
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	pf := formats[0].pf
	be32 := func(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }
	tests := []struct {
		name string
		enc  wire.Encoding
		rect frame.Rect
		body []byte
	}{
		{"outside the frame", wire.EncodingRaw, frame.Rect{X: 60, Y: 0, W: 10, H: 1}, make([]byte, 40)},
		{"short raw", wire.EncodingRaw, frame.Rect{W: 2, H: 2}, make([]byte, 15)},
		{"unknown encoding", 3, frame.Rect{W: 1, H: 1}, nil},
		{"hextile subrect outside tile", wire.EncodingHextile, frame.Rect{W: 4, H: 4},
			[]byte{hextileBackground | hextileForeground | hextileAnySubrects, 0, 0, 0, 0, 1, 1, 1, 0, 1, 0x33}},
		{"zrle huge length", wire.EncodingZRLE, frame.Rect{W: 4, H: 4}, be32(1 << 31)},
		{"zrle short data", wire.EncodingZRLE, frame.Rect{W: 4, H: 4}, append(be32(100), 1, 2, 3)},
		{"zrle bad header", wire.EncodingZRLE, frame.Rect{W: 4, H: 4}, append(be32(4), 0x78, 0x02, 0, 0)},
		{"tight png", wire.EncodingTight, frame.Rect{W: 4, H: 4}, []byte{0xa0}},
		{"tight bad filter", wire.EncodingTight, frame.Rect{W: 4, H: 4}, []byte{0x40, 7}},
		{"tight huge jpeg", wire.EncodingTight, frame.Rect{W: 4, H: 4}, []byte{0x90, 0xff, 0xff, 0xff}},
		{"tight palette index", wire.EncodingTight, frame.Rect{W: 2, H: 1},
			[]byte{0x40, tightFilterPalette, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 0, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Decoder
			err := d.Decode(bytes.NewReader(tt.body), frame.New(64, 64), tt.rect, tt.enc, pf)
			if err == nil {
				t.Fatalf("Decode(%x) = nil; want an error", tt.body)
			}
			if tt.enc == 3 && !errors.Is(err, ErrUnsupported) {
				t.Errorf("Decode of encoding 3: %v; want ErrUnsupported", err)
			}
		})
	}
}
