package x11

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	"github.com/buktu/buktu/internal/frame"
	"github.com/jezek/xgb"
	"github.com/jezek/xgb/shm"
	"github.com/jezek/xgb/xproto"
)

// stripBytes bounds one GetImage reply, so a large screen is read in pipelined strips
// rather than one huge allocation.
const stripBytes = 1 << 20

// pixelFormat is how the server lays out the root window's pixels in a ZPixmap.
type pixelFormat struct {
	depth, bpp       int
	msbFirst         bool
	red, green, blue uint32 // channel masks
}

// formatOf reads the root window's pixel format from the connection setup. Only 32 bits per
// pixel (depth 24 or 32) is supported.
func formatOf(info *xproto.SetupInfo, scr *xproto.ScreenInfo) (pixelFormat, error) {
	f := pixelFormat{depth: int(scr.RootDepth), msbFirst: info.ImageByteOrder == xproto.ImageOrderMSBFirst}
	for _, pf := range info.PixmapFormats {
		if pf.Depth == scr.RootDepth {
			f.bpp = int(pf.BitsPerPixel)
		}
	}
	for _, d := range scr.AllowedDepths {
		for _, v := range d.Visuals {
			if v.VisualId == scr.RootVisual {
				f.red, f.green, f.blue = v.RedMask, v.GreenMask, v.BlueMask
			}
		}
	}
	if f.bpp != 32 || f.red == 0 || f.green == 0 || f.blue == 0 {
		return f, fmt.Errorf("unsupported pixel format: depth %d, %d bits per pixel (need a depth-24 or depth-32 TrueColor screen)", f.depth, f.bpp)
	}
	return f, nil
}

// native reports whether the server's pixels are already B, G, R, X bytes.
func (f pixelFormat) native() bool {
	return !f.msbFirst && f.red == 0xff0000 && f.green == 0xff00 && f.blue == 0xff
}

// convertRect writes src, the rows of r in the server's format packed one after the other,
// to r in dst.
func (f pixelFormat) convertRect(dst *frame.Frame, r frame.Rect, src []byte) {
	rowBytes := r.W * frame.BytesPerPixel
	if rowBytes == 0 {
		return
	}
	for y := r.Y; y < r.Bottom() && len(src) >= rowBytes; y++ {
		row := dst.Row(r.X, y, r.W)
		if f.native() {
			copy(row, src[:rowBytes])
		} else {
			f.convertRow(row, src[:rowBytes])
		}
		src = src[rowBytes:]
	}
}

// convertRow is the slow path for 32-bit pixels with other masks or byte order.
func (f pixelFormat) convertRow(dst, src []byte) {
	var order binary.ByteOrder = binary.LittleEndian
	if f.msbFirst {
		order = binary.BigEndian
	}
	for i := 0; i+4 <= len(src); i += 4 {
		p := order.Uint32(src[i:])
		dst[i] = channel(p, f.blue)
		dst[i+1] = channel(p, f.green)
		dst[i+2] = channel(p, f.red)
		dst[i+3] = 0
	}
}

// channel extracts the bits of mask from p, scaled to 8 bits.
func channel(p, mask uint32) byte {
	shift := bits.TrailingZeros32(mask)
	width := bits.OnesCount32(mask)
	v := (p & mask) >> shift
	switch {
	case width >= 8:
		return byte(v >> (width - 8))
	case width == 0:
		return 0
	}
	return byte(v * 255 / (1<<width - 1))
}

// resize makes f a w×h frame, reusing its pixel storage when it is large enough.
func resize(f *frame.Frame, w, h int) {
	if f.W == w && f.H == h && f.Stride == w*frame.BytesPerPixel && len(f.Pix) == w*h*frame.BytesPerPixel {
		return
	}
	n := w * h * frame.BytesPerPixel
	if cap(f.Pix) >= n {
		f.W, f.H, f.Stride, f.Pix = w, h, w*frame.BytesPerPixel, f.Pix[:n]
		return
	}
	*f = *frame.New(w, h)
}

