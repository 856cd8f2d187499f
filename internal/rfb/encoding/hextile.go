package encoding

import (
	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/rfb/wire"
)

// Hextile sub-encoding mask bits.
// See RFC 6143, section 7.7.4.
const (
	hextileRaw              = 1
	hextileBackground       = 2
	hextileForeground       = 4
	hextileAnySubrects      = 8
	hextileSubrectsColoured = 16
)

// hextileState is what carries over from one tile to the next: the background and foreground
// the viewer will assume when a tile does not specify them.
type hextileState struct {
	bg, fg         uint32
	haveBg, haveFg bool
	work           [256]uint32 // the tile, with pixels already covered set to background
	body           []byte
	pixel          pixelCodec
	counts         [hextileTrack]int
	colours        [hextileTrack]uint32
}

// hextileTrack is how many distinct colours a tile's analysis counts when choosing its
// background; a tile with more picks among the first ones seen.
const hextileTrack = 8

// hextile appends r of f in the Hextile encoding: 16×16 tiles, each either raw or a
// background with rectangles of other colours on it.
// See RFC 6143, section 7.7.4.
func (e *Encoder) hextile(dst []byte, s *scratch, f *frame.Frame, r frame.Rect) []byte {
	dst = appendRectHeader(dst, r, wire.EncodingHextile)
	st := hextileState{pixel: e.conv.pixel(), body: s.buf[:0]}
	for ty := r.Y; ty < r.Bottom(); ty += 16 {
		for tx := r.X; tx < r.Right(); tx += 16 {
			t := frame.Rect{X: tx, Y: ty, W: min(16, r.Right()-tx), H: min(16, r.Bottom()-ty)}
			px := s.vals[:t.W*t.H]
			e.conv.load(px, f, t)
			dst = st.tile(dst, px, t.W, t.H)
		}
	}
	s.buf = st.body
	return dst
}

// tile appends one tile of w×h pixel values.
func (st *hextileState) tile(dst []byte, px []uint32, w, h int) []byte {
	bg, fg, ncolours, noisy := st.analyse(px)
	if noisy {
		st.haveBg, st.haveFg = false, false
		return st.pixel.appendAll(append(dst, hextileRaw), px)
	}
	if ncolours == 1 {
		if st.haveBg && st.bg == bg {
			return append(dst, 0)
		}
		st.bg, st.haveBg = bg, true
		return st.pixel.append(append(dst, hextileBackground), bg)
	}
	rawSize := len(px) * st.pixel.size
	body, n, ok := st.subrects(px, w, h, bg, ncolours == 2, rawSize)
	if !ok {
		st.haveBg, st.haveFg = false, false
		return st.pixel.appendAll(append(dst, hextileRaw), px)
	}
	mask := byte(hextileAnySubrects)
	at := len(dst)
	dst = append(dst, 0)
	if !st.haveBg || st.bg != bg {
		mask |= hextileBackground
		dst = st.pixel.append(dst, bg)
		st.bg, st.haveBg = bg, true
	}
	if ncolours == 2 {
		if !st.haveFg || st.fg != fg {
			mask |= hextileForeground
			dst = st.pixel.append(dst, fg)
			st.fg, st.haveFg = fg, true
		}
	} else {
		mask |= hextileSubrectsColoured
		// Decoders disagree on what a coloured tile leaves as foreground: name it next time.
		st.haveFg = false
	}
	dst[at] = mask
	dst = append(dst, byte(n))
	return append(dst, body...)
}

// analyse returns the tile's most common colour among the first few it sees, another colour
// (the only other one when the tile has two), and the number of colours, counting 3 for
// three or more. noisy reports a tile of many colours, mostly in single pixels, like a
// photograph: subrectangles would cost more than raw, and finding that out takes long.
func (st *hextileState) analyse(px []uint32) (bg, fg uint32, ncolours int, noisy bool) {
	n, singles, overflow := 0, 0, false
	for i := 0; i < len(px); {
		v := px[i]
		j := i + 1
		for j < len(px) && px[j] == v {
			j++
		}
		k := 0
		for k < n && st.colours[k] != v {
			k++
		}
		if k == n {
			if n < hextileTrack {
				st.colours[n], st.counts[n] = v, 0
				n++
			} else {
				overflow = true
			}
		}
		if j-i == 1 {
			singles++
		}
		if k < n {
			st.counts[k] += j - i
		}
		i = j
	}
	best := 0
	for k := 1; k < n; k++ {
		if st.counts[k] > st.counts[best] {
			best = k
		}
	}
	bg = st.colours[best]
	if n > 1 {
		fg = st.colours[1-min(best, 1)]
	}
	return bg, fg, min(n, 3), overflow && 2*singles > len(px)
}

// subrects covers the pixels of the tile that are not bg with rectangles of one colour each and
// returns their encoding: the colour (unless mono) then position and size. ok is false when
// that would take rawSize bytes or more, when raw is the better choice.
func (st *hextileState) subrects(px []uint32, w, h int, bg uint32, mono bool, rawSize int) (body []byte, n int, ok bool) {
	work := st.work[:len(px)]
	copy(work, px)
	body = st.body[:0]
	defer func() { st.body = body[:0] }()
	for y := range h {
		row := work[y*w : y*w+w]
		for x := 0; x < w; x++ {
			c := row[x]
			if c == bg {
				continue
			}
			// Grow right along the row, then down while the whole span keeps the colour.
			x1 := x + 1
			for x1 < w && row[x1] == c {
				x1++
			}
			y1 := y + 1
		down:
			for y1 < h {
				span := work[y1*w+x : y1*w+x1]
				for _, v := range span {
					if v != c {
						break down
					}
				}
				y1++
			}
			for yy := y; yy < y1; yy++ {
				span := work[yy*w+x : yy*w+x1]
				for i := range span {
					span[i] = bg
				}
			}
			if !mono {
				body = st.pixel.append(body, c)
			}
			body = append(body, byte(x<<4|y), byte((x1-x-1)<<4|(y1-y-1)))
			n++
			// The header (mask, background, foreground, count) costs a few bytes more.
			if n > 255 || len(body)+2+2*st.pixel.size >= rawSize {
				return body, n, false
			}
			x = x1 - 1
		}
	}
	return body, n, true
}
