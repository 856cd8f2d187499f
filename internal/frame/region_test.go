package frame

import (
	"math/rand/v2"
	"testing"
)

// bitmap is a test oracle for Region: one bool per pixel of a small area.
type bitmap [64][64]bool

func (b *bitmap) set(r Rect, v bool) {
	r = r.Intersect(Rect{0, 0, 64, 64})
	for y := r.Y; y < r.Bottom(); y++ {
		for x := r.X; x < r.Right(); x++ {
			b[y][x] = v
		}
	}
}

func checkRegion(t *testing.T, what string, g Region, want *bitmap) {
	t.Helper()
	var got bitmap
	for _, r := range g.Rects() {
		for y := r.Y; y < r.Bottom(); y++ {
			for x := r.X; x < r.Right(); x++ {
				if got[y][x] {
					t.Fatalf("%s: rectangles overlap at (%d, %d): %v", what, x, y, g.Rects())
				}
				got[y][x] = true
			}
		}
	}
	if got != *want {
		t.Fatalf("%s: region %v does not hold the expected pixels", what, g.Rects())
	}
}

func randRect(rng *rand.Rand) Rect {
	x, y := rng.IntN(60), rng.IntN(60)
	return Rect{x, y, 1 + rng.IntN(min(20, 64-x)), 1 + rng.IntN(min(20, 64-y))}
}

func TestRegionRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var g Region
		var want bitmap
		for range 1 + rng.IntN(12) {
			r := randRect(rng)
			if rng.IntN(4) == 0 {
				g.Subtract(r)
				want.set(r, false)
				checkRegion(t, "Subtract", g, &want)
				continue
			}
			g.Add(r)
			want.set(r, true)
			checkRegion(t, "Add", g, &want)
		}
		clip := randRect(rng)
		var wantClip bitmap
		for y := range 64 {
			for x := range 64 {
				wantClip[y][x] = want[y][x] && clip.Contains(x, y)
			}
		}
		checkRegion(t, "Clip", g.Clip(clip), &wantClip)
		other := RegionOf(randRect(rng), randRect(rng))
		for _, r := range other.Rects() {
			want.set(r, true)
		}
		g.Union(other)
		checkRegion(t, "Union", g, &want)
		area := 0
		for y := range 64 {
			for x := range 64 {
				if want[y][x] {
					area++
					if !g.Contains(x, y) {
						t.Fatalf("round %d: Contains(%d, %d) = false", round, x, y)
					}
				}
			}
		}
		if g.Area() != area {
			t.Fatalf("round %d: Area() = %d; want %d", round, g.Area(), area)
		}
	}
}

func TestRegionMergesTiles(t *testing.T) {
	tests := []struct {
		name  string
		tiles []Rect
		want  []Rect
	}{
		{"row", []Rect{{0, 0, 64, 64}, {64, 0, 64, 64}, {128, 0, 64, 64}}, []Rect{{0, 0, 192, 64}}},
		{"block in raster order",
			[]Rect{{0, 0, 64, 64}, {64, 0, 64, 64}, {0, 64, 64, 64}, {64, 64, 64, 64}},
			[]Rect{{0, 0, 128, 128}}},
		{"column", []Rect{{0, 128, 64, 64}, {0, 0, 64, 64}, {0, 64, 64, 64}}, []Rect{{0, 0, 64, 192}}},
		{"duplicate", []Rect{{0, 0, 64, 64}, {0, 0, 64, 64}}, []Rect{{0, 0, 64, 64}}},
		{"apart", []Rect{{0, 0, 64, 64}, {128, 0, 64, 64}}, []Rect{{0, 0, 64, 64}, {128, 0, 64, 64}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RegionOf(tt.tiles...).Rects()
			if len(got) != len(tt.want) {
				t.Fatalf("RegionOf(%v).Rects() = %v; want %v", tt.tiles, got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("RegionOf(%v).Rects() = %v; want %v", tt.tiles, got, tt.want)
				}
			}
		})
	}
}

func TestRegionBounds(t *testing.T) {
	g := RegionOf(Rect{10, 10, 5, 5}, Rect{100, 50, 10, 10})
	if got, want := g.Bounds(), (Rect{10, 10, 100, 50}); got != want {
		t.Errorf("Bounds() = %v; want %v", got, want)
	}
	c := g.Clone()
	c.Reset()
	if g.Len() != 2 || !c.Empty() {
		t.Errorf("Clone then Reset: original has %d rects, clone empty %v", g.Len(), c.Empty())
	}
}
