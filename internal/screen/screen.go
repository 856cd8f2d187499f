// Package screen runs the capture loop: it captures a display over and over, finds what
// changed with frame.Diff, and publishes the newest frame with its damage for any number of
// viewers, none of whom can slow it down. It also passes keyboard, pointer, clipboard and
// cursor calls through to the display, so a server needs only a Screen.
//
// It leaves talking to the X server to package x11, starting one to package xvfb, and
// turning frames into bytes for viewers to the rfb packages.
package screen

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/buktu/buktu/internal/frame"
)

// Defaults for Options left zero.
const (
	DefaultInterval = 16 * time.Millisecond
	DefaultHistory  = 64
	// DefaultIdleInterval is the pause between captures once nothing changes, when the
	// display gives no change hints; with hints the pause is DefaultHintedIdleInterval.
	DefaultIdleInterval       = 250 * time.Millisecond
	DefaultHintedIdleInterval = time.Second
)

// busyFor is how long the loop keeps capturing at full rate after the last change.
const busyFor = time.Second

// wholeEvery is how often a display that reports damage is still captured whole and
// compared, in case something drew without telling it.
const wholeEvery = 5 * time.Second

// maxParts bounds the rectangles of damage read one by one; more are read as their bounds.
const maxParts = 32

// ErrStopped is returned by Update once Run has returned.
var ErrStopped = errors.New("screen: capture stopped")

// Source is the display a Screen captures and passes input to; *x11.Conn is one.
type Source interface {
	// Capture copies the whole screen into dst, resizing dst when needed.
	Capture(dst *frame.Frame) error
	// Damaged returns what was drawn since the last call; ok is false when the display
	// cannot tell, and then every capture is a whole one.
	Damaged() (g frame.Region, ok bool, err error)
	// CaptureRects copies the pixels of rs into dst, which has the screen's size.
	CaptureRects(dst *frame.Frame, rs []frame.Rect) error
	// Wake receives after the screen may have changed; nil when the display gives no hints.
	Wake() <-chan struct{}
	Size() (w, h int)
	CursorSerial() uint32
	Cursor() (img *frame.Frame, serial uint32, hotX, hotY int, err error)
	Key(keysym uint32, down bool) error
	KeyScancode(scancode uint32, down bool) error
	Pointer(buttons uint8, x, y int) error
	ReleaseAll() error
	SetClipboard(text string) error
	Clipboard() <-chan string
	IdleTime() (time.Duration, error)
	Resize(w, h int) error
}

// Options tune a Screen. The zero value means the defaults.
type Options struct {
	// Interval is the least time between two captures. Without hints the loop captures
	// this often while the screen changes and while viewers wait; with hints it captures as
	// soon as something is drawn, but not sooner than this after the last capture.
	// Default 16 ms, about 60 frames a second.
	Interval time.Duration
	// IdleInterval is the time between captures once nothing changed for a second and no
	// viewer needs a faster look. Default DefaultIdleInterval, or DefaultHintedIdleInterval
	// when the display's Wake hints end the pause as soon as something is drawn.
	IdleInterval time.Duration
	// Tile is the tile size frame.Diff compares; default frame.DefaultTile.
	Tile int
	// History is how many recent damage regions are kept: a viewer further behind gets the
	// whole screen. Default 64.
	History int
	// Logger receives Debug detail per capture; nil discards.
	Logger *slog.Logger
}

// Screen is the capture loop and the newest published state. Its methods are safe for
// concurrent use.
type Screen struct {
	src    Source
	opts   Options
	hinted bool
	log    *slog.Logger
	waited chan struct{} // capacity 1: a viewer started waiting

	mu  sync.Mutex // guards the fields below; Run, the only writer of cur, reads it freely
	cur *frame.Frame
	// leases counts, for the frames handed out lately, the holders that have not released
	// them; a frame with holders is never captured into. A frame that leaves the window of
	// leaseWindow sequence numbers is forgotten (never reused), so a holder that never calls
	// Release costs an allocation, not a leak.
	leases  map[*frame.Frame]*lease
	free    []lease // released frames, with the sequence number whose pixels they hold
	seq     uint64
	history []entry // damage of the newest sequence numbers, oldest first
	changed chan struct{}
	waiting int // viewers blocked in Update
	stopped bool
	cursor  uint32
}

// lease is a frame handed out: how many hold it and the sequence number it shows.
type lease struct {
	f       *frame.Frame
	holders int
	seq     uint64
}

// leaseWindow is how many sequence numbers a handed-out frame is tracked for; freeFrames
// bounds the released frames kept for the loop to capture into.
const (
	leaseWindow = 16
	freeFrames  = 2
)

