package encoding

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/buktu/buktu/internal/frame"
)

// jpegEncoders are the JPEGEncoders of this build: StdJPEG always, and NewJPEG's when it is
// another (TurboJPEG with the turbojpeg tag).
func jpegEncoders() []struct {
	name string
	j    JPEGEncoder
} {
	list := []struct {
		name string
		j    JPEGEncoder
	}{{"StdJPEG", new(StdJPEG)}}
	if j := NewJPEG(); fmt.Sprintf("%T", j) != "*encoding.StdJPEG" {
		list = append(list, struct {
			name string
			j    JPEGEncoder
		}{strings.TrimPrefix(fmt.Sprintf("%T", j), "*encoding."), j})
	}
	return list
}

// jpegPSNR decodes b with image/jpeg, checks that it is r's size, and returns its PSNR
// against the pixels of r in f, in dB.
func jpegPSNR(t *testing.T, b []byte, f *frame.Frame, r frame.Rect) float64 {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("jpeg.Decode of the JPEG of %v: %v", r, err)
	}
	if got := img.Bounds().Size(); got != image.Pt(r.W, r.H) {
		t.Fatalf("JPEG of %v is %v; want %dx%d", r, got, r.W, r.H)
	}
	var sum float64
	for y := range r.H {
		for x := range r.W {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			p := f.Pixel(r.X+x, r.Y+y)
			for _, d := range []int{int(c.R) - int(p>>16&0xff), int(c.G) - int(p>>8&0xff), int(c.B) - int(p&0xff)} {
				sum += float64(d * d)
			}
		}
	}
	mse := sum / float64(3*r.Area())
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/mse)
}

func TestAppendJPEG(t *testing.T) {
	big := desktop(800, 600, 3)
	big.Copy(0, 0, photo(300, 200, 4), frame.Rect{W: 300, H: 200})
	// sub has a Stride of 4*800 for 4*333 bytes of pixels a row, and ends at its last pixel.
	sub := big.Sub(frame.Rect{X: 101, Y: 57, W: 333, H: 211})
	tests := []struct {
		name string
		f    *frame.Frame
		r    frame.Rect
	}{
		{"whole", big, big.Bounds()},
		{"1x1", big, frame.Rect{X: 150, Y: 100, W: 1, H: 1}},
		{"3x7", big, frame.Rect{X: 33, Y: 71, W: 3, H: 7}},
		{"odd offset", big, frame.Rect{X: 7, Y: 13, W: 257, H: 129}},
		{"right edge", big, frame.Rect{X: 800 - 45, Y: 300, W: 45, H: 31}},
		{"bottom-right corner", big, frame.Rect{X: 800 - 17, Y: 600 - 9, W: 17, H: 9}},
		{"sub whole", sub, sub.Bounds()},
		{"sub bottom-right", sub, frame.Rect{X: 333 - 29, Y: 211 - 5, W: 29, H: 5}},
		{"sub 3x7", sub, frame.Rect{X: 1, Y: 3, W: 3, H: 7}},
	}
	for _, enc := range jpegEncoders() {
		for _, tt := range tests {
			t.Run(enc.name+"/"+tt.name, func(t *testing.T) {
				prefix := []byte("prefix")
				got, err := enc.j.AppendJPEG(bytes.Clone(prefix), tt.f, tt.r, 90)
				if err != nil {
					t.Fatalf("AppendJPEG(%v, 90): %v", tt.r, err)
				}
				if !bytes.HasPrefix(got, prefix) {
					t.Fatalf("AppendJPEG(%v, 90) lost what dst held", tt.r)
				}
				if db := jpegPSNR(t, got[len(prefix):], tt.f, tt.r); db < 30 {
					t.Errorf("AppendJPEG(%v, 90): PSNR %.1f dB; want at least 30", tt.r, db)
				}
			})
		}
	}
}

