package encoding

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/buktu/buktu/internal/frame"
)

// zrleMaxData returns the most zlib data a ZRLE rectangle of w×h pixels may carry: twice the
// largest sensible uncompressed size (every pixel a run of its own in 4-byte pixels, every
// tile a full palette), plus room for zlib framing.
func zrleMaxData(w, h int) int {
	tiles := ((w + zrleTile - 1) / zrleTile) * ((h + zrleTile - 1) / zrleTile)
	return 2*(w*h*5+tiles*(1+zrleMaxPalette*4)) + 1<<16
}

// decodeZRLE reads a ZRLE body into r of dst.
// See RFC 6143, section 7.7.6.
func (d *Decoder) decodeZRLE(rd io.Reader, dst *frame.Frame, r frame.Rect) error {
	var lb [4]byte
	if _, err := io.ReadFull(rd, lb[:]); err != nil {
		return fmt.Errorf("read zrle length: %w", err)
	}
	n := int64(binary.BigEndian.Uint32(lb[:]))
	if limit := zrleMaxData(r.W, r.H); n > int64(limit) {
		return fmt.Errorf("zrle data of %d bytes for a %dx%d rectangle, over the limit of %d", n, r.W, r.H, limit)
	}
	if err := d.zrle.feed(rd, int(n)); err != nil {
		return fmt.Errorf("zrle: %w", err)
	}
	cp := d.conv.cpixel()
	for ty := r.Y; ty < r.Bottom(); ty += zrleTile {
		for tx := r.X; tx < r.Right(); tx += zrleTile {
			t := frame.Rect{X: tx, Y: ty, W: min(zrleTile, r.Right()-tx), H: min(zrleTile, r.Bottom()-ty)}
			px := d.values(t.Area())
			if err := d.zrleTile(px, t.W, t.H, cp); err != nil {
				return fmt.Errorf("zrle tile at %d,%d: %w", tx, ty, err)
			}
			d.putValues(dst, t, px)
		}
	}
	return nil
}

// zrleTile reads one tile of w×h pixel values into px.
func (d *Decoder) zrleTile(px []uint32, w, h int, cp pixelCodec) error {
	z := &d.zrle
	var one [1]byte
	if err := z.read(one[:]); err != nil {
		return err
	}
	sub := int(one[0])
	var pal [zrleMaxPalette]uint32
	np := sub & 127
	switch {
	case sub == 0:
		b := d.bytes(len(px) * cp.size)
		if err := z.read(b); err != nil {
			return err
		}
		for i := range px {
			px[i] = cp.get(b[i*cp.size:])
		}
		return nil
	case sub == 1:
		b := d.bytes(cp.size)
		if err := z.read(b); err != nil {
			return err
		}
		v := cp.get(b)
		for i := range px {
			px[i] = v
		}
		return nil
	case sub > 16 && sub < 128, sub == 129:
		return fmt.Errorf("bad sub-encoding %d", sub)
	case np > 0:
		b := d.bytes(np * cp.size)
		if err := z.read(b); err != nil {
			return err
		}
		for i := range np {
			pal[i] = cp.get(b[i*cp.size:])
		}
	}
	if sub < 128 {
		bpp := packedBits(np)
		rowBytes := (w*bpp + 7) / 8
		b := d.bytes(rowBytes * h)
		if err := z.read(b); err != nil {
			return err
		}
		mask := byte(1)<<bpp - 1
		for y := range h {
			row := b[y*rowBytes:]
			for x := range w {
				bit := x * bpp
				idx := int(row[bit/8]>>(8-bpp-bit%8)) & int(mask)
				if idx >= np {
					return fmt.Errorf("palette index %d of %d colours", idx, np)
				}
				px[y*w+x] = pal[idx]
			}
		}
		return nil
	}
	// Plain RLE (128) or palette RLE (130 to 255).
	pb := d.bytes(cp.size)
	for i := 0; i < len(px); {
		var v uint32
		run := true
		if np == 0 {
			if err := z.read(pb); err != nil {
				return err
			}
			v = cp.get(pb)
		} else {
			if err := z.read(one[:]); err != nil {
				return err
			}
			idx := int(one[0] & 127)
			if idx >= np {
				return fmt.Errorf("palette index %d of %d colours", idx, np)
			}
			v, run = pal[idx], one[0]&128 != 0
		}
		n := 1
		if run {
			var err error
			if n, err = d.zrleRunLength(len(px) - i); err != nil {
				return err
			}
		}
		for j := i; j < i+n; j++ {
			px[j] = v
		}
		i += n
	}
	return nil
}

// zrleRunLength reads a run length that must not pass max.
func (d *Decoder) zrleRunLength(max int) (int, error) {
	var one [1]byte
	n := 1
	for {
		if err := d.zrle.read(one[:]); err != nil {
			return 0, err
		}
		n += int(one[0])
		if n > max {
			return 0, fmt.Errorf("run of %d pixels with %d left in the tile", n, max)
		}
		if one[0] != 255 {
			return n, nil
		}
	}
}
