package encoding

import (
	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/rfb/wire"
)

// Tight compression-control values (the high four bits of the byte; the low four reset the
// viewer's zlib streams 0 to 3) and filter numbers.
// See rfbproto, "Tight Encoding".
const (
	tightFill           = 0x80
	tightJPEG           = 0x90
	tightExplicitFilter = 0x40 // basic compression: a filter number follows

	tightFilterCopy     = 0
	tightFilterPalette  = 1
	tightFilterGradient = 2

	// tightMinToCompress is the data size below which Tight sends data without zlib.
	tightMinToCompress = 12
	// tightMaxLength is the largest length Tight's compact form can carry.
	tightMaxLength = 1<<22 - 1
)

// Tight zlib streams, one per kind of data, as TightVNC assigns them.
const (
	streamCopy = iota
	streamMono
	streamIndexed
)

// tightChunk is the side of the largest square Tight sends as one rectangle. Splitting keeps
// each rectangle under the 2048-pixel width Tight viewers accept, lets flat, text and photo
// areas each get their own compression, and stays far below the compact length's limit.
const tightChunk = 256

// tightMaxPalette is the largest palette Tight's palette filter takes; tightJPEGPalette is
// the largest this encoder uses when the viewer takes JPEG: beyond a few dozen colours a
// chunk is a picture (a photo, a video, a gradient), which JPEG sends in a fraction of the
// bytes and the CPU that indexing and deflating it would take, as libvncserver also judges.
const (
	tightMaxPalette  = 256
	tightJPEGPalette = 24
)

// tight appends r of f in the Tight encoding, split into chunks of at most 256×256 pixels,
// and returns how many rectangles it appended. Each chunk is a solid fill, a palette
// (two-colour or indexed) through zlib, a JPEG when the viewer asked for a quality level, or
// its pixels through zlib. Every zlib use resets its stream in the viewer and starts a fresh
// one, so the bytes do not depend on what the viewer was sent before.
// See rfbproto, "Tight Encoding".
func (e *Encoder) tight(dst []byte, s *scratch, f *frame.Frame, r frame.Rect) ([]byte, int) {
	n := 0
	for y := r.Y; y < r.Bottom(); y += tightChunk {
		for x := r.X; x < r.Right(); x += tightChunk {
			c := frame.Rect{X: x, Y: y, W: min(tightChunk, r.Right()-x), H: min(tightChunk, r.Bottom()-y)}
			dst = e.tightRect(dst, s, f, c)
			n++
		}
	}
	return dst, n
}

// tightRect appends one Tight rectangle for c.
func (e *Encoder) tightRect(dst []byte, s *scratch, f *frame.Frame, c frame.Rect) []byte {
	dst = appendRectHeader(dst, c, wire.EncodingTight)
	px := s.vals[:c.W*c.H]
	tp := e.conv.tpixel()
	jpegOK := e.p.Quality >= 0 && e.p.Format.BitsPerPixel >= 16
	if jpegOK {
		s.pal.reset(tightJPEGPalette)
	} else {
		s.pal.reset(tightMaxPalette)
	}
	fits := true
	for y := range c.H {
		row := px[y*c.W : y*c.W+c.W]
		e.conv.load(row, f, frame.Rect{X: c.X, Y: c.Y + y, W: c.W, H: 1})
		fits = fits && s.pal.addAll(row)
		if !fits && jpegOK {
			break // a JPEG reads the frame itself
		}
	}
	switch {
	case fits && s.pal.n == 1:
		return tp.append(append(dst, tightFill), px[0])
	case fits && s.pal.n == 2:
		dst = append(dst, 1<<streamMono|streamMono<<4|tightExplicitFilter, tightFilterPalette, 1)
		dst = tp.appendAll(dst, s.pal.colors[:2])
		buf := s.buf[:0]
		for y := range c.H {
			buf = appendPacked(buf, &s.pal, px[y*c.W:y*c.W+c.W], c.W, 1, 1)
		}
		s.buf = buf
		return e.tightData(dst, s, buf)
	case fits:
		dst = append(dst, 1<<streamIndexed|streamIndexed<<4|tightExplicitFilter, tightFilterPalette, byte(s.pal.n-1))
		dst = tp.appendAll(dst, s.pal.colors[:s.pal.n])
		buf := s.buf[:0]
		for _, v := range px {
			buf = append(buf, byte(s.pal.add(v)))
		}
		s.buf = buf
		return e.tightData(dst, s, buf)
	case jpegOK:
		at := len(dst)
		var err error
		s.zbuf, err = e.jpeg.AppendJPEG(s.zbuf[:0], f, c, jpegQuality(e.p.Quality))
		if err == nil && len(s.zbuf) > 0 && len(s.zbuf) <= tightMaxLength {
			dst = appendCompactLength(append(dst, tightJPEG), len(s.zbuf))
			return append(dst, s.zbuf...)
		}
		dst = dst[:at] // the JPEG failed: fall back to lossless
		e.conv.load(px, f, c)
	}
	dst = append(dst, 1<<streamCopy|streamCopy<<4)
	s.buf = tp.appendAll(s.buf[:0], px)
	return e.tightData(dst, s, s.buf)
}

// tightData appends data as Tight sends filtered pixels: as they are when shorter than 12
// bytes, else its compact length and a zlib stream of it alone (header, raw deflate, sync
// flush), which the stream reset bit set before it makes the viewer start afresh.
func (e *Encoder) tightData(dst []byte, s *scratch, data []byte) []byte {
	if len(data) < tightMinToCompress {
		return append(dst, data...)
	}
	s.out.b = append(s.zbuf[:0], zlibHeader...)
	zw := s.deflater(e.level)
	zw.Write(data) // writes to memory cannot fail
	zw.Flush()
	s.zbuf = s.out.b
	s.out.b = nil
	dst = appendCompactLength(dst, len(s.zbuf))
	return append(dst, s.zbuf...)
}

// appendCompactLength appends n, below 2^22, in Tight's compact form: 7 bits a byte, low
// bits first, the top bit saying another byte follows; the third byte holds 8 bits.
func appendCompactLength(b []byte, n int) []byte {
	switch {
	case n < 1<<7:
		return append(b, byte(n))
	case n < 1<<14:
		return append(b, byte(n)|0x80, byte(n>>7))
	}
	return append(b, byte(n)|0x80, byte(n>>7)|0x80, byte(n>>14))
}