// Capture copies the whole screen into dst, resizing dst when the screen's size changed.
// It uses MIT-SHM when the server is local and accepts a shared segment, and core GetImage
// otherwise; both give the same bytes. The cursor is not part of the image.
func (c *Conn) Capture(dst *frame.Frame) error {
	c.capMu.Lock()
	defer c.capMu.Unlock()
	w, h := c.Size()
	err := c.captureLocked(dst, w, h)
	if err == nil || errors.Is(err, ErrClosed) {
		return err
	}
	// A size change not yet announced makes the server refuse the old rectangle: read the
	// size again and retry once.
	nw, nh, serr := c.refreshSize()
	if serr != nil || (nw == w && nh == h) {
		return err
	}
	return c.captureLocked(dst, nw, nh)
}

func (c *Conn) captureLocked(dst *frame.Frame, w, h int) error {
	resize(dst, w, h)
	if w == 0 || h == 0 {
		return nil
	}
	if seg := c.segmentLocked(w * h * 4); seg != nil {
		_, err := shm.GetImage(c.xc, xproto.Drawable(c.root), 0, 0, uint16(w), uint16(h),
			0xffffffff, xproto.ImageFormatZPixmap, seg.seg, 0).Reply()
		if err != nil {
			return c.wrap("capture screen (MIT-SHM)", err)
		}
		c.format.convertRect(dst, dst.Bounds(), seg.data[:w*h*4])
		return nil
	}
	return c.getImageRect(dst, dst.Bounds())
}

// segmentLocked returns a shared segment of at least size bytes, setting one up on first
// use or when the screen grew; nil means use GetImage.
func (c *Conn) segmentLocked(size int) *shmSegment {
	if !c.has.shm {
		return nil
	}
	if c.seg != nil && len(c.seg.data) >= size {
		return c.seg
	}
	if c.shmTried && c.seg == nil {
		return nil
	}
	c.shmTried = true
	if c.seg != nil {
		c.seg.detach(c.xc)
		c.seg = nil
	}
	seg, err := attachSHM(c.xc, size)
	if err == nil {
		err = c.verifySegment(seg)
		if err != nil {
			seg.detach(c.xc)
		}
	}
	if err != nil {
		c.log.Debug("MIT-SHM unavailable, using GetImage", "err", err)
		return nil
	}
	c.seg = seg
	return seg
}

// verifySegment checks that the server writes into our segment, not one of the same id in
// another IPC namespace (an X server in a container): the first pixel read through it must
// match the core GetImage one whatever the segment held before.
func (c *Conn) verifySegment(seg *shmSegment) error {
	core, err := xproto.GetImage(c.xc, xproto.ImageFormatZPixmap, xproto.Drawable(c.root),
		0, 0, 1, 1, 0xffffffff).Reply()
	if err != nil || len(core.Data) < 4 {
		return fmt.Errorf("read a pixel: %v", err)
	}
	for _, fill := range []byte{0x00, 0xff} {
		for i := range 4 {
			seg.data[i] = fill
		}
		_, err := shm.GetImage(c.xc, xproto.Drawable(c.root), 0, 0, 1, 1, 0xffffffff,
			xproto.ImageFormatZPixmap, seg.seg, 0).Reply()
		if err != nil {
			return fmt.Errorf("read a pixel through MIT-SHM: %w", err)
		}
		if string(seg.data[:4]) != string(core.Data[:4]) {
			return errors.New("the server does not share our memory")
		}
	}
	return nil
}

// shmSegment is a SysV shared memory segment attached both here and in the X server.
type shmSegment struct {
	seg  shm.Seg
	data []byte
}

// detach lets go of the segment on both sides; the kernel frees it then.
func (s *shmSegment) detach(xc *xgb.Conn) {
	shm.Detach(xc, s.seg)
	detachMemory(s.data)
}
