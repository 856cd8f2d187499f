package encoding

import (
	"fmt"
	"image"
	"image/jpeg"
	"sync"

	"github.com/buktu/buktu/internal/frame"
)

// JPEGEncoder compresses part of a frame to a baseline JPEG for Tight. [StdJPEG] uses the
// standard library; [NewJPEG] returns the fastest this build has (libjpeg-turbo with the
// turbojpeg build tag and cgo). Implementations must be safe for concurrent use.
type JPEGEncoder interface {
	// AppendJPEG appends the JPEG of the pixels of r in f at quality 1 (small) to 100 (good).
	// On error it returns dst as it was: r empty or outside f is an error, not a panic.
	AppendJPEG(dst []byte, f *frame.Frame, r frame.Rect, quality int) ([]byte, error)
}

// checkJPEGRect returns an error unless r is a non-empty rectangle of f whose pixels f.Pix
// holds: encoders read the pixels without further checks, libjpeg-turbo in C.
func checkJPEGRect(f *frame.Frame, r frame.Rect) error {
	switch {
	case r.Empty():
		return fmt.Errorf("jpeg of %v: empty rectangle", r)
	case !r.In(f.Bounds()):
		return fmt.Errorf("jpeg of %v: outside the %dx%d frame", r, f.W, f.H)
	case f.Stride < r.Right()*frame.BytesPerPixel || len(f.Pix) < f.Offset(r.Right(), r.Bottom()-1):
		return fmt.Errorf("jpeg of %v: the %dx%d frame holds too few pixels", r, f.W, f.H)
	}
	return nil
}

// StdJPEG is the JPEGEncoder of the standard library's image/jpeg. Its zero value is ready;
// use it by pointer.
type StdJPEG struct {
	pool sync.Pool // of *image.RGBA, for the conversion from the native layout
}

// AppendJPEG implements JPEGEncoder.
func (j *StdJPEG) AppendJPEG(dst []byte, f *frame.Frame, r frame.Rect, quality int) ([]byte, error) {
	if err := checkJPEGRect(f, r); err != nil {
		return dst, err
	}
	img, _ := j.pool.Get().(*image.RGBA)
	if img == nil {
		img = new(image.RGBA)
	}
	defer j.pool.Put(img)
	n := r.W * r.H * 4
	if cap(img.Pix) < n {
		img.Pix = make([]byte, n)
	}
	img.Pix, img.Stride, img.Rect = img.Pix[:n], r.W*4, image.Rect(0, 0, r.W, r.H)
	for y := range r.H {
		src := f.Row(r.X, r.Y+y, r.W)
		out := img.Pix[y*img.Stride : y*img.Stride+r.W*4]
		for i := 0; i < len(out); i += 4 {
			out[i], out[i+1], out[i+2], out[i+3] = src[i+2], src[i+1], src[i], 0xff
		}
	}
	w := appendWriter{dst}
	if err := jpeg.Encode(&w, img, &jpeg.Options{Quality: quality}); err != nil {
		return dst, fmt.Errorf("jpeg of %v: %w", r, err)
	}
	return w.b, nil
}

// jpegQuality maps Tight's quality levels 0 to 9 to JPEG qualities.
func jpegQuality(level int) int {
	q := [10]int{15, 25, 35, 45, 55, 65, 75, 82, 90, 95}
	return q[min(max(level, 0), 9)]
}
