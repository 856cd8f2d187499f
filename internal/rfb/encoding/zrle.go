package encoding

import (
	"encoding/binary"

	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/rfb/wire"
)

// ZRLEStreamHeader is the zlib header that starts a connection's ZRLE stream. ZRLE has one
// zlib stream per connection and no way to reset it, so each rectangle's data from Encode is
// a continuation that fits any stream: a raw deflate of that rectangle alone, ended with a
// sync flush. The only part that depends on the connection is this header, sent once, before
// the first ZRLE data: [Stream] inserts it.
const ZRLEStreamHeader = zlibHeader

// zlibHeader starts a zlib stream: deflate with a 32 KiB window, no dictionary, fastest
// level (a hint only).
const zlibHeader = "\x78\x01"

// zrleTile is ZRLE's tile size.
const zrleTile = 64

// zrleMaxPalette is the largest palette a ZRLE tile can have.
const zrleMaxPalette = 127

// Stream is the part of encoding that belongs to one connection: whether its ZRLE zlib
// stream has started. The zero Stream is a connection that has been sent no ZRLE data yet.
type Stream struct {
	zrleStarted bool
}

// Append appends rects, the output of one or more Encode calls of one Encoder, to dst for
// this connection. When rects starts with a ZRLE rectangle and the connection's stream has
// not started, Append inserts ZRLEStreamHeader before that rectangle's zlib data (and counts
// it in its length); all other bytes go out as they are.
func (s *Stream) Append(dst, rects []byte) []byte {
	const lengthAt = wire.RectHeaderLength
	if s.zrleStarted || len(rects) < lengthAt+4 ||
		wire.Encoding(binary.BigEndian.Uint32(rects[8:])) != wire.EncodingZRLE {
		return append(dst, rects...)
	}
	s.zrleStarted = true
	n := binary.BigEndian.Uint32(rects[lengthAt:])
	dst = append(dst, rects[:lengthAt]...)
	dst = binary.BigEndian.AppendUint32(dst, n+uint32(len(ZRLEStreamHeader)))
	dst = append(dst, ZRLEStreamHeader...)
	return append(dst, rects[lengthAt+4:]...)
}

// zrle appends r of f in the ZRLE encoding: 64×64 tiles, each solid, palette-packed, run
// length encoded or raw, whichever is smallest, all through zlib.
// See RFC 6143, section 7.7.6.
func (e *Encoder) zrle(dst []byte, s *scratch, f *frame.Frame, r frame.Rect) []byte {
	dst = appendRectHeader(dst, r, wire.EncodingZRLE)
	lengthAt := len(dst)
	s.out.b = append(dst, 0, 0, 0, 0)
	zw := s.deflater(e.level)
	cp := e.conv.cpixel()
	buf := s.buf[:0]
	for ty := r.Y; ty < r.Bottom(); ty += zrleTile {
		for tx := r.X; tx < r.Right(); tx += zrleTile {
			t := frame.Rect{X: tx, Y: ty, W: min(zrleTile, r.Right()-tx), H: min(zrleTile, r.Bottom()-ty)}
			px := s.vals[:t.W*t.H]
			e.conv.load(px, f, t)
			buf = zrleAppendTile(buf, &s.pal, px, t.W, t.H, cp)
			if len(buf) >= 32<<10 {
				zw.Write(buf) // writes to memory cannot fail
				buf = buf[:0]
			}
		}
	}
	zw.Write(buf)
	zw.Flush()
	s.buf = buf[:0]
	dst = s.out.b
	s.out.b = nil
	binary.BigEndian.PutUint32(dst[lengthAt:], uint32(len(dst)-lengthAt-4))
	return dst
}

// runLengthBytes is the size of a run length of n in ZRLE's RLE sub-encodings.
func runLengthBytes(n int) int {
	if n <= 255 {
		return 1
	}
	return (n-1)/255 + 1
}

// appendRunLength appends a run length of n: bytes of 255, then the rest.
func appendRunLength(b []byte, n int) []byte {
	n--
	for n >= 255 {
		b = append(b, 255)
		n -= 255
	}
	return append(b, byte(n))
}

// packedBits returns the bits per index of a packed palette of n colours.
func packedBits(n int) int {
	switch {
	case n <= 2:
		return 1
	case n <= 4:
		return 2
	}
	return 4
}

// zrleAppendTile appends one tile of w×h pixel values in its smallest sub-encoding.
func zrleAppendTile(dst []byte, pal *palette, px []uint32, w, h int, cp pixelCodec) []byte {
	pal.reset(zrleMaxPalette)
	palOK := true
	plainRLE, paletteRLE := 0, 0
	rawSize := len(px) * cp.size
	for i := 0; i < len(px); {
		v := px[i]
		j := i + 1
		for j < len(px) && px[j] == v {
			j++
		}
		n := runLengthBytes(j - i)
		plainRLE += cp.size + n
		if j-i == 1 {
			paletteRLE++
		} else {
			paletteRLE += 1 + n
		}
		if palOK && pal.add(v) < 0 {
			palOK = false
		}
		if !palOK && plainRLE >= rawSize {
			return cp.appendAll(append(dst, 0), px) // like a photograph: raw it is
		}
		i = j
	}
	if palOK && pal.n == 1 {
		return cp.append(append(dst, 1), px[0])
	}
	type choice int
	const (
		raw choice = iota
		plain
		packed
		paletted
	)
	best, size := raw, rawSize
	if plainRLE < size {
		best, size = plain, plainRLE
	}
	if palOK {
		palSize := pal.n * cp.size
		if pal.n <= 16 {
			if n := palSize + (w*packedBits(pal.n)+7)/8*h; n < size {
				best, size = packed, n
			}
		}
		if n := palSize + paletteRLE; n < size {
			best = paletted
		}
	}
	switch best {
	case plain:
		dst = append(dst, 128)
		for i := 0; i < len(px); {
			v := px[i]
			j := i + 1
			for j < len(px) && px[j] == v {
				j++
			}
			dst = appendRunLength(cp.append(dst, v), j-i)
			i = j
		}
	case packed:
		dst = cp.appendAll(append(dst, byte(pal.n)), pal.colors[:pal.n])
		dst = appendPacked(dst, pal, px, w, h, packedBits(pal.n))
	case paletted:
		dst = cp.appendAll(append(dst, byte(128+pal.n)), pal.colors[:pal.n])
		for i := 0; i < len(px); {
			v := px[i]
			j := i + 1
			for j < len(px) && px[j] == v {
				j++
			}
			idx := byte(pal.add(v))
			if j-i == 1 {
				dst = append(dst, idx)
			} else {
				dst = appendRunLength(append(dst, idx|128), j-i)
			}
			i = j
		}
	default:
		dst = cp.appendAll(append(dst, 0), px)
	}
	return dst
}

// appendPacked appends the palette indices of px, bpp bits each, most significant first,
// every row starting on a new byte.
func appendPacked(dst []byte, pal *palette, px []uint32, w, h, bpp int) []byte {
	for y := range h {
		var acc byte
		nbits := 0
		for _, v := range px[y*w : y*w+w] {
			acc = acc<<bpp | byte(pal.add(v))
			nbits += bpp
			if nbits == 8 {
				dst = append(dst, acc)
				acc, nbits = 0, 0
			}
		}
		if nbits > 0 {
			dst = append(dst, acc<<(8-nbits))
		}
	}
	return dst
}
