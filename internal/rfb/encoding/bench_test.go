package encoding

import (
	"bytes"
	"testing"

	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/rfb/wire"
)

// benchFrames are the full-screen contents the benchmarks encode.
func benchFrames() []struct {
	name string
	f    *frame.Frame
} {
	return []struct {
		name string
		f    *frame.Frame
	}{{"desktop", desktop(1920, 1080, 1)}, {"photo", photo(1920, 1080, 2)}}
}

var benchParams = []struct {
	name string
	p    Params
}{
	{"raw/bgrx", Params{Encoding: wire.EncodingRaw, Format: formats[0].pf, Quality: -1, Compress: -1}},
	{"raw/rgbx", Params{Encoding: wire.EncodingRaw, Format: formats[1].pf, Quality: -1, Compress: -1}},
	{"raw/565", Params{Encoding: wire.EncodingRaw, Format: formats[7].pf, Quality: -1, Compress: -1}},
	{"hextile/rgbx", Params{Encoding: wire.EncodingHextile, Format: formats[1].pf, Quality: -1, Compress: -1}},
	{"zrle/rgbx", Params{Encoding: wire.EncodingZRLE, Format: formats[1].pf, Quality: -1, Compress: -1}},
	{"zrle/rgbx/c6", Params{Encoding: wire.EncodingZRLE, Format: formats[1].pf, Quality: -1, Compress: 6}},
	{"tight/rgbx", Params{Encoding: wire.EncodingTight, Format: formats[1].pf, Quality: -1, Compress: -1}},
	{"tight/rgbx/c6", Params{Encoding: wire.EncodingTight, Format: formats[1].pf, Quality: -1, Compress: 6}},
	{"tight/rgbx/q5", Params{Encoding: wire.EncodingTight, Format: formats[1].pf, Quality: 5, Compress: -1}},
	{"tight/565/q5", Params{Encoding: wire.EncodingTight, Format: formats[7].pf, Quality: 5, Compress: -1}},
}

// BenchmarkEncode encodes a whole 1920×1080 frame as one change.
func BenchmarkEncode(b *testing.B) {
	for _, c := range benchFrames() {
		for _, bp := range benchParams {
			b.Run(c.name+"/"+bp.name, func(b *testing.B) {
				e, err := NewEncoder(bp.p, nil)
				if err != nil {
					b.Fatal(err)
				}
				var buf []byte
				b.SetBytes(int64(len(c.f.Pix)))
				b.ReportAllocs()
				for b.Loop() {
					buf, _ = e.Encode(buf[:0], c.f, c.f.Bounds())
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/frame")
				b.ReportMetric(float64(len(buf))/1024, "KiB/frame")
			})
		}
	}
}

// BenchmarkDecode decodes a whole 1920×1080 frame, as buktu's client does.
func BenchmarkDecode(b *testing.B) {
	for _, c := range benchFrames() {
		for _, bp := range benchParams {
			b.Run(c.name+"/"+bp.name, func(b *testing.B) {
				e, _ := NewEncoder(bp.p, nil)
				rects, _ := e.Encode(nil, c.f, c.f.Bounds())
				var s Stream
				data := s.Append(nil, rects)
				dst := frame.New(1920, 1080)
				b.SetBytes(int64(len(c.f.Pix)))
				b.ReportAllocs()
				for b.Loop() {
					// A fresh Decoder each time: ZRLE's stream header comes once per connection.
					var d Decoder
					if _, err := decodeAll(b, &d, bytes.Clone(data), dst, bp.p.Format); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/frame")
			})
		}
	}
}

// BenchmarkLoad converts a frame to client pixel values, tile by tile, as the encoders do.
func BenchmarkLoad(b *testing.B) {
	f := noise(1920, 1080)
	for _, fi := range []int{0, 1, 2, 7} {
		b.Run(formats[fi].name, func(b *testing.B) {
			c, _ := newConverter(formats[fi].pf)
			vals := make([]uint32, 64*64)
			b.SetBytes(int64(len(f.Pix)))
			for b.Loop() {
				for y := 0; y < 1080; y += 64 {
					for x := 0; x < 1920; x += 64 {
						c.load(vals, f, frame.Rect{X: x, Y: y, W: 64, H: min(64, 1080-y)})
					}
				}
			}
		})
	}
}
