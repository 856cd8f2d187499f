package x11

import (
	"fmt"

	"github.com/buktu/buktu/internal/frame"
	"github.com/jezek/xgb/damage"
	"github.com/jezek/xgb/shm"
	"github.com/jezek/xgb/xfixes"
	"github.com/jezek/xgb/xproto"
)

// Damaged returns the parts of the screen drawn on since the last call, as the X server's
// DAMAGE extension accumulated them, and empties that record, which also re-arms Wake: call
// it before capturing, so what is drawn while the capture runs wakes the next round. ok is
// false when the display offers no DAMAGE; then only capturing the whole screen and
// comparing finds changes.
func (c *Conn) Damaged() (g frame.Region, ok bool, err error) {
	if !c.has.damage {
		return g, false, nil
	}
	c.capMu.Lock()
	defer c.capMu.Unlock()
	damage.Subtract(c.xc, c.dmg, 0, c.parts)
	r, err := xfixes.FetchRegion(c.xc, c.parts).Reply()
	if err != nil {
		return g, false, c.wrap("read damage", err)
	}
	w, h := c.Size()
	screen := frame.Rect{W: w, H: h}
	for _, x := range r.Rectangles {
		rect := frame.Rect{X: int(x.X), Y: int(x.Y), W: int(x.Width), H: int(x.Height)}.Intersect(screen)
		if !rect.Empty() {
			g.Add(rect)
		}
	}
	return g, true, nil
}

// CaptureRects copies the pixels of rs from the screen into dst, which must have the
// screen's size (hold the screen as it was, and only rs are refreshed). The reads are
// pipelined: with MIT-SHM every rectangle gets its own place in the shared segment, so one
// round trip's wait covers them all.
func (c *Conn) CaptureRects(dst *frame.Frame, rs []frame.Rect) error {
	c.capMu.Lock()
	defer c.capMu.Unlock()
	w, h := c.Size()
	if dst.W != w || dst.H != h {
		return fmt.Errorf("capture part of the screen: frame is %dx%d, screen %dx%d", dst.W, dst.H, w, h)
	}
	screen := frame.Rect{W: w, H: h}
	seg := c.segmentLocked(w * h * 4)
	if seg == nil {
		for _, r := range rs {
			if err := c.getImageRect(dst, r.Intersect(screen)); err != nil {
				return err
			}
		}
		return nil
	}
	reads := make([]shmRead, 0, len(rs))
	offset := 0
	for _, r := range rs {
		r = r.Intersect(screen)
		n := r.Area() * 4
		if n == 0 {
			continue
		}
		if offset+n > len(seg.data) {
			// Overlapping rectangles can add up to more than the screen: wait for what
			// is in flight, then start again at the segment's beginning.
			if err := c.finishReads(dst, seg, reads); err != nil {
				return err
			}
			reads, offset = reads[:0], 0
		}
		reads = append(reads, shmRead{r, offset, shm.GetImage(c.xc, xproto.Drawable(c.root),
			int16(r.X), int16(r.Y), uint16(r.W), uint16(r.H), 0xffffffff,
			xproto.ImageFormatZPixmap, seg.seg, uint32(offset))})
		offset += n
	}
	return c.finishReads(dst, seg, reads)
}

// shmRead is one rectangle being read into the shared segment at offset.
type shmRead struct {
	r      frame.Rect
	offset int
	cookie shm.GetImageCookie
}

// finishReads waits for reads and converts what they brought into dst.
func (c *Conn) finishReads(dst *frame.Frame, seg *shmSegment, reads []shmRead) error {
	for _, rd := range reads {
		if _, err := rd.cookie.Reply(); err != nil {
			return c.wrap("capture part of the screen (MIT-SHM)", err)
		}
		c.format.convertRect(dst, rd.r, seg.data[rd.offset:rd.offset+rd.r.Area()*4])
	}
	return nil
}

// getImageRect reads r with core GetImage, in strips requested all at once.
func (c *Conn) getImageRect(dst *frame.Frame, r frame.Rect) error {
	if r.Empty() {
		return nil
	}
	rows := max(1, stripBytes/(r.W*4))
	cookies := make([]xproto.GetImageCookie, 0, (r.H+rows-1)/rows)
	for y := 0; y < r.H; y += rows {
		n := min(rows, r.H-y)
		cookies = append(cookies, xproto.GetImage(c.xc, xproto.ImageFormatZPixmap,
			xproto.Drawable(c.root), int16(r.X), int16(r.Y+y), uint16(r.W), uint16(n), 0xffffffff))
	}
	for i, ck := range cookies {
		reply, err := ck.Reply()
		if err != nil {
			return c.wrap("capture screen (GetImage)", err)
		}
		y := i * rows
		c.format.convertRect(dst, frame.Rect{X: r.X, Y: r.Y + y, W: r.W, H: min(rows, r.H-y)}, reply.Data)
	}
	return nil
}
