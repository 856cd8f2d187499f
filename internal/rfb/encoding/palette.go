package encoding

// palette collects the distinct pixel values of a tile, up to a limit, and numbers them in
// the order first seen. Lookups go through a small open-addressing hash table whose slots are
// stamped with a generation, so starting a new tile costs nothing.
type palette struct {
	n      int
	limit  int
	gen    uint32
	colors [256]uint32
	slots  [512]paletteSlot
	// The last lookup, since neighbouring runs often share a colour.
	lastV   uint32
	lastIdx int
}

type paletteSlot struct {
	v   uint32
	idx uint8
	gen uint32
}

// reset empties p and sets how many colours it may hold, at most 256.
func (p *palette) reset(limit int) {
	p.n, p.limit, p.lastIdx = 0, limit, -1
	p.gen++
	if p.gen == 0 {
		clear(p.slots[:])
		p.gen = 1
	}
}

// add returns v's index, giving it the next one if it is new; -1 when p is full.
func (p *palette) add(v uint32) int {
	if p.lastIdx >= 0 && p.lastV == v {
		return p.lastIdx
	}
	h := (v * 0x9e3779b1) >> 23
	for {
		s := &p.slots[h]
		if s.gen != p.gen {
			if p.n >= p.limit {
				return -1
			}
			*s = paletteSlot{v: v, idx: uint8(p.n), gen: p.gen}
			p.colors[p.n] = v
			p.n++
			p.lastV, p.lastIdx = v, int(s.idx)
			return p.lastIdx
		}
		if s.v == v {
			p.lastV, p.lastIdx = v, int(s.idx)
			return p.lastIdx
		}
		h = (h + 1) & (uint32(len(p.slots)) - 1)
	}
}

// addAll adds the colours of px, run by run, and reports whether they all fit.
func (p *palette) addAll(px []uint32) bool {
	for i := 0; i < len(px); {
		v := px[i]
		if p.add(v) < 0 {
			return false
		}
		i++
		for i < len(px) && px[i] == v {
			i++
		}
	}
	return true
}
