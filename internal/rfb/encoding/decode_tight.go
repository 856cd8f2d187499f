package encoding

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"

	"github.com/buktu/buktu/internal/frame"
)

// decodeTight reads a Tight body into r of dst.
// See rfbproto, "Tight Encoding".
func (d *Decoder) decodeTight(rd io.Reader, dst *frame.Frame, r frame.Rect) error {
	var one [1]byte
	if _, err := io.ReadFull(rd, one[:]); err != nil {
		return fmt.Errorf("read tight compression control: %w", err)
	}
	ctl := one[0]
	for i := range d.tight {
		if ctl&(1<<i) != 0 {
			d.tight[i].reset()
		}
	}
	tp := d.conv.tpixel()
	switch comp := ctl >> 4; {
	case comp == tightFill>>4:
		b := d.bytes(tp.size)
		if _, err := io.ReadFull(rd, b); err != nil {
			return fmt.Errorf("read tight fill colour: %w", err)
		}
		dst.Fill(r, d.conv.native(tp.get(b)))
		return nil
	case comp == tightJPEG>>4:
		return d.tightJPEG(rd, dst, r)
	case comp&0x8 != 0:
		return fmt.Errorf("tight compression %#x not supported", comp)
	}
	stream := &d.tight[ctl>>4&3]
	filter := byte(tightFilterCopy)
	if ctl&tightExplicitFilter != 0 {
		if _, err := io.ReadFull(rd, one[:]); err != nil {
			return fmt.Errorf("read tight filter: %w", err)
		}
		filter = one[0]
	}
	var pal [tightMaxPalette]uint32
	np := 0
	size := r.Area() * tp.size
	switch filter {
	case tightFilterCopy, tightFilterGradient:
	case tightFilterPalette:
		if _, err := io.ReadFull(rd, one[:]); err != nil {
			return fmt.Errorf("read tight palette size: %w", err)
		}
		np = int(one[0]) + 1
		b := d.bytes(np * tp.size)
		if _, err := io.ReadFull(rd, b); err != nil {
			return fmt.Errorf("read tight palette: %w", err)
		}
		for i := range np {
			pal[i] = tp.get(b[i*tp.size:])
		}
		size = r.W * r.H
		if np <= 2 {
			size = (r.W + 7) / 8 * r.H
		}
	default:
		return fmt.Errorf("tight filter %d not supported", filter)
	}
	if size == 0 {
		return nil
	}
	data := d.bytes(size)
	if size < tightMinToCompress {
		if _, err := io.ReadFull(rd, data); err != nil {
			return fmt.Errorf("read tight data: %w", err)
		}
	} else {
		n, err := readCompactLength(rd)
		if err != nil {
			return err
		}
		if err := stream.feed(rd, n); err != nil {
			return fmt.Errorf("tight: %w", err)
		}
		if err := stream.read(data); err != nil {
			return fmt.Errorf("tight: %w", err)
		}
	}
	px := d.values(r.Area())
	switch {
	case filter == tightFilterPalette && np <= 2:
		rowBytes := (r.W + 7) / 8
		for y := range r.H {
			for x := range r.W {
				idx := int(data[y*rowBytes+x/8]>>(7-x%8)) & 1
				if idx >= np {
					return fmt.Errorf("tight palette index %d of %d colours", idx, np)
				}
				px[y*r.W+x] = pal[idx]
			}
		}
	case filter == tightFilterPalette:
		for i, idx := range data {
			if int(idx) >= np {
				return fmt.Errorf("tight palette index %d of %d colours", idx, np)
			}
			px[i] = pal[idx]
		}
	case filter == tightFilterGradient:
		d.tightGradient(px, data, r.W, tp)
	default:
		for i := range px {
			px[i] = tp.get(data[i*tp.size:])
		}
	}
	d.putValues(dst, r, px)
	return nil
}

// tightGradient undoes Tight's gradient filter: each channel was sent as its difference
// from left + above - above-left, clamped to the channel's range.
func (d *Decoder) tightGradient(px []uint32, data []byte, w int, tp pixelCodec) {
	c := d.conv
	shifts := [3]uint8{c.rs, c.gs, c.bs}
	maxes := [3]uint32{c.rmax, c.gmax, c.bmax}
	for i := range px {
		diff := tp.get(data[i*tp.size:])
		x := i % w
		var v uint32
		for ch := range 3 {
			s, m := shifts[ch], maxes[ch]
			at := func(j int) int { return int(px[j] >> s & m) }
			var left, up, upLeft int
			if x > 0 {
				left = at(i - 1)
			}
			if i >= w {
				up = at(i - w)
				if x > 0 {
					upLeft = at(i - w - 1)
				}
			}
			est := uint32(min(max(left+up-upLeft, 0), int(m)))
			v |= (est + diff>>s&m) & m << s
		}
		px[i] = v
	}
}

// readCompactLength reads Tight's compact length: 1 to 3 bytes, 7 bits each but the third's 8.
func readCompactLength(rd io.Reader) (int, error) {
	var one [1]byte
	n := 0
	for i := range 3 {
		if _, err := io.ReadFull(rd, one[:]); err != nil {
			return 0, fmt.Errorf("read tight length: %w", err)
		}
		if i == 2 {
			return n | int(one[0])<<14, nil
		}
		n |= int(one[0]&0x7f) << (7 * i)
		if one[0]&0x80 == 0 {
			break
		}
	}
	return n, nil
}

// tightJPEG reads a JPEG rectangle, which must have the rectangle's size.
func (d *Decoder) tightJPEG(rd io.Reader, dst *frame.Frame, r frame.Rect) error {
	n, err := readCompactLength(rd)
	if err != nil {
		return err
	}
	// Grow with the bytes that arrive rather than trusting the length up front.
	d.jpeg.Reset()
	if _, err := io.CopyN(&d.jpeg, rd, int64(n)); err != nil {
		return fmt.Errorf("read tight jpeg: %w", noEOF(err))
	}
	b := d.jpeg.Bytes()
	if r.Empty() {
		return nil
	}
	// Check the size before decoding: a few bytes can declare an image of gigabytes.
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("tight jpeg: %w", err)
	}
	if cfg.Width != r.W || cfg.Height != r.H {
		return fmt.Errorf("tight jpeg of %dx%d for a %dx%d rectangle", cfg.Width, cfg.Height, r.W, r.H)
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("tight jpeg: %w", err)
	}
	for y := range r.H {
		row := dst.Row(r.X, r.Y+y, r.W)
		switch m := img.(type) {
		case *image.YCbCr:
			for x := range r.W {
				yi, ci := m.YOffset(x, y), m.COffset(x, y)
				cr, cg, cb := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = cb, cg, cr, 0
			}
		case *image.Gray:
			for x := range r.W {
				g := m.Pix[y*m.Stride+x]
				row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = g, g, g, 0
			}
		default:
			for x := range r.W {
				cr, cg, cb, _ := img.At(x, y).RGBA()
				row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = byte(cb>>8), byte(cg>>8), byte(cr>>8), 0
			}
		}
	}
	return nil
}
