package encoding

import (
	"fmt"
	"io"

	"github.com/buktu/buktu/internal/frame"
)

// decodeHextile reads a Hextile body into r of dst.
// See RFC 6143, section 7.7.4.
func (d *Decoder) decodeHextile(rd io.Reader, dst *frame.Frame, r frame.Rect) error {
	p := d.conv.pixel()
	var bg, fg uint32
	var one [1]byte
	vals := d.values(256)
	for ty := r.Y; ty < r.Bottom(); ty += 16 {
		for tx := r.X; tx < r.Right(); tx += 16 {
			t := frame.Rect{X: tx, Y: ty, W: min(16, r.Right()-tx), H: min(16, r.Bottom()-ty)}
			if _, err := io.ReadFull(rd, one[:]); err != nil {
				return fmt.Errorf("read hextile tile at %d,%d: %w", tx, ty, err)
			}
			mask := one[0]
			if mask&hextileRaw != 0 {
				b := d.bytes(t.Area() * p.size)
				if _, err := io.ReadFull(rd, b); err != nil {
					return fmt.Errorf("read raw hextile tile: %w", err)
				}
				for y := range t.H {
					d.putRow(dst.Row(t.X, t.Y+y, t.W), b[y*t.W*p.size:(y+1)*t.W*p.size], p)
				}
				continue
			}
			// Background, foreground and subrectangle count, as far as the mask has them.
			n := 0
			if mask&hextileBackground != 0 {
				n += p.size
			}
			if mask&hextileForeground != 0 {
				n += p.size
			}
			if mask&hextileAnySubrects != 0 {
				n++
			}
			head := d.bytes(n)
			if _, err := io.ReadFull(rd, head); err != nil {
				return fmt.Errorf("read hextile tile header: %w", err)
			}
			if mask&hextileBackground != 0 {
				bg, head = p.get(head), head[p.size:]
			}
			if mask&hextileForeground != 0 {
				fg, head = p.get(head), head[p.size:]
			}
			px := vals[:t.Area()]
			for i := range px {
				px[i] = bg
			}
			if mask&hextileAnySubrects != 0 {
				count := int(head[0])
				size := 2
				if mask&hextileSubrectsColoured != 0 {
					size += p.size
				}
				b := d.bytes(count * size)
				if _, err := io.ReadFull(rd, b); err != nil {
					return fmt.Errorf("read hextile subrectangles: %w", err)
				}
				for ; len(b) > 0; b = b[size:] {
					c := fg
					if mask&hextileSubrectsColoured != 0 {
						c = p.get(b)
					}
					xy, wh := b[size-2], b[size-1]
					sx, sy := int(xy>>4), int(xy&15)
					sw, sh := int(wh>>4)+1, int(wh&15)+1
					if sx+sw > t.W || sy+sh > t.H {
						return fmt.Errorf("hextile subrectangle %dx%d+%d+%d outside its %dx%d tile", sw, sh, sx, sy, t.W, t.H)
					}
					for y := sy; y < sy+sh; y++ {
						row := px[y*t.W+sx : y*t.W+sx+sw]
						for i := range row {
							row[i] = c
						}
					}
				}
			}
			d.putValues(dst, t, px)
		}
	}
	return nil
}
