package encoding

import (
	"encoding/binary"

	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/rfb/wire"
)

// raw appends r of f in the Raw encoding: every pixel, row after row.
// See RFC 6143, section 7.7.1.
func (e *Encoder) raw(dst []byte, f *frame.Frame, r frame.Rect) []byte {
	dst = appendRectHeader(dst, r, wire.EncodingRaw)
	dst = grow(dst, r.Area()*e.conv.bpp)[:len(dst)]
	for y := r.Y; y < r.Bottom(); y++ {
		dst = e.conv.appendRaw(dst, f.Row(r.X, y, r.W))
	}
	return dst
}

// AppendCopyRect appends a CopyRect rectangle: the viewer copies the area of r's size at
// (srcX, srcY) of its own framebuffer to r.
// See RFC 6143, section 7.7.2.
func AppendCopyRect(dst []byte, r frame.Rect, srcX, srcY int) []byte {
	dst = appendRectHeader(dst, r, wire.EncodingCopyRect)
	dst = binary.BigEndian.AppendUint16(dst, uint16(srcX))
	return binary.BigEndian.AppendUint16(dst, uint16(srcY))
}
