package encoding

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/buktu/buktu/internal/frame"
)

// decodeRaw reads a Raw body into r of dst.
func (d *Decoder) decodeRaw(rd io.Reader, dst *frame.Frame, r frame.Rect) error {
	p := d.conv.pixel()
	row := d.bytes(r.W * p.size)
	for y := r.Y; y < r.Bottom(); y++ {
		if _, err := io.ReadFull(rd, row); err != nil {
			return fmt.Errorf("read raw row: %w", err)
		}
		d.putRow(dst.Row(r.X, y, r.W), row, p)
	}
	return nil
}

// decodeCopyRect reads a CopyRect body and copies within dst.
func (d *Decoder) decodeCopyRect(rd io.Reader, dst *frame.Frame, r frame.Rect) error {
	var b [4]byte
	if _, err := io.ReadFull(rd, b[:]); err != nil {
		return fmt.Errorf("read copyrect source: %w", err)
	}
	src := frame.Rect{X: int(binary.BigEndian.Uint16(b[:])), Y: int(binary.BigEndian.Uint16(b[2:])), W: r.W, H: r.H}
	if !src.In(dst.Bounds()) {
		return fmt.Errorf("copyrect source %v outside the %dx%d framebuffer", src, dst.W, dst.H)
	}
	dst.Copy(r.X, r.Y, dst, src)
	return nil
}