// entry is the damage one sequence number brought, and the vertical scroll within it, if the
// capture found one.
type entry struct {
	seq    uint64
	damage frame.Region
	scroll *frame.Scroll
}

// New returns a Screen capturing src. Nothing is captured until Run.
func New(src Source, opts Options) *Screen {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	hinted := src.Wake() != nil
	if opts.IdleInterval <= 0 {
		opts.IdleInterval = DefaultIdleInterval
		if hinted {
			opts.IdleInterval = DefaultHintedIdleInterval
		}
	}
	if opts.Tile <= 0 {
		opts.Tile = frame.DefaultTile
	}
	if opts.History <= 0 {
		opts.History = DefaultHistory
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Screen{
		src: src, opts: opts, hinted: hinted, log: log,
		waited:  make(chan struct{}, 1),
		changed: make(chan struct{}),
		cursor:  src.CursorSerial(),
	}
}

// Run captures until ctx ends or a capture fails, and returns why. Viewers blocked in
// Update then get ErrStopped.
//
// When the display reports damage, a round reads only the damaged tiles into a copy of the
// newest frame and compares just those; otherwise, and every wholeEvery, it captures the
// whole screen and compares all of it.
func (s *Screen) Run(ctx context.Context) error {
	defer s.stop()
	var (
		spare                       = &frame.Frame{}
		spareSeq                    uint64 // the sequence number whose pixels spare holds; 0: none
		last, lastChange, lastWhole time.Time
	)
	for {
		if err := s.pause(ctx, last, lastChange); err != nil {
			return err
		}
		last = time.Now()
		hint, hinted, err := s.src.Damaged()
		if err != nil {
			return err
		}
		w, h := s.src.Size()
		// Only this goroutine writes s.cur, so it may read it unlocked.
		whole := !hinted || s.cur == nil || s.cur.W != w || s.cur.H != h || last.Sub(lastWhole) >= wholeEvery
		var damage frame.Region
		captured := true
		switch {
		case whole:
			if err := s.src.Capture(spare); err != nil {
				return err
			}
			lastWhole = last
			damage = frame.Diff(s.cur, spare, s.opts.Tile)
		case !hint.Empty():
			parts := s.tiles(hint)
			s.bringUp(spare, spareSeq, parts)
			if err := s.src.CaptureRects(spare, parts); err != nil {
				// The screen may have changed size under us: a whole capture settles it.
				if err := s.src.Capture(spare); err != nil {
					return err
				}
				parts = []frame.Rect{spare.Bounds()}
			}
			damage = diffIn(s.cur, spare, parts, s.opts.Tile)
		default:
			captured = false
		}
		if captured {
			spareSeq = 0
			if damage.Empty() && s.cur != nil {
				spareSeq = s.seq // spare holds what cur holds
			}
		}
		cursor := s.src.CursorSerial()
		if damage.Empty() && cursor == s.cursor {
			continue
		}
		scroll := findScroll(s.cur, spare, damage)
		s.mu.Lock()
		if !damage.Empty() {
			old, oldSeq := s.cur, s.seq
			s.cur = spare
			// A frame nobody holds can be captured into again; one a viewer holds is left
			// to it, and the next capture gets a released one or a fresh one.
			spare, spareSeq = &frame.Frame{}, 0
			if l := s.leases[old]; old != nil && l == nil {
				spare, spareSeq = old, oldSeq
			} else if n := len(s.free); n > 0 {
				spare, spareSeq = s.free[n-1].f, s.free[n-1].seq
				s.free = s.free[:n-1]
			}
		}
		s.cursor = cursor
		s.publishLocked(damage, scroll)
		s.mu.Unlock()
		lastChange = last
		s.log.Debug("screen changed", "seq", s.seq, "damage", damage.Bounds().String())
	}
}

// bringUp makes spare hold the newest frame, cur, except in parts, which are about to be
// read from the display: a frame that held sequence number seq gets what changed since; any
// other gets all of cur.
func (s *Screen) bringUp(spare *frame.Frame, seq uint64, parts []frame.Rect) {
	cur := s.cur
	var g frame.Region
	known := false
	if seq != 0 && spare.W == cur.W && spare.H == cur.H {
		s.mu.Lock()
		known = len(s.history) > 0 && seq+1 >= s.history[0].seq
		if known {
			g = s.damageSinceLocked(seq).Clone()
		}
		s.mu.Unlock()
	}
	if !known {
		if spare.W != cur.W || spare.H != cur.H || spare.Stride != cur.Stride || len(spare.Pix) != len(cur.Pix) {
			*spare = *frame.New(cur.W, cur.H)
		}
		g = frame.RegionOf(cur.Bounds())
	}
	for _, p := range parts {
		g.Subtract(p)
	}
	for _, r := range g.Rects() {
		spare.Copy(r.X, r.Y, cur, r)
	}
}

// tiles returns the damage hint as whole tiles of the grid Diff uses, merged; many scattered
// pieces become their bounds, as one read of a larger area costs less than many round trips.
func (s *Screen) tiles(hint frame.Region) []frame.Rect {
	t := s.opts.Tile
	var g frame.Region
	bounds := s.cur.Bounds()
	for _, r := range hint.Rects() {
		x0, y0 := r.X/t*t, r.Y/t*t
		x1, y1 := (r.Right()+t-1)/t*t, (r.Bottom()+t-1)/t*t
		g.Add(frame.Rect{X: x0, Y: y0, W: x1 - x0, H: y1 - y0}.Intersect(bounds))
	}
	if g.Len() > maxParts {
		return []frame.Rect{g.Bounds()}
	}
	return g.Rects()
}

// diffIn is frame.Diff within parts only: the tiles of parts in which cur differs from prev.
func diffIn(prev, cur *frame.Frame, parts []frame.Rect, tile int) frame.Region {
	var g frame.Region
	for _, p := range parts {
		for _, r := range frame.Diff(prev.Sub(p), cur.Sub(p), tile).Rects() {
			g.Add(r.Offset(p.X, p.Y))
		}
	}
	return g
}

// publishLocked makes cur, with damage, the newest state and wakes waiting viewers.
func (s *Screen) publishLocked(damage frame.Region, scroll *frame.Scroll) {
	s.seq++
	for f, l := range s.leases {
		if f != s.cur && l.seq+leaseWindow < s.seq {
			delete(s.leases, f) // held too long: forget it rather than ever reuse it
		}
	}
	if len(s.history) == s.opts.History {
		s.history = append(s.history[:0], s.history[1:]...)
	}
	s.history = append(s.history, entry{s.seq, damage, scroll})
	close(s.changed)
	s.changed = make(chan struct{})
}

// pause waits until the next capture is due: without hints, Interval after the last one
// while the screen changes or viewers wait, IdleInterval otherwise; with hints, when one
// arrives (no sooner than Interval after the last capture), or IdleInterval at the latest.
func (s *Screen) pause(ctx context.Context, last, lastChange time.Time) error {
	if last.IsZero() {
		return ctx.Err()
	}
	for {
		s.mu.Lock()
		waiting := s.waiting > 0
		s.mu.Unlock()
		// With hints a round is due when something was drawn, and looking sooner finds
		// nothing: the loop waits for the hint, so a click shows as soon as it is drawn
		// rather than at the next tick of a timer.
		busy := !s.hinted && (time.Since(lastChange) < busyFor || waiting)
		wait := s.opts.IdleInterval
		if busy {
			wait = s.opts.Interval
		}
		timer := time.NewTimer(time.Until(last.Add(wait)))
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
			return nil
		case <-s.src.Wake(): // nil without hints: never ready
			timer.Stop()
			if d := time.Until(last.Add(s.opts.Interval)); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		case <-s.waited:
			timer.Stop() // a viewer started waiting: the pause may be shorter now
		}
	}
}

