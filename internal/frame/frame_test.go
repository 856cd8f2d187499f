package frame

import (
	"math/rand/v2"
	"testing"
)

// noise returns a w×h frame of random pixels.
func noise(w, h int, seed uint64) *Frame {
	f := New(w, h)
	rng := rand.New(rand.NewPCG(seed, 7))
	for i := range f.Pix {
		f.Pix[i] = byte(rng.Uint32())
	}
	return f
}

func TestFillAndSub(t *testing.T) {
	f := New(10, 8)
	f.Fill(Rect{2, 3, 4, 2}, 0x00123456)
	s := f.Sub(Rect{2, 3, 100, 100})
	if s.W != 8 || s.H != 5 {
		t.Fatalf("Sub size = %dx%d; want 8x5", s.W, s.H)
	}
	if got := s.Pixel(0, 0); got != 0x00123456 {
		t.Errorf("Sub.Pixel(0, 0) = %#x; want 0x123456", got)
	}
	if got := s.Pixel(4, 0); got != 0 {
		t.Errorf("Sub.Pixel(4, 0) = %#x; want 0", got)
	}
	s.SetPixel(7, 4, 0xabcdef)
	if got := f.Pixel(9, 7); got != 0xabcdef {
		t.Errorf("a pixel set in Sub reads %#x in the parent; want 0xabcdef", got)
	}
	if b := f.Pix[f.Offset(2, 3):]; b[0] != 0x56 || b[1] != 0x34 || b[2] != 0x12 {
		t.Errorf("pixel bytes = % x; want B, G, R = 56 34 12", b[:4])
	}
}

func TestCopy(t *testing.T) {
	tests := []struct {
		name   string
		x, y   int
		r      Rect
		dx, dy int // where r's pixels should land
	}{
		{"down and right overlapping", 3, 5, Rect{1, 1, 10, 10}, 3, 5},
		{"up and left overlapping", 0, 0, Rect{2, 3, 12, 12}, 0, 0},
		{"same row right", 4, 2, Rect{2, 2, 10, 4}, 4, 2},
		{"clipped destination", 14, 14, Rect{0, 0, 8, 8}, 14, 14},
		{"clipped source", 2, 2, Rect{-2, -2, 6, 6}, 4, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := noise(16, 16, 1)
			f := orig.Clone()
			f.Copy(tt.x, tt.y, f, tt.r)
			src := tt.r.Intersect(orig.Bounds())
			for y := range 16 {
				for x := range 16 {
					want := orig.Pixel(x, y)
					sx, sy := x-tt.dx+src.X, y-tt.dy+src.Y
					if src.Contains(sx, sy) {
						want = orig.Pixel(sx, sy)
					}
					if got := f.Pixel(x, y); got != want {
						t.Fatalf("after Copy(%d, %d, f, %v): pixel (%d, %d) = %#x; want %#x",
							tt.x, tt.y, tt.r, x, y, got, want)
					}
				}
			}
		})
	}
}

func TestDiff(t *testing.T) {
	prev := noise(300, 200, 1)
	tests := []struct {
		name    string
		touch   [][2]int // pixels to change
		tile    int
		want    []Rect
		wantLen int
	}{
		{"nothing", nil, 64, nil, 0},
		{"one pixel", [][2]int{{70, 10}}, 64, []Rect{{64, 0, 64, 64}}, 1},
		{"corner tiles are smaller", [][2]int{{299, 199}}, 64, []Rect{{256, 192, 44, 8}}, 1},
		{"two tiles side by side merge", [][2]int{{1, 1}, {65, 63}}, 64, []Rect{{0, 0, 128, 64}}, 1},
		{"two tiles stacked merge", [][2]int{{1, 1}, {1, 64}, {1, 130}, {1, 199}}, 64, []Rect{{0, 0, 64, 200}}, 1},
		{"small tiles", [][2]int{{17, 17}}, 16, []Rect{{16, 16, 16, 16}}, 1},
		{"default tile", [][2]int{{70, 10}}, 0, []Rect{{64, 0, 64, 64}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := prev.Clone()
			for _, p := range tt.touch {
				cur.SetPixel(p[0], p[1], ^cur.Pixel(p[0], p[1]))
			}
			got := Diff(prev, cur, tt.tile).Rects()
			if len(got) != tt.wantLen {
				t.Fatalf("Diff = %v; want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("Diff = %v; want %v", got, tt.want)
				}
			}
		})
	}
	t.Run("everything", func(t *testing.T) {
		got := Diff(prev, noise(300, 200, 2), 64).Rects()
		if len(got) != 1 || got[0] != prev.Bounds() {
			t.Errorf("Diff of a whole new frame = %v; want one rectangle, the bounds", got)
		}
	})
	t.Run("size change", func(t *testing.T) {
		got := Diff(prev, New(10, 10), 64).Rects()
		if len(got) != 1 || got[0] != (Rect{0, 0, 10, 10}) {
			t.Errorf("Diff of different sizes = %v; want the new bounds", got)
		}
	})
	t.Run("random tiles", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		for range 50 {
			cur := prev.Clone()
			var want Region
			for range rng.IntN(30) {
				x, y := rng.IntN(300), rng.IntN(200)
				cur.SetPixel(x, y, ^cur.Pixel(x, y))
				want.Add(Rect{x / 32 * 32, y / 32 * 32, 32, 32}.Intersect(cur.Bounds()))
			}
			got := Diff(prev, cur, 32)
			if got.Area() != want.Area() {
				t.Fatalf("Diff area = %d; want %d", got.Area(), want.Area())
			}
			for _, r := range got.Rects() {
				for y := r.Y; y < r.Bottom(); y++ {
					for x := r.X; x < r.Right(); x++ {
						if !want.Contains(x, y) {
							t.Fatalf("Diff holds (%d, %d), in no changed tile", x, y)
						}
					}
				}
			}
		}
	})
}

