package encoding

import (
	"bytes"
	"encoding/binary"
	"sync"
	"testing"

	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/rfb/wire"
)

// TestSharedBytes checks the design point of the package: the bytes Encode makes for a
// rectangle decode correctly on any connection, whatever that connection received before.
// Two decoders with different histories (different rectangles, different contents, one of
// them fed by another Encoder with the same Params) get the same shared bytes; real clients
// keep one inflate stream per connection, and so does Decoder.
func TestSharedBytes(t *testing.T) {
	a := desktop(640, 480, 7)
	b := photo(640, 480, 8)
	for _, enc := range []wire.Encoding{wire.EncodingZRLE, wire.EncodingTight} {
		for _, fi := range []int{0, 1, 7} {
			f := formats[fi]
			t.Run(f.name, func(t *testing.T) {
				p := Params{Encoding: enc, Format: f.pf, Quality: -1, Compress: 6}
				e1, _ := NewEncoder(p, nil)
				e2, _ := NewEncoder(p, nil)
				var s1, s2 Stream
				var d1, d2 Decoder
				view1, view2 := frame.New(640, 480), frame.New(640, 480)
				send := func(s *Stream, d *Decoder, view *frame.Frame, e *Encoder, src *frame.Frame, r frame.Rect) []byte {
					t.Helper()
					rects, _ := e.Encode(nil, src, r)
					if _, err := decodeAll(t, d, s.Append(nil, rects), view, p.Format); err != nil {
						t.Fatalf("decode %v: %v", r, err)
					}
					return rects
				}
				// Different histories.
				send(&s1, &d1, view1, e1, a, frame.Rect{X: 0, Y: 0, W: 640, H: 100})
				send(&s1, &d1, view1, e1, b, frame.Rect{X: 100, Y: 100, W: 300, H: 200})
				send(&s2, &d2, view2, e2, b, frame.Rect{X: 0, Y: 200, W: 640, H: 280})
				// The same rectangles, encoded once, sent to both.
				for i, r := range []frame.Rect{{X: 0, Y: 0, W: 640, H: 480}, {X: 30, Y: 40, W: 200, H: 100}, {X: 1, Y: 2, W: 3, H: 4}} {
					src := a
					if i == 1 {
						src = b
					}
					shared := send(&s1, &d1, view1, e1, src, r)
					if _, err := decodeAll(t, &d2, s2.Append(nil, shared), view2, p.Format); err != nil {
						t.Fatalf("decode shared %v on the other connection: %v", r, err)
					}
					if err := compare(view1, view2, r); err != nil {
						t.Fatalf("shared %v: %v", r, err)
					}
					if again, _ := e2.Encode(nil, src, r); !bytes.Equal(again, shared) {
						t.Fatalf("two encoders with the same Params made different bytes for %v", r)
					}
				}
			})
		}
	}
}

func TestStreamAppend(t *testing.T) {
	e, _ := NewEncoder(Params{Encoding: wire.EncodingZRLE, Format: formats[0].pf, Quality: -1, Compress: -1}, nil)
	f := desktop(64, 64, 1)
	rects, _ := e.Encode(nil, f, f.Bounds())
	var s Stream
	first := s.Append(nil, rects)
	if len(first) != len(rects)+2 {
		t.Fatalf("first Append: %d bytes; want %d", len(first), len(rects)+2)
	}
	if got := string(first[wire.RectHeaderLength+4 : wire.RectHeaderLength+6]); got != ZRLEStreamHeader {
		t.Errorf("first ZRLE data starts %x; want the stream header", got)
	}
	if n := binary.BigEndian.Uint32(first[wire.RectHeaderLength:]); int(n) != len(first)-wire.RectHeaderLength-4 {
		t.Errorf("first ZRLE length %d; want %d", n, len(first)-wire.RectHeaderLength-4)
	}
	if second := s.Append(nil, rects); !bytes.Equal(second, rects) {
		t.Error("second Append changed the bytes")
	}
	var fresh Stream
	raw, _ := NewEncoder(Params{Encoding: wire.EncodingRaw, Format: formats[0].pf, Quality: -1}, nil)
	rb, _ := raw.Encode(nil, f, f.Bounds())
	if got := fresh.Append(nil, rb); !bytes.Equal(got, rb) || fresh.zrleStarted {
		t.Error("Append of a Raw rectangle changed it or started the ZRLE stream")
	}
}

