package frame

import "fmt"

// Rect is a rectangle of pixels: columns X to X+W-1 and rows Y to Y+H-1. A Rect with no
// width or height is empty.
type Rect struct {
	X, Y, W, H int
}

// Empty reports whether r holds no pixel.
func (r Rect) Empty() bool { return r.W <= 0 || r.H <= 0 }

// Right returns the first column after r.
func (r Rect) Right() int { return r.X + r.W }

// Bottom returns the first row below r.
func (r Rect) Bottom() int { return r.Y + r.H }

// Area returns the number of pixels in r.
func (r Rect) Area() int {
	if r.Empty() {
		return 0
	}
	return r.W * r.H
}

// Intersect returns the pixels in both r and s, or the zero Rect when they share none.
func (r Rect) Intersect(s Rect) Rect {
	x0, y0 := max(r.X, s.X), max(r.Y, s.Y)
	x1, y1 := min(r.Right(), s.Right()), min(r.Bottom(), s.Bottom())
	if x1 <= x0 || y1 <= y0 {
		return Rect{}
	}
	return Rect{x0, y0, x1 - x0, y1 - y0}
}

// Union returns the smallest Rect holding both r and s; an empty one adds nothing.
func (r Rect) Union(s Rect) Rect {
	switch {
	case r.Empty():
		return s
	case s.Empty():
		return r
	}
	x0, y0 := min(r.X, s.X), min(r.Y, s.Y)
	x1, y1 := max(r.Right(), s.Right()), max(r.Bottom(), s.Bottom())
	return Rect{x0, y0, x1 - x0, y1 - y0}
}

// Overlaps reports whether r and s share at least one pixel.
func (r Rect) Overlaps(s Rect) bool { return !r.Intersect(s).Empty() }

// Contains reports whether the pixel at (x, y) lies in r.
func (r Rect) Contains(x, y int) bool {
	return x >= r.X && x < r.Right() && y >= r.Y && y < r.Bottom()
}

// In reports whether every pixel of r lies in s. An empty r is in every Rect.
func (r Rect) In(s Rect) bool {
	if r.Empty() {
		return true
	}
	return r.X >= s.X && r.Y >= s.Y && r.Right() <= s.Right() && r.Bottom() <= s.Bottom()
}

// Offset returns r moved by dx columns and dy rows.
func (r Rect) Offset(dx, dy int) Rect { return Rect{r.X + dx, r.Y + dy, r.W, r.H} }

// String returns r as an X11 geometry, "WxH+X+Y".
func (r Rect) String() string { return fmt.Sprintf("%dx%d%+d%+d", r.W, r.H, r.X, r.Y) }

// subtract appends to out the pixels of a that are not in b, as at most four rectangles: a
// band above b, a band below it, and the parts left and right of b between them.
func subtract(out []Rect, a, b Rect) []Rect {
	i := a.Intersect(b)
	if i.Empty() {
		return append(out, a)
	}
	if a.Y < i.Y {
		out = append(out, Rect{a.X, a.Y, a.W, i.Y - a.Y})
	}
	if i.Bottom() < a.Bottom() {
		out = append(out, Rect{a.X, i.Bottom(), a.W, a.Bottom() - i.Bottom()})
	}
	if a.X < i.X {
		out = append(out, Rect{a.X, i.Y, i.X - a.X, i.H})
	}
	if i.Right() < a.Right() {
		out = append(out, Rect{i.Right(), i.Y, a.Right() - i.Right(), i.H})
	}
	return out
}

// join returns the Rect covering exactly a and b when they are side by side with a whole
// common edge, so that no pixel outside them is added.
func join(a, b Rect) (Rect, bool) {
	switch {
	case a.X == b.X && a.W == b.W && (a.Bottom() == b.Y || b.Bottom() == a.Y):
		return Rect{a.X, min(a.Y, b.Y), a.W, a.H + b.H}, true
	case a.Y == b.Y && a.H == b.H && (a.Right() == b.X || b.Right() == a.X):
		return Rect{min(a.X, b.X), a.Y, a.W + b.W, a.H}, true
	}
	return Rect{}, false
}