// stop marks the Screen stopped and wakes every viewer.
func (s *Screen) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	close(s.changed)
	s.changed = make(chan struct{})
}

// Update returns the newest frame, the damage since sequence number since, and the newest
// sequence number, waiting until there is something newer than since. Pass 0 the first
// time, then the sequence number the last call returned: the damage is then the union of
// everything that changed in between, or the whole frame when since is too old to know
// (more than Options.History updates ago). The damage may be empty when only the cursor
// changed (see CursorSerial). The frame must not be modified: it is shared by every viewer.
func (s *Screen) Update(ctx context.Context, since uint64) (*frame.Frame, frame.Region, uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.cur == nil || s.seq <= since && !s.stopped {
		if s.stopped {
			return nil, frame.Region{}, 0, ErrStopped
		}
		changed := s.changed
		s.waiting++
		s.mu.Unlock()
		select {
		case s.waited <- struct{}{}:
		default:
		}
		select {
		case <-changed:
		case <-ctx.Done():
		}
		s.mu.Lock()
		s.waiting--
		if err := ctx.Err(); err != nil {
			return nil, frame.Region{}, 0, err
		}
	}
	if s.seq <= since { // stopped with nothing newer
		return nil, frame.Region{}, 0, ErrStopped
	}
	l := s.leases[s.cur]
	if l == nil {
		if s.leases == nil {
			s.leases = map[*frame.Frame]*lease{}
		}
		l = &lease{f: s.cur, seq: s.seq}
		s.leases[s.cur] = l
	}
	l.holders++
	return s.cur, s.damageSinceLocked(since), s.seq, nil
}

