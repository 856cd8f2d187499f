package encoding

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/rfb/wire"
)

var writeCorpus = flag.Bool("write-corpus", false, "rewrite the seed corpora in testdata/fuzz")

// fuzzSeed is one seed of the decoder fuzz targets: a format index, a rectangle size and a
// rectangle body.
type fuzzSeed struct {
	name    string
	format  uint8
	w, h    uint8
	body    []byte
	quality int
}

// fuzzSeeds returns bodies the encoders make for enc, over a few formats and contents.
func fuzzSeeds(enc wire.Encoding) []fuzzSeed {
	var seeds []fuzzSeed
	contents := []struct {
		name string
		f    *frame.Frame
	}{{"desktop", desktop(20, 12, 3)}, {"photo", photo(20, 12, 4)}}
	for _, c := range contents {
		for _, fi := range []uint8{0, 7, 9} {
			for _, q := range []int{-1, 5} {
				if q >= 0 && enc != wire.EncodingTight {
					continue
				}
				e, err := NewEncoder(Params{Encoding: enc, Format: formats[fi].pf, Quality: q, Compress: 6}, nil)
				if err != nil {
					panic(err)
				}
				rects, _ := e.Encode(nil, c.f, c.f.Bounds())
				var s Stream
				b := s.Append(nil, rects)
				seeds = append(seeds, fuzzSeed{
					name:   fmt.Sprintf("%s-%s-q%d", c.name, formats[fi].name, q),
					format: fi, w: 20, h: 12, body: b[wire.RectHeaderLength:],
				})
			}
		}
	}
	return seeds
}

// fuzzDecode fuzzes the decoder of enc: no input may make it panic or allocate beyond what
// the rectangle justifies, and whatever it decodes must survive a lossless round trip.
func fuzzDecode(f *testing.F, enc wire.Encoding) {
	seeds := fuzzSeeds(enc)
	if *writeCorpus {
		dir := filepath.Join("testdata", "fuzz", f.Name())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			f.Fatal(err)
		}
		for _, s := range seeds {
			text := fmt.Sprintf("go test fuzz v1\nbyte(%q)\nbyte(%q)\nbyte(%q)\n[]byte(%q)\n", rune(s.format), rune(s.w), rune(s.h), s.body)
			if err := os.WriteFile(filepath.Join(dir, s.name), []byte(text), 0o644); err != nil {
				f.Fatal(err)
			}
		}
	}
	for _, s := range seeds {
		f.Add(s.format, s.w, s.h, s.body)
	}
	f.Fuzz(func(t *testing.T, format, w, h uint8, body []byte) {
		pf := formats[int(format)%len(formats)].pf
		r := frame.Rect{W: int(w) % 80, H: int(h) % 80}
		got := frame.New(r.W, r.H)
		var d Decoder
		rd := bytes.NewReader(body)
		// Up to three rectangles through one Decoder, as its zlib streams carry on.
		for i := range 3 {
			if err := d.Decode(rd, got, r, enc, pf); err != nil {
				if i == 0 {
					return // rejecting is fine; panicking is not
				}
				break
			}
		}
		e, err := NewEncoder(Params{Encoding: enc, Format: pf, Quality: -1, Compress: 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		rects, _ := e.Encode(nil, got, r)
		var s Stream
		again := frame.New(r.W, r.H)
		var d2 Decoder
		if _, err := decodeAll(t, &d2, s.Append(nil, rects), again, pf); err != nil {
			t.Fatalf("decode of re-encoded pixels: %v", err)
		}
		// A JPEG's colours may be finer than pf: the round trip keeps what pf can hold.
		for y := range r.H {
			for x := range r.W {
				got.SetPixel(x, y, quantized(e.conv, got.Pixel(x, y)))
			}
		}
		if err := compare(again, got, r); err != nil {
			t.Fatalf("re-encoded pixels decode differently: %v", err)
		}
	})
}

func FuzzDecodeRaw(f *testing.F)     { fuzzDecode(f, wire.EncodingRaw) }
func FuzzDecodeHextile(f *testing.F) { fuzzDecode(f, wire.EncodingHextile) }
func FuzzDecodeZRLE(f *testing.F)    { fuzzDecode(f, wire.EncodingZRLE) }
func FuzzDecodeTight(f *testing.F)   { fuzzDecode(f, wire.EncodingTight) }