func TestAppendJPEGBadInput(t *testing.T) {
	f := photo(64, 48, 1)
	short := &frame.Frame{W: 64, H: 48, Stride: 64 * 4, Pix: f.Pix[:64*4*10]}
	narrow := &frame.Frame{W: 64, H: 48, Stride: 16, Pix: f.Pix}
	tests := []struct {
		name string
		f    *frame.Frame
		r    frame.Rect
	}{
		{"empty", f, frame.Rect{X: 3, Y: 3}},
		{"no height", f, frame.Rect{X: 3, Y: 3, W: 10}},
		{"negative", f, frame.Rect{X: 3, Y: 3, W: -4, H: 5}},
		{"outside", f, frame.Rect{X: 60, Y: 40, W: 10, H: 10}},
		{"left of the frame", f, frame.Rect{X: -1, Y: 0, W: 10, H: 10}},
		{"empty frame", &frame.Frame{}, frame.Rect{W: 1, H: 1}},
		{"pixels too short", short, frame.Rect{X: 0, Y: 20, W: 8, H: 8}},
		{"stride too small", narrow, frame.Rect{X: 0, Y: 0, W: 8, H: 8}},
	}
	for _, enc := range jpegEncoders() {
		for _, tt := range tests {
			t.Run(enc.name+"/"+tt.name, func(t *testing.T) {
				got, err := enc.j.AppendJPEG([]byte("dst"), tt.f, tt.r, 90)
				if err == nil || string(got) != "dst" {
					t.Errorf("AppendJPEG(%v) = %d bytes, %v; want dst unchanged and an error", tt.r, len(got), err)
				}
			})
		}
	}
}

// TestAppendJPEGConcurrent compresses from several goroutines at once through one encoder
// and checks each result against the same call made alone: run it with -race.
func TestAppendJPEGConcurrent(t *testing.T) {
	f := desktop(640, 480, 9)
	var rects []frame.Rect
	for i := range 24 {
		rects = append(rects, frame.Rect{X: i * 13 % 500, Y: i * 17 % 400, W: 20 + i*5, H: 10 + i*3})
	}
	for _, enc := range jpegEncoders() {
		t.Run(enc.name, func(t *testing.T) {
			want := make([][]byte, len(rects))
			for i, r := range rects {
				var err error
				if want[i], err = enc.j.AppendJPEG(nil, f, r, 20+i*3); err != nil {
					t.Fatalf("AppendJPEG(%v): %v", r, err)
				}
			}
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Go(func() {
					var buf []byte
					for k := range 3 * len(rects) {
						i := (g*7 + k) % len(rects)
						got, err := enc.j.AppendJPEG(buf[:0], f, rects[i], 20+i*3)
						if err != nil || !bytes.Equal(got, want[i]) {
							t.Errorf("goroutine %d: AppendJPEG(%v) = %d bytes, %v; want the %d bytes made alone", g, rects[i], len(got), err, len(want[i]))
							return
						}
						buf = got
					}
				})
			}
			wg.Wait()
		})
	}
}

// BenchmarkJPEG compresses a whole 1920×1080 frame as one JPEG with each encoder of this
// build, at the qualities of Tight's levels 6 and 8.
func BenchmarkJPEG(b *testing.B) {
	for _, c := range benchFrames() {
		for _, level := range []int{6, 8} {
			for _, enc := range jpegEncoders() {
				b.Run(fmt.Sprintf("%s/q%d/%s", c.name, level, enc.name), func(b *testing.B) {
					var buf []byte
					b.SetBytes(int64(c.f.W * c.f.H * frame.BytesPerPixel))
					b.ReportAllocs()
					for b.Loop() {
						var err error
						if buf, err = enc.j.AppendJPEG(buf[:0], c.f, c.f.Bounds(), jpegQuality(level)); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/frame")
					b.ReportMetric(float64(len(buf))/1024, "KiB/frame")
				})
			}
		}
	}
}
