package encoding

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/rfb/wire"
)

// ErrFormat reports a pixel format this package cannot produce or read: colour-map formats,
// bits per pixel other than 8, 16 or 32, or channels that do not fit in a pixel.
var ErrFormat = errors.New("encoding: unsupported pixel format")

// converter turns native pixels (0xXXRRGGBB) into pixel values of a client's format and
// back. Encoders work on client values held in uint32s, so that colours the client cannot
// tell apart are also the same to the encoder.
type converter struct {
	pf         wire.PixelFormat
	bpp        int         // bytes per pixel: 1, 2 or 4
	layout     layout      // a 32-bit format whose bytes can be moved without arithmetic
	is888      bool        // 32 bits, 8 bits a channel on byte boundaries: shifts only
	rs, gs, bs uint8       // channel shifts
	rt, gt, bt [256]uint32 // an 8-bit channel's bits in a client value (not 888)
	// back[c] maps a channel value to 8 bits when its maximum is below 256; wide channels
	// (max ≥ 256) are scaled arithmetically.
	rmax, gmax, bmax uint32
	rb, gb, bb       []uint8
}

// layout names the 32-bit formats whose pixels are the native bytes, or the native bytes with
// red and blue swapped.
type layout uint8

const (
	layoutOther layout = iota
	layoutBGRX         // the bytes in memory are B, G, R, X: native
	layoutRGBX         // the bytes in memory are R, G, B, X: noVNC's format
)

func newConverter(pf wire.PixelFormat) (*converter, error) {
	if err := checkFormat(pf); err != nil {
		return nil, err
	}
	c := &converter{
		pf: pf, bpp: pf.BytesPerPixel(),
		rs: pf.RedShift, gs: pf.GreenShift, bs: pf.BlueShift,
		rmax: uint32(pf.RedMax), gmax: uint32(pf.GreenMax), bmax: uint32(pf.BlueMax),
	}
	c.is888 = pf.BitsPerPixel == 32 && c.rmax == 255 && c.gmax == 255 && c.bmax == 255 &&
		c.rs%8 == 0 && c.gs%8 == 0 && c.bs%8 == 0
	if c.is888 {
		// Where each channel's byte sits in memory.
		at := func(shift uint8) uint8 {
			if pf.BigEndian {
				return 3 - shift/8
			}
			return shift / 8
		}
		switch [3]uint8{at(c.rs), at(c.gs), at(c.bs)} {
		case [3]uint8{2, 1, 0}:
			c.layout = layoutBGRX
		case [3]uint8{0, 1, 2}:
			c.layout = layoutRGBX
		}
	}
	for i := range uint32(256) {
		c.rt[i] = scaleTo(i, c.rmax) << c.rs
		c.gt[i] = scaleTo(i, c.gmax) << c.gs
		c.bt[i] = scaleTo(i, c.bmax) << c.bs
	}
	c.rb, c.gb, c.bb = backTable(c.rmax), backTable(c.gmax), backTable(c.bmax)
	return c, nil
}

// checkFormat reports whether pf is a true-colour format of 8, 16 or 32 bits whose channels
// fit in the pixel.
func checkFormat(pf wire.PixelFormat) error {
	switch pf.BitsPerPixel {
	case 8, 16, 32:
	default:
		return fmt.Errorf("%w: %d bits per pixel", ErrFormat, pf.BitsPerPixel)
	}
	if !pf.TrueColour {
		return fmt.Errorf("%w: colour map", ErrFormat)
	}
	for _, ch := range [3]struct {
		max   uint16
		shift uint8
	}{{pf.RedMax, pf.RedShift}, {pf.GreenMax, pf.GreenShift}, {pf.BlueMax, pf.BlueShift}} {
		if ch.max == 0 || int(ch.shift)+bits.Len16(ch.max) > int(pf.BitsPerPixel) {
			return fmt.Errorf("%w: channel max %d at shift %d", ErrFormat, ch.max, ch.shift)
		}
	}
	return nil
}

// scaleTo maps an 8-bit channel value to 0..max, rounding to nearest.
func scaleTo(v, max uint32) uint32 { return (v*max + 127) / 255 }

// scaleFrom maps a channel value in 0..max to 8 bits, rounding to nearest.
func scaleFrom(v, max uint32) uint32 { return (v*255 + max/2) / max }

