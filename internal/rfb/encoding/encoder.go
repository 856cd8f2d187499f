package encoding

import (
	"fmt"
	"sync"

	"github.com/klauspost/compress/flate"

	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/rfb/wire"
)

// Params says how a viewer wants its pixels: everything that changes the bytes of an encoded
// rectangle, and nothing else. Viewers asking for equal Params can share the bytes, so the
// server keeps one Encoder, and one encoded copy of each change, per Params in use.
type Params struct {
	// Encoding is Raw, Hextile, ZRLE or Tight (wire.EncodingRaw and so on).
	Encoding wire.Encoding
	// Format is the viewer's pixel format; it must be true colour.
	Format wire.PixelFormat
	// Quality is Tight's JPEG quality level, 0 (small) to 9 (good), from the QualityLevel
	// pseudo-encodings; -1 means the viewer asked for none, and Tight stays lossless.
	Quality int
	// Compress is the zlib effort, 0 (fast) to 9 (small), from the CompressLevel
	// pseudo-encodings; -1 means the viewer asked for none and picks DefaultCompress.
	Compress int
}

// DefaultCompress is the compression level used when a viewer sends none: the fastest, since
// the server's CPU, not the network, is what runs out first on a LAN.
const DefaultCompress = 1

// An Encoder turns rectangles of frames into the bytes of one Params. It is safe for
// concurrent use: encoding different rectangles on several goroutines at once is how a large
// change is spread over the cores. Every rectangle is encoded on its own, independent of what
// was encoded before (see the package documentation), so the bytes can go to any viewer of
// the same Params.
type Encoder struct {
	p     Params
	conv  *converter
	level int // flate level
	jpeg  JPEGEncoder
	pool  sync.Pool // of *scratch, so concurrent calls do not share buffers or compressors
}

// scratch holds what one Encode call reuses from the last: buffers and a compressor.
type scratch struct {
	vals []uint32 // client pixel values of a tile
	buf  []byte   // uncompressed bytes waiting for the compressor
	zbuf []byte   // compressed bytes, for Tight, whose length goes before them
	zw   *flate.Writer
	out  appendWriter
	pal  palette
}

// NewEncoder returns an Encoder for p. jpeg compresses Tight's JPEG rectangles; nil means a
// new [NewJPEG], so a server with many Encoders should make one and pass it to each. It
// fails for encodings it does not produce (CopyRect has [AppendCopyRect]) and for pixel
// formats it cannot write.
func NewEncoder(p Params, jpeg JPEGEncoder) (*Encoder, error) {
	switch p.Encoding {
	case wire.EncodingRaw, wire.EncodingHextile, wire.EncodingZRLE, wire.EncodingTight:
	default:
		return nil, fmt.Errorf("new encoder: encoding %d is not one this package produces", p.Encoding)
	}
	conv, err := newConverter(p.Format)
	if err != nil {
		return nil, fmt.Errorf("new encoder: %w", err)
	}
	if jpeg == nil {
		jpeg = NewJPEG()
	}
	level := p.Compress
	if level < 0 {
		level = DefaultCompress
	}
	// Level 0 would store without compressing; the fastest real compression is better.
	level = min(max(level, 1), 9)
	return &Encoder{p: p, conv: conv, level: level, jpeg: jpeg}, nil
}

// Params returns the Params e encodes for.
func (e *Encoder) Params() Params { return e.p }

// Encode appends to dst the rectangles that draw r of f (clipped to f) for e's Params, each a
// complete RFB rectangle: its 12-byte header followed by its body. It returns the extended
// slice and how many rectangles it appended, for the FramebufferUpdate's count: one, except
// for Tight, which splits large areas.
//
// A ZRLE rectangle's zlib data continues the connection's stream, which must begin with
// ZRLEStreamHeader: send every Encode result through the connection's [Stream].
func (e *Encoder) Encode(dst []byte, f *frame.Frame, r frame.Rect) ([]byte, int) {
	r = r.Intersect(f.Bounds())
	if r.Empty() {
		return dst, 0
	}
	if e.p.Encoding == wire.EncodingRaw {
		return e.raw(dst, f, r), 1
	}
	s, _ := e.pool.Get().(*scratch)
	if s == nil {
		s = &scratch{vals: make([]uint32, tightChunk*tightChunk)}
	}
	defer e.pool.Put(s)
	switch e.p.Encoding {
	case wire.EncodingHextile:
		return e.hextile(dst, s, f, r), 1
	case wire.EncodingZRLE:
		return e.zrle(dst, s, f, r), 1
	default:
		return e.tight(dst, s, f, r)
	}
}

// appendRectHeader appends the rectangle header of r in encoding enc.
func appendRectHeader(b []byte, r frame.Rect, enc wire.Encoding) []byte {
	h := wire.RectHeader{X: uint16(r.X), Y: uint16(r.Y), Width: uint16(r.W), Height: uint16(r.H), Encoding: enc}
	return h.Append(b)
}

// deflater returns s's compressor, reset to append to s.out and to forget everything it
// compressed before: no back-reference reaches data outside this rectangle.
func (s *scratch) deflater(level int) *flate.Writer {
	if s.zw == nil {
		zw, err := flate.NewWriter(&s.out, level)
		if err != nil {
			panic(err) // level is always within 1..9
		}
		s.zw = zw
	}
	s.zw.Reset(&s.out)
	return s.zw
}

// appendWriter is an io.Writer appending to a slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}
