package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// PixelFormatLength is the size of a PixelFormat on the wire.
const PixelFormatLength = 16

// ErrBadPixelFormat reports a pixel format that [PixelFormat.Validate] refuses.
var ErrBadPixelFormat = errors.New("wire: bad pixel format")

// ErrColourMap reports a colour-map (palette) pixel format. buktu serves true colour only, so
// such formats are refused; the error also matches [ErrBadPixelFormat].
var ErrColourMap = errors.New("wire: colour-map pixel formats are not supported")

// PixelFormat says how a pixel value is laid out on the wire. Flags that are non-zero on the
// wire parse as true; the three padding bytes are ignored.
// See RFC 6143, section 7.4.
type PixelFormat struct {
	BitsPerPixel uint8 // 8, 16 or 32
	Depth        uint8 // useful bits in a pixel value, at most BitsPerPixel
	BigEndian    bool  // multi-byte pixel values are big-endian
	TrueColour   bool  // false means the pixel value indexes a colour map

	// RedMax is the largest red value, 2^n-1 for n bits of red; RedShift is where those bits
	// start in the pixel value, counted from the least significant bit. Likewise for green
	// and blue. They mean something only when TrueColour is set.
	RedMax, GreenMax, BlueMax       uint16
	RedShift, GreenShift, BlueShift uint8
}

// BGRX is the server's native format: the X server's 24-bit depth in 32-bit little-endian
// pixels, whose bytes in memory are blue, green, red and an unused byte.
func BGRX() PixelFormat {
	return PixelFormat{
		BitsPerPixel: 32, Depth: 24, TrueColour: true,
		RedMax: 255, GreenMax: 255, BlueMax: 255,
		RedShift: 16, GreenShift: 8, BlueShift: 0,
	}
}

// RGBX is the format noVNC asks for: 32-bit little-endian pixels whose bytes in memory are red,
// green, blue and an unused byte, as a browser's canvas holds them.
func RGBX() PixelFormat {
	return PixelFormat{
		BitsPerPixel: 32, Depth: 24, TrueColour: true,
		RedMax: 255, GreenMax: 255, BlueMax: 255,
		RedShift: 0, GreenShift: 8, BlueShift: 16,
	}
}

// RGB565 is the common 16-bit little-endian format: 5 bits of red, 6 of green, 5 of blue.
func RGB565() PixelFormat {
	return PixelFormat{
		BitsPerPixel: 16, Depth: 16, TrueColour: true,
		RedMax: 31, GreenMax: 63, BlueMax: 31,
		RedShift: 11, GreenShift: 5, BlueShift: 0,
	}
}

// BGR233 is the 8-bit true-colour format of TigerVNC's lowest colour level: 3 bits of red in the
// low bits, 3 of green, 2 of blue in the high bits.
func BGR233() PixelFormat {
	return PixelFormat{
		BitsPerPixel: 8, Depth: 8, TrueColour: true,
		RedMax: 7, GreenMax: 7, BlueMax: 3,
		RedShift: 0, GreenShift: 3, BlueShift: 6,
	}
}

// ParsePixelFormat parses the 16 bytes of a pixel format. It checks only the length; call
// [PixelFormat.Validate] before using the format.
// See RFC 6143, section 7.4.
func ParsePixelFormat(b []byte) (PixelFormat, error) {
	if len(b) != PixelFormatLength {
		return PixelFormat{}, fmt.Errorf("parse pixel format: %d bytes, want %d", len(b), PixelFormatLength)
	}
	return PixelFormat{
		BitsPerPixel: b[0],
		Depth:        b[1],
		BigEndian:    b[2] != 0,
		TrueColour:   b[3] != 0,
		RedMax:       binary.BigEndian.Uint16(b[4:]),
		GreenMax:     binary.BigEndian.Uint16(b[6:]),
		BlueMax:      binary.BigEndian.Uint16(b[8:]),
		RedShift:     b[10],
		GreenShift:   b[11],
		BlueShift:    b[12],
	}, nil
}

// Append appends the 16 bytes of pf, padding included.
func (pf PixelFormat) Append(b []byte) []byte {
	b = append(b, pf.BitsPerPixel, pf.Depth, boolByte(pf.BigEndian), boolByte(pf.TrueColour))
	b = binary.BigEndian.AppendUint16(b, pf.RedMax)
	b = binary.BigEndian.AppendUint16(b, pf.GreenMax)
	b = binary.BigEndian.AppendUint16(b, pf.BlueMax)
	return append(b, pf.RedShift, pf.GreenShift, pf.BlueShift, 0, 0, 0)
}

// BytesPerPixel is the size of one pixel value on the wire: 1, 2 or 4 for a valid format.
func (pf PixelFormat) BytesPerPixel() int { return (int(pf.BitsPerPixel) + 7) / 8 }

// Validate reports whether buktu can send pixels in pf. It wants 8, 16 or 32 bits per pixel, a
// depth no larger than that, and true colour whose channel maxima are 2^n-1 (n at least 1) and
// whose channels fit inside the pixel without overlapping. It refuses colour-map formats with an
// error matching both [ErrBadPixelFormat] and [ErrColourMap]; other refusals match
// ErrBadPixelFormat. Depth is otherwise not checked against the channels: clients disagree about
// it, and no encoder needs it.
func (pf PixelFormat) Validate() error {
	switch pf.BitsPerPixel {
	case 8, 16, 32:
	default:
		return fmt.Errorf("%w: %d bits per pixel, want 8, 16 or 32", ErrBadPixelFormat, pf.BitsPerPixel)
	}
	if pf.Depth > pf.BitsPerPixel {
		return fmt.Errorf("%w: depth %d over %d bits per pixel", ErrBadPixelFormat, pf.Depth, pf.BitsPerPixel)
	}
	if !pf.TrueColour {
		return fmt.Errorf("%w: %w", ErrBadPixelFormat, ErrColourMap)
	}
	var used uint32
	for _, c := range []struct {
		name  string
		max   uint16
		shift uint8
	}{{"red", pf.RedMax, pf.RedShift}, {"green", pf.GreenMax, pf.GreenShift}, {"blue", pf.BlueMax, pf.BlueShift}} {
		if c.max == 0 || c.max&(c.max+1) != 0 {
			return fmt.Errorf("%w: %s max %d is not 2^n-1", ErrBadPixelFormat, c.name, c.max)
		}
		n := bits.Len16(c.max)
		if int(c.shift)+n > int(pf.BitsPerPixel) {
			return fmt.Errorf("%w: %s bits %d..%d outside %d bits per pixel", ErrBadPixelFormat, c.name, c.shift, int(c.shift)+n-1, pf.BitsPerPixel)
		}
		mask := uint32(c.max) << c.shift
		if used&mask != 0 {
			return fmt.Errorf("%w: %s bits overlap another channel", ErrBadPixelFormat, c.name)
		}
		used |= mask
	}
	return nil
}

// String describes pf for logs, such as "32bpp depth 24 LE rgb max 255/255/255 shift 16/8/0".
func (pf PixelFormat) String() string {
	order := "LE"
	if pf.BigEndian {
		order = "BE"
	}
	if !pf.TrueColour {
		return fmt.Sprintf("%dbpp depth %d %s colour-map", pf.BitsPerPixel, pf.Depth, order)
	}
	return fmt.Sprintf("%dbpp depth %d %s rgb max %d/%d/%d shift %d/%d/%d", pf.BitsPerPixel, pf.Depth, order,
		pf.RedMax, pf.GreenMax, pf.BlueMax, pf.RedShift, pf.GreenShift, pf.BlueShift)
}