func backTable(max uint32) []uint8 {
	if max > 255 {
		return nil
	}
	t := make([]uint8, max+1)
	for i := range t {
		t[i] = uint8(scaleFrom(uint32(i), max))
	}
	return t
}

// value returns the client value of native pixel n.
func (c *converter) value(n uint32) uint32 {
	if c.is888 {
		return (n>>16&0xff)<<c.rs | (n>>8&0xff)<<c.gs | (n&0xff)<<c.bs
	}
	return c.rt[n>>16&0xff] | c.gt[n>>8&0xff] | c.bt[n&0xff]
}

// load stores the client values of the pixels of r, row after row, in dst[:r.W*r.H].
func (c *converter) load(dst []uint32, f *frame.Frame, r frame.Rect) {
	i := 0
	for y := r.Y; y < r.Bottom(); y++ {
		row := f.Row(r.X, y, r.W)
		out := dst[i : i+r.W]
		i += r.W
		switch {
		case c.is888 && c.rs == 16 && c.gs == 8 && c.bs == 0:
			for x := range out {
				out[x] = binary.LittleEndian.Uint32(row[4*x:]) & 0xffffff
			}
		case c.is888 && c.rs == 0 && c.gs == 8 && c.bs == 16:
			for x := range out {
				n := binary.LittleEndian.Uint32(row[4*x:])
				out[x] = n>>16&0xff | n&0xff00 | (n&0xff)<<16
			}
		case c.is888:
			for x := range out {
				out[x] = c.value(binary.LittleEndian.Uint32(row[4*x:]))
			}
		default:
			for x := range out {
				p := row[4*x : 4*x+3]
				out[x] = c.rt[p[2]] | c.gt[p[1]] | c.bt[p[0]]
			}
		}
	}
}

// native returns the native pixel (X byte zero) of client value v.
func (c *converter) native(v uint32) uint32 {
	return channel8(v>>c.rs&c.rmax, c.rmax, c.rb)<<16 |
		channel8(v>>c.gs&c.gmax, c.gmax, c.gb)<<8 |
		channel8(v>>c.bs&c.bmax, c.bmax, c.bb)
}

func channel8(v, max uint32, table []uint8) uint32 {
	if table != nil {
		return uint32(table[v])
	}
	return scaleFrom(v, max)
}

// appendRaw appends the pixels of one native row in the client's format.
func (c *converter) appendRaw(dst, row []byte) []byte {
	switch c.layout {
	case layoutBGRX:
		return append(dst, row...)
	case layoutRGBX:
		n := len(dst)
		dst = append(dst, row...)
		out := dst[n:]
		for i := 0; i+4 <= len(out); i += 4 {
			out[i], out[i+2] = out[i+2], out[i]
		}
		return dst
	}
	// Convert in slices of a stack buffer, so appendAll picks its loop once per slice.
	var vals [256]uint32
	for len(row) >= 4 {
		n := min(len(row)/4, len(vals))
		for x := range n {
			p := row[4*x : 4*x+3 : 4*x+3]
			vals[x] = c.rt[p[2]] | c.gt[p[1]] | c.bt[p[0]]
		}
		dst = c.pixel().appendAll(dst, vals[:n])
		row = row[4*n:]
	}
	return dst
}

// pixel returns how a PIXEL of the client's format is written.
func (c *converter) pixel() pixelCodec {
	return pixelCodec{size: c.bpp, big: c.pf.BigEndian}
}

// pixelCodec writes and reads client pixel values in one of the wire's shapes: a PIXEL
// (1, 2 or 4 bytes in the format's byte order), ZRLE's 3-byte CPIXEL, or Tight's TPIXEL.
type pixelCodec struct {
	size       int  // bytes per pixel: 1, 2, 3 or 4
	big        bool // byte order of the value, for sizes 2 to 4
	shift      uint // low value bits dropped: 8 for a CPIXEL of the three most significant bytes
	rgb        bool // TPIXEL: the bytes are red, green and blue, each 8 bits
	rs, gs, bs uint8
}