func TestNewEncoderRejects(t *testing.T) {
	tests := []struct {
		name string
		p    Params
	}{
		{"copyrect", Params{Encoding: wire.EncodingCopyRect, Format: formats[0].pf}},
		{"unknown", Params{Encoding: 99, Format: formats[0].pf}},
		{"colour map", Params{Encoding: wire.EncodingRaw, Format: wire.PixelFormat{BitsPerPixel: 8, Depth: 8}}},
		{"24 bpp", Params{Encoding: wire.EncodingRaw, Format: pfmt(24, 24, false, 255, 255, 255, 16, 8, 0)}},
		{"channel outside", Params{Encoding: wire.EncodingRaw, Format: pfmt(16, 16, false, 255, 63, 31, 11, 5, 0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewEncoder(tt.p, nil); err == nil {
				t.Errorf("NewEncoder(%+v) = nil error; want one", tt.p)
			}
		})
	}
}

func TestConverter(t *testing.T) {
	tests := []struct {
		name   string
		pf     wire.PixelFormat
		native uint32
		want   []byte // the pixel on the wire
	}{
		{"bgrx", formats[0].pf, 0x123456, []byte{0x56, 0x34, 0x12, 0}},
		{"rgbx", formats[1].pf, 0x123456, []byte{0x12, 0x34, 0x56, 0}},
		{"bgrx-be", formats[2].pf, 0x123456, []byte{0, 0x12, 0x34, 0x56}},
		{"565 white", formats[7].pf, 0xffffff, []byte{0xff, 0xff}},
		{"565 red", formats[7].pf, 0xff0000, []byte{0x00, 0xf8}},
		{"565-be red", formats[8].pf, 0xff0000, []byte{0xf8, 0x00}},
		{"332 blue", formats[9].pf, 0x0000ff, []byte{0x03}},
		{"332 mid grey", formats[9].pf, 0x808080, []byte{0x80 | 0x10 | 0x02}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := newConverter(tt.pf)
			if err != nil {
				t.Fatal(err)
			}
			row := []byte{byte(tt.native), byte(tt.native >> 8), byte(tt.native >> 16), 0}
			if got := c.appendRaw(nil, row); !bytes.Equal(got, tt.want) {
				t.Errorf("appendRaw(%06x) = % x; want % x", tt.native, got, tt.want)
			}
			if got := c.pixel().append(nil, c.value(tt.native)); !bytes.Equal(got, tt.want) {
				t.Errorf("pixel of value(%06x) = % x; want % x", tt.native, got, tt.want)
			}
		})
	}
}

func TestCPixelAndTPixel(t *testing.T) {
	tests := []struct {
		name       string
		pf         wire.PixelFormat
		native     uint32
		cpix, tpix []byte
	}{
		{"bgrx", formats[0].pf, 0x123456, []byte{0x56, 0x34, 0x12}, []byte{0x12, 0x34, 0x56}},
		{"rgbx", formats[1].pf, 0x123456, []byte{0x12, 0x34, 0x56}, []byte{0x12, 0x34, 0x56}},
		{"bgrx-be", formats[2].pf, 0x123456, []byte{0x12, 0x34, 0x56}, []byte{0x12, 0x34, 0x56}},
		{"high-le", formats[4].pf, 0x123456, []byte{0x56, 0x34, 0x12}, []byte{0x12, 0x34, 0x56}},
		{"high-be", formats[5].pf, 0x123456, []byte{0x12, 0x34, 0x56}, []byte{0x12, 0x34, 0x56}},
		{"depth32", formats[6].pf, 0x123456, []byte{0x56, 0x34, 0x12, 0}, []byte{0x56, 0x34, 0x12, 0}},
		{"565", formats[7].pf, 0xffffff, []byte{0xff, 0xff}, []byte{0xff, 0xff}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newConverter(tt.pf)
			v := c.value(tt.native)
			if got := c.cpixel().append(nil, v); !bytes.Equal(got, tt.cpix) {
				t.Errorf("CPIXEL = % x; want % x", got, tt.cpix)
			}
			if got := c.tpixel().append(nil, v); !bytes.Equal(got, tt.tpix) {
				t.Errorf("TPIXEL = % x; want % x", got, tt.tpix)
			}
			if got := c.cpixel().get(tt.cpix); got != v {
				t.Errorf("CPIXEL get = %#x; want %#x", got, v)
			}
			if got := c.tpixel().get(tt.tpix); got != v {
				t.Errorf("TPIXEL get = %#x; want %#x", got, v)
			}
		})
	}
}

func TestEncoderConcurrent(t *testing.T) {
	src := desktop(640, 480, 9)
	for _, enc := range lossless {
		t.Run(enc.name, func(t *testing.T) {
			e, _ := NewEncoder(Params{Encoding: enc.enc, Format: formats[1].pf, Quality: 5, Compress: -1}, nil)
			var rects []frame.Rect
			for y := 0; y < 480; y += 60 {
				rects = append(rects, frame.Rect{X: 0, Y: y, W: 640, H: 60})
			}
			want := make([][]byte, len(rects))
			for i, r := range rects {
				want[i], _ = e.Encode(nil, src, r)
			}
			got := make([][]byte, len(rects))
			var wg sync.WaitGroup
			for i, r := range rects {
				wg.Go(func() { got[i], _ = e.Encode(nil, src, r) })
			}
			wg.Wait()
			for i := range rects {
				if !bytes.Equal(got[i], want[i]) {
					t.Errorf("concurrent Encode of %v differs from sequential", rects[i])
				}
			}
		})
	}
}
