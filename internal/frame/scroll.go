package frame

import "hash/maphash"

// minScrollRows is the shortest run of moved rows FindScroll reports.
const minScrollRows = 4

// Scroll is a vertical move found by FindScroll: the rows Dst of the current frame equal the
// rows Dy above them in the previous frame (Dy > 0: the content moved down; Dy < 0: up).
type Scroll struct {
	Dy  int
	Dst Rect
}

// Src returns where Dst's pixels were in the previous frame.
func (s Scroll) Src() Rect { return s.Dst.Offset(0, -s.Dy) }

// FindScroll looks for content of prev inside r that reappears in cur inside r, moved up or
// down. It hashes each row of r in both frames, lets the rows that occur once in prev vote for
// a distance, and returns the longest run of rows that match at the winning distance. ok is
// false when no run of at least a few rows, holding at least one changed row, matches.
//
// Rows with equal hashes are taken as equal: the hash is keyed with a fresh random seed on
// every call, so no content can be made to collide, and the chance of an accidental collision
// (2^-64 per pair of rows) is far below that of a memory error.
//
// Only whole rows of r are compared, so r should span just the scrolling columns (a
// terminal, a maximised window); a scrolled window inside a wider r is not found.
func FindScroll(prev, cur *Frame, r Rect) (s Scroll, ok bool) {
	r = r.Intersect(prev.Bounds()).Intersect(cur.Bounds())
	if r.H < minScrollRows {
		return Scroll{}, false
	}
	seed := maphash.MakeSeed()
	if !mostRowsReappear(prev, cur, r, seed) {
		return Scroll{}, false
	}
	hp := make([]uint64, r.H)
	hc := make([]uint64, r.H)
	changed := false
	for i := range r.H {
		hp[i] = maphash.Bytes(seed, prev.Row(r.X, r.Y+i, r.W))
		hc[i] = maphash.Bytes(seed, cur.Row(r.X, r.Y+i, r.W))
		changed = changed || hp[i] != hc[i]
	}
	if !changed {
		return Scroll{}, false
	}
	// Rows that occur once in prev (not blank lines or repeated patterns) say where they went.
	where := make(map[uint64]int, r.H)
	for i, h := range hp {
		if _, dup := where[h]; dup {
			where[h] = -1
		} else {
			where[h] = i
		}
	}
	votes := map[int]int{}
	for i, h := range hc {
		if j, found := where[h]; found && j >= 0 && j != i {
			votes[i-j]++
		}
	}
	dy, best := 0, 0
	for d, n := range votes {
		if n > best || n == best && abs(d) < abs(dy) {
			dy, best = d, n
		}
	}
	if best == 0 {
		return Scroll{}, false
	}
	// The longest run of rows matching at dy that holds a changed row.
	lo, hi := max(0, dy), min(r.H, r.H+dy)
	runStart, bestStart, bestLen := -1, 0, 0
	runChanged := false
	for i := lo; i <= hi; i++ {
		if i < hi && hc[i] == hp[i-dy] {
			if runStart < 0 {
				runStart, runChanged = i, false
			}
			runChanged = runChanged || hc[i] != hp[i]
			continue
		}
		if runStart >= 0 && runChanged && i-runStart > bestLen {
			bestStart, bestLen = runStart, i-runStart
		}
		runStart = -1
	}
	if bestLen < minScrollRows {
		return Scroll{}, false
	}
	return Scroll{Dy: dy, Dst: Rect{r.X, r.Y + bestStart, r.W, bestLen}}, true
}

// sampleBytes is how much of each row, at its start, middle and end, mostRowsReappear hashes.
const sampleBytes = 128

// mostRowsReappear is FindScroll's cheap first look: content that scrolled shows most rows
// of cur again somewhere in prev, while a video shows none. It compares samples of each row
// (a few hundred bytes instead of the whole row), so its matches may be wrong, but a frame
// with no sample of a row in prev certainly did not scroll that row.
func mostRowsReappear(prev, cur *Frame, r Rect, seed maphash.Seed) bool {
	buf := make([]byte, 0, 3*sampleBytes)
	sample := func(f *Frame, y int) uint64 {
		row := f.Row(r.X, y, r.W)
		if len(row) <= 3*sampleBytes {
			return maphash.Bytes(seed, row)
		}
		mid := (len(row) - sampleBytes) / 2
		buf = append(append(append(buf[:0], row[:sampleBytes]...), row[mid:mid+sampleBytes]...), row[len(row)-sampleBytes:]...)
		return maphash.Bytes(seed, buf)
	}
	seen := make(map[uint64]struct{}, r.H)
	for y := r.Y; y < r.Bottom(); y++ {
		seen[sample(prev, y)] = struct{}{}
	}
	found := 0
	for y := r.Y; y < r.Bottom(); y++ {
		if _, ok := seen[sample(cur, y)]; ok {
			found++
		}
	}
	return 2*found >= r.H
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
