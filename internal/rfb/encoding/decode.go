package encoding

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/flate"

	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/rfb/wire"
)

// ErrUnsupported reports a rectangle in an encoding the Decoder does not read.
var ErrUnsupported = errors.New("encoding: unsupported encoding")

// maxLeftover is how many compressed bytes a zlib stream may hold unread after a rectangle.
// A server flushes its stream at the end of each rectangle, leaving a few bytes at most; a
// stream holding more is being fed data it never uses, and would grow without bound.
const maxLeftover = 1 << 20

// Decoder reads rectangle bodies, as the client side of one connection. It keeps the zlib
// streams that ZRLE and Tight continue from one rectangle to the next, so a connection needs
// its own Decoder and must pass it every rectangle, in order. It reads exactly the bytes of
// each body, and every length it reads is checked against the rectangle before anything is
// allocated for it.
type Decoder struct {
	zrle  zstream
	tight [4]zstream

	conv *converter // for pf
	pf   wire.PixelFormat
	buf  []byte
	vals []uint32
	jpeg bytes.Buffer
}

// Decode reads from r the body of a rectangle (its header already read) in encoding enc and
// pixel format pf, and draws it into rect of dst. The rectangle must lie inside dst. It
// reads Raw, CopyRect, Hextile, ZRLE and Tight.
func (d *Decoder) Decode(r io.Reader, dst *frame.Frame, rect frame.Rect, enc wire.Encoding, pf wire.PixelFormat) error {
	if rect.W < 0 || rect.H < 0 || !rect.In(dst.Bounds()) {
		return fmt.Errorf("decode rectangle %v: outside the %dx%d framebuffer", rect, dst.W, dst.H)
	}
	if d.conv == nil || pf != d.pf {
		conv, err := newConverter(pf)
		if err != nil {
			return fmt.Errorf("decode rectangle: %w", err)
		}
		d.conv, d.pf = conv, pf
	}
	var err error
	switch enc {
	case wire.EncodingRaw:
		err = d.decodeRaw(r, dst, rect)
	case wire.EncodingCopyRect:
		err = d.decodeCopyRect(r, dst, rect)
	case wire.EncodingHextile:
		err = d.decodeHextile(r, dst, rect)
	case wire.EncodingZRLE:
		err = d.decodeZRLE(r, dst, rect)
	case wire.EncodingTight:
		err = d.decodeTight(r, dst, rect)
	default:
		return fmt.Errorf("decode rectangle: %w %d", ErrUnsupported, enc)
	}
	if err != nil {
		return fmt.Errorf("decode rectangle %v: %w", rect, err)
	}
	return nil
}

// bytes returns d's byte buffer, resized to n.
func (d *Decoder) bytes(n int) []byte {
	if cap(d.buf) < n {
		d.buf = make([]byte, n)
	}
	return d.buf[:n]
}

// values returns d's pixel value buffer, resized to n.
func (d *Decoder) values(n int) []uint32 {
	if cap(d.vals) < n {
		d.vals = make([]uint32, n)
	}
	return d.vals[:n]
}

// putRow converts the pixels in src, written as p, to native pixels in row.
func (d *Decoder) putRow(row, src []byte, p pixelCodec) {
	switch {
	case p.size == 4 && d.conv.layout == layoutBGRX:
		copy(row, src)
		return
	case p.size == 4 && d.conv.layout == layoutRGBX:
		copy(row, src)
		for i := 0; i+4 <= len(row); i += 4 {
			row[i], row[i+2] = row[i+2], row[i]
		}
		return
	}
	for i, j := 0, 0; i < len(row); i, j = i+4, j+p.size {
		putNative(row[i:], d.conv.native(p.get(src[j:])))
	}
}

// putValues draws the client pixel values vals, w to a row, at the top left of r in dst.
func (d *Decoder) putValues(dst *frame.Frame, r frame.Rect, vals []uint32) {
	c := d.conv
	for y := range r.H {
		row := dst.Row(r.X, r.Y+y, r.W)
		in := vals[y*r.W : y*r.W+r.W]
		switch {
		case c.is888:
			for x, v := range in {
				p := row[4*x : 4*x+4 : 4*x+4]
				p[0], p[1], p[2], p[3] = byte(v>>c.bs), byte(v>>c.gs), byte(v>>c.rs), 0
			}
		default:
			for x, v := range in {
				putNative(row[4*x:], c.native(v))
			}
		}
	}
}

func putNative(b []byte, n uint32) {
	b[0], b[1], b[2], b[3] = byte(n), byte(n>>8), byte(n>>16), 0
}

// zstream is the client end of a zlib stream that continues across rectangles. Each
// rectangle's compressed bytes are queued, and exactly as many bytes are inflated as the
// rectangle's pixels need: the inflater never asks for input the server has not sent yet,
// which would end the stream for good.
type zstream struct {
	in      bytes.Buffer // compressed bytes not yet inflated
	fr      io.ReadCloser
	started bool // the zlib header has been read
}

// feed queues n compressed bytes read from r.
func (z *zstream) feed(r io.Reader, n int) error {
	if z.in.Len() > maxLeftover {
		return fmt.Errorf("zlib stream holds %d bytes never used", z.in.Len())
	}
	if _, err := io.CopyN(&z.in, r, int64(n)); err != nil {
		return fmt.Errorf("read %d bytes of zlib data: %w", n, noEOF(err))
	}
	return nil
}

// read fills p with inflated bytes.
func (z *zstream) read(p []byte) error {
	if !z.started {
		var h [2]byte
		if _, err := io.ReadFull(&z.in, h[:]); err != nil {
			return errors.New("zlib stream header missing")
		}
		// Deflate, a window of at most 32 KiB, a valid check, and no preset dictionary.
		if h[0]&0x0f != 8 || h[0]>>4 > 7 || (uint(h[0])<<8|uint(h[1]))%31 != 0 || h[1]&0x20 != 0 {
			return fmt.Errorf("bad zlib stream header %x", h)
		}
		if z.fr == nil {
			z.fr = flate.NewReader(&z.in)
		} else if err := z.fr.(flate.Resetter).Reset(&z.in, nil); err != nil {
			return fmt.Errorf("reset inflater: %w", err)
		}
		z.started = true
	}
	if _, err := io.ReadFull(z.fr, p); err != nil {
		return fmt.Errorf("inflate: %w", noEOF(err))
	}
	return nil
}

// reset forgets the stream: the next bytes start a new one with its own header.
func (z *zstream) reset() {
	z.in.Reset()
	z.started = false
}

// noEOF turns io.EOF into io.ErrUnexpectedEOF: inside a rectangle, an end is never expected.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