func TestFindScroll(t *testing.T) {
	base := noise(200, 300, 9)
	tests := []struct {
		name    string
		dy      int
		r       Rect
		wantOK  bool
		wantDst Rect
	}{
		{"down 7", 7, Rect{0, 0, 200, 300}, true, Rect{0, 7, 200, 293}},
		{"up 40", -40, Rect{0, 0, 200, 300}, true, Rect{0, 0, 200, 260}},
		{"inside r", -3, Rect{0, 100, 200, 100}, true, Rect{0, 100, 200, 97}},
		{"no change", 0, Rect{0, 0, 200, 300}, false, Rect{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := base.Clone()
			// Scroll the rows of r by dy, filling the uncovered rows with fresh content.
			fresh := noise(200, 300, 10)
			for y := tt.r.Y; y < tt.r.Bottom(); y++ {
				src := y - tt.dy
				if src >= tt.r.Y && src < tt.r.Bottom() {
					copy(cur.Row(0, y, 200), base.Row(0, src, 200))
				} else {
					copy(cur.Row(0, y, 200), fresh.Row(0, y, 200))
				}
			}
			got, ok := FindScroll(base, cur, tt.r)
			if ok != tt.wantOK || ok && (got.Dy != tt.dy || got.Dst != tt.wantDst) {
				t.Fatalf("FindScroll(%v) = %+v, %v; want dy %d, dst %v, %v",
					tt.r, got, ok, tt.dy, tt.wantDst, tt.wantOK)
			}
			if ok && got.Src() != tt.wantDst.Offset(0, -tt.dy) {
				t.Errorf("Src() = %v; want %v", got.Src(), tt.wantDst.Offset(0, -tt.dy))
			}
		})
	}
	t.Run("unrelated", func(t *testing.T) {
		if got, ok := FindScroll(base, noise(200, 300, 11), base.Bounds()); ok {
			t.Errorf("FindScroll of unrelated frames = %+v, true; want false", got)
		}
	})
}

// screen returns a 1920×1080 frame like a desktop: flat areas and some noisy windows.
func screen() *Frame {
	f := New(1920, 1080)
	f.Fill(f.Bounds(), 0x003a6ea5)
	n := noise(800, 600, 5)
	f.Copy(200, 150, n, n.Bounds())
	return f
}

func BenchmarkDiff(b *testing.B) {
	for _, bc := range []struct {
		name  string
		touch int
	}{{"none", 0}, {"few", 5}, {"many", 400}} {
		b.Run(bc.name, func(b *testing.B) {
			prev := screen()
			cur := prev.Clone()
			rng := rand.New(rand.NewPCG(1, 1))
			for range bc.touch {
				x, y := rng.IntN(1920), rng.IntN(1080)
				cur.SetPixel(x, y, ^cur.Pixel(x, y))
			}
			b.SetBytes(int64(len(cur.Pix)))
			b.ReportAllocs()
			for b.Loop() {
				Diff(prev, cur, DefaultTile)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/frame")
		})
	}
}

func BenchmarkFindScroll(b *testing.B) {
	prev := screen()
	cur := prev.Clone()
	cur.Copy(0, 30, prev, Rect{0, 0, 1920, 1050})
	b.SetBytes(int64(len(cur.Pix)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := FindScroll(prev, cur, cur.Bounds()); !ok {
			b.Fatal("no scroll found")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/frame")
}

// BenchmarkFindScrollVideo is the common case of a large change that did not scroll: every
// pixel changed, as in a video, and the search should give up cheaply.
func BenchmarkFindScrollVideo(b *testing.B) {
	prev := screen()
	cur := prev.Clone()
	for i := range cur.Pix {
		cur.Pix[i] ^= byte(i*7 + 1)
	}
	b.SetBytes(int64(len(cur.Pix)))
	for b.Loop() {
		if _, ok := FindScroll(prev, cur, cur.Bounds()); ok {
			b.Fatal("a scroll found in a video frame")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/frame")
}
