package frame

import (
	"cmp"
	"slices"
)

// Region is a set of pixels kept as rectangles that do not overlap. Adding a rectangle next to
// one it shares a whole edge with merges the two, so a region built from tiles stays a short
// list. The zero Region is empty.
//
// A Region value shares its storage with its copies: change a copy only after [Region.Clone].
type Region struct {
	rects []Rect
}

// RegionOf returns the region holding the pixels of rs.
func RegionOf(rs ...Rect) Region {
	var g Region
	for _, r := range rs {
		g.Add(r)
	}
	return g
}

// Empty reports whether g holds no pixel.
func (g Region) Empty() bool { return len(g.rects) == 0 }

// Len returns the number of rectangles g is kept as.
func (g Region) Len() int { return len(g.rects) }

// Area returns the number of pixels in g.
func (g Region) Area() int {
	n := 0
	for _, r := range g.rects {
		n += r.Area()
	}
	return n
}

// Bounds returns the smallest Rect holding every pixel of g.
func (g Region) Bounds() Rect {
	var b Rect
	for _, r := range g.rects {
		b = b.Union(r)
	}
	return b
}

// Rects returns g's rectangles, top to bottom and then left to right, in a new slice.
func (g Region) Rects() []Rect {
	rs := slices.Clone(g.rects)
	slices.SortFunc(rs, func(a, b Rect) int {
		if c := cmp.Compare(a.Y, b.Y); c != 0 {
			return c
		}
		return cmp.Compare(a.X, b.X)
	})
	return rs
}

// Clone returns a copy of g that shares no storage with it.
func (g Region) Clone() Region { return Region{slices.Clone(g.rects)} }

// Reset empties g, keeping its storage.
func (g *Region) Reset() { g.rects = g.rects[:0] }

// Add adds the pixels of r to g.
func (g *Region) Add(r Rect) {
	if r.Empty() {
		return
	}
	var bufA, bufB [8]Rect
	pieces, spare := append(bufA[:0], r), bufB[:0]
	for _, e := range g.rects {
		if !e.Overlaps(r) {
			continue
		}
		spare = spare[:0]
		for _, p := range pieces {
			spare = subtract(spare, p, e)
		}
		pieces, spare = spare, pieces
		if len(pieces) == 0 {
			return
		}
	}
	for _, p := range pieces {
		g.insert(p)
	}
}

// Union adds the pixels of o to g.
func (g *Region) Union(o Region) {
	for _, r := range o.rects {
		g.Add(r)
	}
}

// Subtract removes the pixels of r from g.
func (g *Region) Subtract(r Rect) {
	if r.Empty() {
		return
	}
	var keep, cut []Rect
	for _, e := range g.rects {
		if e.Overlaps(r) {
			cut = subtract(cut, e, r)
		} else {
			keep = append(keep, e)
		}
	}
	if cut == nil && len(keep) == len(g.rects) {
		return
	}
	g.rects = keep
	for _, p := range cut {
		g.insert(p)
	}
}

// Clip returns the pixels of g that lie in r.
func (g Region) Clip(r Rect) Region {
	var out Region
	for _, e := range g.rects {
		if i := e.Intersect(r); !i.Empty() {
			out.rects = append(out.rects, i)
		}
	}
	return out
}

// Contains reports whether the pixel at (x, y) is in g.
func (g Region) Contains(x, y int) bool {
	for _, r := range g.rects {
		if r.Contains(x, y) {
			return true
		}
	}
	return false
}

// insert adds p, which overlaps no rectangle of g, merging it with every neighbour it
// shares a whole edge with.
func (g *Region) insert(p Rect) {
	for merged := true; merged; {
		merged = false
		for i, e := range g.rects {
			if m, ok := join(e, p); ok {
				last := len(g.rects) - 1
				g.rects[i] = g.rects[last]
				g.rects = g.rects[:last]
				p, merged = m, true
				break
			}
		}
	}
	g.rects = append(g.rects, p)
}
