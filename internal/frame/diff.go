package frame

import "bytes"

// DefaultTile is the tile size Diff uses when given none.
const DefaultTile = 64

// Diff returns the tiles of cur that differ from prev, merged into larger rectangles where
// they touch. Tiles are tile×tile pixels (DefaultTile when tile ≤ 0) on a grid starting at
// (0, 0); those on the right and bottom edges may be smaller. Frames of different sizes differ
// everywhere: Diff then returns cur's bounds.
func Diff(prev, cur *Frame, tile int) Region {
	if tile <= 0 {
		tile = DefaultTile
	}
	var g Region
	if prev == nil || prev.W != cur.W || prev.H != cur.H {
		g.Add(cur.Bounds())
		return g
	}
	cols := (cur.W + tile - 1) / tile
	changed := make([]bool, cols)
	// open holds the runs of changed tiles of the band above, each with the rectangle of g
	// that ends there, so an identical run in this band extends that rectangle downwards.
	var open, next []tileRun
	for ty := 0; ty < cur.H; ty += tile {
		th := min(tile, cur.H-ty)
		diffBand(prev, cur, ty, th, tile, changed)
		next = next[:0]
		for tx := 0; tx < cols; {
			if !changed[tx] {
				tx++
				continue
			}
			start := tx
			for tx < cols && changed[tx] {
				tx++
			}
			x, w := start*tile, min(tx*tile, cur.W)-start*tile
			if i := findRun(open, x, w); i >= 0 {
				g.rects[open[i].rect].H += th
				next = append(next, tileRun{x, w, open[i].rect})
				continue
			}
			g.rects = append(g.rects, Rect{x, ty, w, th})
			next = append(next, tileRun{x, w, len(g.rects) - 1})
		}
		open, next = next, open
	}
	return g
}

// tileRun is a horizontal run of changed tiles, from column x, w pixels wide, drawn by
// g.rects[rect].
type tileRun struct{ x, w, rect int }

// findRun returns the index of the run in runs starting at x with width w, or -1.
func findRun(runs []tileRun, x, w int) int {
	for i, r := range runs {
		if r.x == x && r.w == w {
			return i
		}
	}
	return -1
}

// diffBand sets changed[i] for each tile of the band of rows ty to ty+th-1 that differs.
func diffBand(prev, cur *Frame, ty, th, tile int, changed []bool) {
	clear(changed)
	span := tile * BytesPerPixel
	rowLen := cur.W * BytesPerPixel
	left := len(changed) // tiles not yet known to differ
	for y := ty; y < ty+th && left > 0; y++ {
		p := prev.Pix[y*prev.Stride : y*prev.Stride+rowLen]
		c := cur.Pix[y*cur.Stride : y*cur.Stride+rowLen]
		// Most rows of a mostly static screen are equal: one long compare settles them.
		if bytes.Equal(p, c) {
			continue
		}
		for i := range changed {
			if changed[i] {
				continue
			}
			lo := i * span
			hi := min(lo+span, rowLen)
			if !bytes.Equal(p[lo:hi], c[lo:hi]) {
				changed[i] = true
				left--
			}
		}
	}
}
