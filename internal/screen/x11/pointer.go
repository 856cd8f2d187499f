package x11

import (
	"encoding/binary"
	"fmt"

	"github.com/buktu/buktu/internal/frame"
	"github.com/jezek/xgb/xfixes"
	"github.com/jezek/xgb/xproto"
)

// pointerState is what a Conn last told the server about the pointer.
type pointerState struct {
	x, y    int
	buttons uint8
	moved   bool // x and y have been sent at least once
}

// Pointer moves the pointer to (x, y), clamped to the screen, then presses and releases
// buttons so that those set in the mask are down, as an RFB PointerEvent asks: bit 0 is
// button 1 (left), bit 1 the middle, bit 2 the right button, bits 3 and 4 the wheel up and
// down (buttons 4 and 5), bits 5 and 6 the wheel left and right (6 and 7), bit 7 button 8.
// See RFC 6143, section 7.5.5.
func (c *Conn) Pointer(buttons uint8, x, y int) error {
	if !c.has.xtest {
		return fmt.Errorf("move pointer: XTEST: %w", ErrUnsupported)
	}
	c.ptrMu.Lock()
	defer c.ptrMu.Unlock()
	return c.pointerLocked(buttons, x, y)
}

func (c *Conn) pointerLocked(buttons uint8, x, y int) error {
	w, h := c.Size()
	x, y = max(0, min(x, w-1)), max(0, min(y, h-1))
	p := &c.ptr
	if !p.moved || x != p.x || y != p.y {
		if err := c.fake(xproto.MotionNotify, 0, int16(x), int16(y)); err != nil {
			return err
		}
		p.x, p.y, p.moved = x, y, true
	}
	changed := buttons ^ p.buttons
	for i := range 8 {
		bit := uint8(1) << i
		if changed&bit == 0 {
			continue
		}
		typ := byte(xproto.ButtonRelease)
		if buttons&bit != 0 {
			typ = xproto.ButtonPress
		}
		if err := c.fake(typ, byte(i+1), 0, 0); err != nil {
			return err
		}
		p.buttons ^= bit
	}
	return nil
}

// Cursor returns the cursor's current shape (XFIXES): img holds its pixels as B, G, R, A
// bytes, with the colours premultiplied by alpha A (the X byte of a frame.Frame carries
// alpha here); (hotX, hotY) is the pixel that points. serial changes with the shape, so
// comparing it with CursorSerial tells whether the shape is still current.
func (c *Conn) Cursor() (img *frame.Frame, serial uint32, hotX, hotY int, err error) {
	if !c.has.xfixes {
		return nil, 0, 0, 0, fmt.Errorf("read cursor: XFIXES: %w", ErrUnsupported)
	}
	r, err := xfixes.GetCursorImage(c.xc).Reply()
	if err != nil {
		return nil, 0, 0, 0, c.wrap("read cursor", err)
	}
	img = frame.New(int(r.Width), int(r.Height))
	for i, p := range r.CursorImage[:min(len(r.CursorImage), img.W*img.H)] {
		binary.LittleEndian.PutUint32(img.Pix[4*i:], p)
	}
	c.cursorSerial.Store(r.CursorSerial)
	return img, r.CursorSerial, int(r.Xhot), int(r.Yhot), nil
}