func (p pixelCodec) append(dst []byte, v uint32) []byte {
	if p.rgb {
		return append(dst, byte(v>>p.rs), byte(v>>p.gs), byte(v>>p.bs))
	}
	v >>= p.shift
	switch p.size {
	case 1:
		return append(dst, byte(v))
	case 2:
		if p.big {
			return binary.BigEndian.AppendUint16(dst, uint16(v))
		}
		return binary.LittleEndian.AppendUint16(dst, uint16(v))
	case 3:
		if p.big {
			return append(dst, byte(v>>16), byte(v>>8), byte(v))
		}
		return append(dst, byte(v), byte(v>>8), byte(v>>16))
	}
	if p.big {
		return binary.BigEndian.AppendUint32(dst, v)
	}
	return binary.LittleEndian.AppendUint32(dst, v)
}

// appendAll appends vs, with the choice of shape made once rather than per pixel.
func (p pixelCodec) appendAll(dst []byte, vs []uint32) []byte {
	n := len(dst)
	dst = grow(dst, len(vs)*p.size)
	out := dst[n:]
	switch {
	case p.rgb:
		for i, v := range vs {
			out[3*i], out[3*i+1], out[3*i+2] = byte(v>>p.rs), byte(v>>p.gs), byte(v>>p.bs)
		}
	case p.size == 4 && !p.big:
		for i, v := range vs {
			binary.LittleEndian.PutUint32(out[4*i:], v)
		}
	case p.size == 3 && !p.big:
		for i, v := range vs {
			v >>= p.shift
			out[3*i], out[3*i+1], out[3*i+2] = byte(v), byte(v>>8), byte(v>>16)
		}
	case p.size == 4:
		for i, v := range vs {
			binary.BigEndian.PutUint32(out[4*i:], v)
		}
	case p.size == 3:
		for i, v := range vs {
			v >>= p.shift
			out[3*i], out[3*i+1], out[3*i+2] = byte(v>>16), byte(v>>8), byte(v)
		}
	case p.size == 2 && !p.big:
		for i, v := range vs {
			binary.LittleEndian.PutUint16(out[2*i:], uint16(v))
		}
	case p.size == 2:
		for i, v := range vs {
			binary.BigEndian.PutUint16(out[2*i:], uint16(v))
		}
	default:
		for i, v := range vs {
			out[i] = byte(v)
		}
	}
	return dst
}

// get reads one pixel value from the start of b, which holds at least p.size bytes.
func (p pixelCodec) get(b []byte) uint32 {
	if p.rgb {
		return uint32(b[0])<<p.rs | uint32(b[1])<<p.gs | uint32(b[2])<<p.bs
	}
	var v uint32
	switch p.size {
	case 1:
		v = uint32(b[0])
	case 2:
		if p.big {
			v = uint32(binary.BigEndian.Uint16(b))
		} else {
			v = uint32(binary.LittleEndian.Uint16(b))
		}
	case 3:
		if p.big {
			v = uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])
		} else {
			v = uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16
		}
	default:
		if p.big {
			v = binary.BigEndian.Uint32(b)
		} else {
			v = binary.LittleEndian.Uint32(b)
		}
	}
	return v << p.shift
}

// cpixel returns ZRLE's CPIXEL for the format: three bytes when a 32-bit true-colour format of
// depth 24 or less has all its colour bits in the three least (preferred) or the three most
// significant bytes, else a PIXEL.
// See RFC 6143, section 7.7.6.
func (c *converter) cpixel() pixelCodec {
	p := c.pixel()
	if c.pf.BitsPerPixel != 32 || c.pf.Depth > 24 {
		return p
	}
	used := c.rmax<<c.rs | c.gmax<<c.gs | c.bmax<<c.bs
	switch {
	case used < 1<<24:
		p.size = 3
	case used&0xff == 0:
		p.size, p.shift = 3, 8
	}
	return p
}

// tpixel returns Tight's TPIXEL for the format: red, green and blue bytes for a 32-bit format
// of depth 24 with 8 bits a channel on byte boundaries, else a PIXEL.
// See rfbproto, "Tight Encoding".
func (c *converter) tpixel() pixelCodec {
	if c.is888 && c.pf.Depth == 24 {
		return pixelCodec{size: 3, rgb: true, rs: c.rs, gs: c.gs, bs: c.bs}
	}
	return c.pixel()
}

// grow extends b by n bytes, whose content is undefined.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), 2*cap(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}
