package frame

import "encoding/binary"

// BytesPerPixel is the size of one pixel in a Frame.
const BytesPerPixel = 4

// Frame is an image in the native layout: W×H pixels of 4 bytes (B, G, R, X), row y starting
// at Pix[y*Stride]. A Frame made by [Frame.Sub] shares Pix with its parent.
type Frame struct {
	W, H, Stride int
	Pix          []byte
}

// New returns a black w×h frame.
func New(w, h int) *Frame {
	w, h = max(w, 0), max(h, 0)
	return &Frame{W: w, H: h, Stride: w * BytesPerPixel, Pix: make([]byte, w*h*BytesPerPixel)}
}

// Bounds returns the Rect of f's pixels, with its top-left corner at (0, 0).
func (f *Frame) Bounds() Rect { return Rect{0, 0, f.W, f.H} }

// Offset returns the index in Pix of the pixel at (x, y).
func (f *Frame) Offset(x, y int) int { return y*f.Stride + x*BytesPerPixel }

// Row returns the bytes of the w pixels starting at (x, y).
func (f *Frame) Row(x, y, w int) []byte {
	o := f.Offset(x, y)
	return f.Pix[o : o+w*BytesPerPixel : o+w*BytesPerPixel]
}

// Pixel returns the pixel at (x, y) as 0xXXRRGGBB.
func (f *Frame) Pixel(x, y int) uint32 {
	return binary.LittleEndian.Uint32(f.Pix[f.Offset(x, y):])
}

// SetPixel sets the pixel at (x, y) to c, given as 0xXXRRGGBB.
func (f *Frame) SetPixel(x, y int, c uint32) {
	binary.LittleEndian.PutUint32(f.Pix[f.Offset(x, y):], c)
}

// Fill sets every pixel of r (clipped to f) to c, given as 0xXXRRGGBB.
func (f *Frame) Fill(r Rect, c uint32) {
	r = r.Intersect(f.Bounds())
	if r.Empty() {
		return
	}
	first := f.Row(r.X, r.Y, r.W)
	for i := 0; i < len(first); i += BytesPerPixel {
		binary.LittleEndian.PutUint32(first[i:], c)
	}
	for y := r.Y + 1; y < r.Bottom(); y++ {
		copy(f.Row(r.X, y, r.W), first)
	}
}

// Sub returns the part of f in r (clipped to f) as a Frame sharing f's pixels, with r's
// top-left corner as its (0, 0).
func (f *Frame) Sub(r Rect) *Frame {
	r = r.Intersect(f.Bounds())
	if r.Empty() {
		return &Frame{}
	}
	start := f.Offset(r.X, r.Y)
	end := f.Offset(r.X+r.W, r.Y+r.H-1)
	return &Frame{W: r.W, H: r.H, Stride: f.Stride, Pix: f.Pix[start:end:end]}
}

// Clone returns a copy of f that shares no pixels with it, with rows packed (Stride 4*W).
func (f *Frame) Clone() *Frame {
	c := New(f.W, f.H)
	c.Copy(0, 0, f, f.Bounds())
	return c
}

// Copy copies the pixels of r in src so that r's top-left corner lands at (x, y) in f. Parts
// falling outside either frame are skipped. src may be f itself, with the areas overlapping:
// that is how a CopyRect is drawn.
func (f *Frame) Copy(x, y int, src *Frame, r Rect) {
	// Clip the source to src and the destination to f, moving the other side along.
	c := r.Intersect(src.Bounds())
	dx, dy := x+c.X-r.X, y+c.Y-r.Y
	d := Rect{dx, dy, c.W, c.H}.Intersect(f.Bounds())
	if d.Empty() {
		return
	}
	sx, sy := c.X+d.X-dx, c.Y+d.Y-dy
	if src == f && d.Y > sy {
		// Overlapping rows moving down: copy from the bottom up. Within a row, copy is memmove.
		for i := d.H - 1; i >= 0; i-- {
			copy(f.Row(d.X, d.Y+i, d.W), src.Row(sx, sy+i, d.W))
		}
		return
	}
	for i := range d.H {
		copy(f.Row(d.X, d.Y+i, d.W), src.Row(sx, sy+i, d.W))
	}
}