// Release says the caller is done with a frame Update returned, so the capture loop may
// capture into it again once nobody else holds it. Calling it is optional (a frame never
// released is simply never reused), but calling it twice for one Update is a bug.
func (s *Screen) Release(f *frame.Frame) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.leases[f]
	if l == nil {
		return
	}
	if l.holders--; l.holders > 0 {
		return
	}
	delete(s.leases, f)
	if f == s.cur {
		return // the loop takes it back when it replaces it
	}
	if len(s.free) == freeFrames {
		s.free = append(s.free[:0], s.free[1:]...)
	}
	s.free = append(s.free, *l)
}

// damageSinceLocked returns what changed after sequence number since.
func (s *Screen) damageSinceLocked(since uint64) frame.Region {
	if len(s.history) == 0 || since == 0 || since+1 < s.history[0].seq {
		return frame.RegionOf(s.cur.Bounds())
	}
	var g frame.Region
	for _, e := range s.history {
		if e.seq > since {
			g.Union(e.damage)
		}
	}
	return g
}

// scrollRows is the least height of changed area worth looking for a scroll in.
const scrollRows = 64

// findScroll looks for content that moved up or down between two frames within the damage,
// as text scrolls, so viewers can be told to copy it rather than be sent it again. The rows
// found are compared byte for byte before they are trusted.
func findScroll(prev, cur *frame.Frame, damage frame.Region) *frame.Scroll {
	if prev == nil || damage.Empty() || prev.W != cur.W || prev.H != cur.H {
		return nil
	}
	// A scroll moves one area: look in the damage's bounds when the damage fills most of
	// them, else in its largest piece; the bounds of two small changes far apart would be
	// most of the screen.
	b := damage.Bounds()
	if damage.Area() < b.Area()/2 {
		b = frame.Rect{}
		for _, r := range damage.Rects() {
			if r.Area() > b.Area() {
				b = r
			}
		}
	}
	if b.H < scrollRows {
		return nil
	}
	sc, ok := frame.FindScroll(prev, cur, b)
	if !ok {
		return nil
	}
	src := sc.Src()
	for y := range sc.Dst.H {
		if !bytes.Equal(cur.Row(sc.Dst.X, sc.Dst.Y+y, sc.Dst.W), prev.Row(src.X, src.Y+y, src.W)) {
			return nil
		}
	}
	return &sc
}

// Scroll returns the vertical move that took the frame of sequence number from to that of
// to, when every change in between was a scroll of the same columns: a viewer that has
// from's frame can copy those rows instead of receiving them. Moves compose: rows that
// scrolled twice moved by the sum, and rows that were new at some step are not in the copy
// (they are in the damage, sent as usual).
func (s *Screen) Scroll(from, to uint64) (frame.Scroll, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if to <= from || len(s.history) == 0 || from+1 < s.history[0].seq || to > s.seq {
		return frame.Scroll{}, false
	}
	var sc frame.Scroll
	started := false
	for _, e := range s.history {
		if e.seq <= from || e.seq > to {
			continue
		}
		if e.scroll == nil {
			if !started {
				return frame.Scroll{}, false
			}
			// A change that is not a scroll leaves the moved rows it does not touch.
			var ok bool
			if sc.Dst, ok = untouched(sc.Dst, e.damage); !ok {
				return frame.Scroll{}, false
			}
			continue
		}
		if !started {
			sc, started = *e.scroll, true
			continue
		}
		// The rows of e's move whose source rows had moved from from's frame before.
		sc = frame.Scroll{Dy: sc.Dy + e.scroll.Dy, Dst: e.scroll.Dst.Intersect(sc.Dst.Offset(0, e.scroll.Dy))}
		if sc.Dst.H < scrollRows/4 {
			return frame.Scroll{}, false
		}
	}
	return sc, sc.Dy != 0 && !sc.Dst.Empty()
}

// untouched returns the largest band of whole rows of r that damage does not touch, as
// long as every piece of damage that touches r spans its width (new lines below a scroll do);
// ok is false otherwise.
func untouched(r frame.Rect, damage frame.Region) (frame.Rect, bool) {
	for _, d := range damage.Rects() {
		if !d.Overlaps(r) {
			continue
		}
		if d.X > r.X || d.Right() < r.Right() {
			return frame.Rect{}, false
		}
		above := frame.Rect{X: r.X, Y: r.Y, W: r.W, H: d.Y - r.Y}
		below := frame.Rect{X: r.X, Y: d.Bottom(), W: r.W, H: r.Bottom() - d.Bottom()}
		r = above
		if below.H > above.H {
			r = below
		}
		if r.H < scrollRows/4 {
			return frame.Rect{}, false
		}
	}
	return r, true
}
