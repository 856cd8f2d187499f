package screen

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/buktu/buktu/internal/frame"
)

// fakeSource is a display held in memory. Tests draw into it; the loop captures it.
type fakeSource struct {
	wake chan struct{} // nil: no hints

	mu       sync.Mutex // guards the fields below
	img      *frame.Frame
	rounds   int // calls of Damaged: the loop makes one per round
	captures int // whole captures
	damage   frame.Region
	cursor   uint32
	churn    bool // change a pixel on every capture, like a video playing
	err      error
}

func newFake(w, h int, hinted bool) *fakeSource {
	f := &fakeSource{img: frame.New(w, h)}
	if hinted {
		f.wake = make(chan struct{}, 1)
	}
	return f
}

func (f *fakeSource) Capture(dst *frame.Frame) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.captures++
	if f.churn {
		f.img.SetPixel(0, 0, uint32(f.captures))
	}
	if dst.W != f.img.W || dst.H != f.img.H {
		*dst = *frame.New(f.img.W, f.img.H)
	}
	copy(dst.Pix, f.img.Pix)
	return nil
}

func (f *fakeSource) Damaged() (frame.Region, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rounds++
	g := f.damage
	f.damage = frame.Region{}
	return g, f.wake != nil, f.err
}

func (f *fakeSource) CaptureRects(dst *frame.Frame, rs []frame.Rect) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if dst.W != f.img.W || dst.H != f.img.H {
		return errors.New("fake: size changed")
	}
	for _, r := range rs {
		dst.Copy(r.X, r.Y, f.img, r)
	}
	return nil
}

// draw fills r and, with hints, says so the way DAMAGE would.
func (f *fakeSource) draw(r frame.Rect, c uint32) {
	f.mu.Lock()
	f.img.Fill(r, c)
	f.damage.Add(r.Intersect(f.img.Bounds()))
	f.mu.Unlock()
	if f.wake != nil {
		select {
		case f.wake <- struct{}{}:
		default:
		}
	}
}

// scroll moves the rows of r by dy (down when positive) and fills the rows it uncovers, as a
// terminal scrolls, saying so the way DAMAGE would.
func (f *fakeSource) scroll(r frame.Rect, dy int, fill uint32) {
	f.mu.Lock()
	src := r
	if dy < 0 {
		src = frame.Rect{X: r.X, Y: r.Y - dy, W: r.W, H: r.H + dy}
	} else {
		src = frame.Rect{X: r.X, Y: r.Y, W: r.W, H: r.H - dy}
	}
	f.img.Copy(src.X, src.Y+dy, f.img, src)
	if dy < 0 {
		f.img.Fill(frame.Rect{X: r.X, Y: r.Bottom() + dy, W: r.W, H: -dy}, fill)
	} else {
		f.img.Fill(frame.Rect{X: r.X, Y: r.Y, W: r.W, H: dy}, fill)
	}
	f.damage.Add(r)
	f.mu.Unlock()
	if f.wake != nil {
		select {
		case f.wake <- struct{}{}:
		default:
		}
	}
}

// drawSilently fills r without a hint, as a client DAMAGE misses would.
func (f *fakeSource) drawSilently(r frame.Rect, c uint32) {
	f.mu.Lock()
	f.img.Fill(r, c)
	f.mu.Unlock()
}

// count returns the rounds the loop made: captures, or with hints, looks at the damage.
func (f *fakeSource) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rounds
}

func (f *fakeSource) wholeCaptures() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.captures
}

func (f *fakeSource) Wake() <-chan struct{} {
	if f.wake == nil {
		return nil
	}
	return f.wake
}

func (f *fakeSource) Size() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.img.W, f.img.H
}

func (f *fakeSource) CursorSerial() uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cursor
}

func (f *fakeSource) Cursor() (*frame.Frame, uint32, int, int, error) {
	return frame.New(1, 1), f.CursorSerial(), 0, 0, nil
}
func (f *fakeSource) Key(uint32, bool) error           { return nil }
func (f *fakeSource) KeyScancode(uint32, bool) error   { return nil }
func (f *fakeSource) Pointer(uint8, int, int) error    { return nil }
func (f *fakeSource) ReleaseAll() error                { return nil }
func (f *fakeSource) SetClipboard(string) error        { return nil }
func (f *fakeSource) Clipboard() <-chan string         { return nil }
func (f *fakeSource) IdleTime() (time.Duration, error) { return 0, nil }
func (f *fakeSource) Resize(w, h int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.img = frame.New(w, h)
	f.damage.Add(f.img.Bounds())
	return nil
}

// run starts s's loop, stopped and waited for at the end of the test. It returns a
// channel with Run's result.
func run(t *testing.T, s *Screen) <-chan error {
	ctx, cancel := context.WithCancel(t.Context())
	result := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Go(func() { result <- s.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return result
}

func mustUpdate(t *testing.T, s *Screen, since uint64) (*frame.Frame, frame.Region, uint64) {
	t.Helper()
	f, g, seq, err := s.Update(t.Context(), since)
	if err != nil {
		t.Fatalf("Update(%d): %v", since, err)
	}
	return f, g, seq
}

func TestUpdate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newFake(256, 192, false)
		s := New(src, Options{Tile: 16, History: 4})
		run(t, s)

		f1, g, seq1 := mustUpdate(t, s, 0)
		if seq1 == 0 || g.Bounds() != f1.Bounds() || f1.W != 256 || f1.H != 192 {
			t.Fatalf("first Update = %dx%d, damage %v, seq %d; want the whole 256x192 frame", f1.W, f1.H, g.Bounds(), seq1)
		}

		// Nothing changes: Update waits.
		done := make(chan struct{})
		var f2 *frame.Frame
		var g2 frame.Region
		var seq2 uint64
		go func() {
			defer close(done)
			f2, g2, seq2 = mustUpdate(t, s, seq1)
		}()
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("Update returned with nothing changed")
		default:
		}
		src.draw(frame.Rect{X: 20, Y: 20, W: 5, H: 5}, 0xff0000)
		<-done
		if want := (frame.Rect{X: 16, Y: 16, W: 16, H: 16}); seq2 != seq1+1 || g2.Bounds() != want {
			t.Errorf("Update(%d) = damage %v, seq %d; want %v, seq %d", seq1, g2.Bounds(), seq2, want, seq1+1)
		}
		if f2.Pixel(20, 20)&0xffffff != 0xff0000 {
			t.Errorf("new frame's pixel (20, 20) = %06x; want ff0000", f2.Pixel(20, 20))
		}
		if f1.Pixel(20, 20) != 0 {
			t.Error("a frame handed out earlier changed")
		}

		// Two changes: the damage since the older sequence number is their union.
		src.draw(frame.Rect{X: 100, Y: 100, W: 1, H: 1}, 0x00ff00)
		_, _, seq3 := mustUpdate(t, s, seq2)
		src.draw(frame.Rect{X: 200, Y: 150, W: 1, H: 1}, 0x0000ff)
		_, _, seq4 := mustUpdate(t, s, seq3)
		_, g, seq := mustUpdate(t, s, seq2)
		if seq != seq4 || g.Area() != 2*16*16 || !g.Contains(100, 100) || !g.Contains(200, 150) {
			t.Errorf("Update(%d) = damage %v, seq %d; want the two tiles, seq %d", seq2, g.Rects(), seq, seq4)
		}

		// Further back than History: the whole frame.
		for i := range 4 {
			src.draw(frame.Rect{X: i, Y: 0, W: 1, H: 1}, 0xffffff)
			_, _, seq = mustUpdate(t, s, seq)
		}
		if _, g, _ := mustUpdate(t, s, seq2); g.Bounds() != f1.Bounds() {
			t.Errorf("Update(%d) beyond the history = damage %v; want the whole frame", seq2, g.Bounds())
		}

		// A new cursor shape alone ends a wait, with no damage.
		src.mu.Lock()
		src.cursor++
		src.mu.Unlock()
		if _, g, next := mustUpdate(t, s, seq); next != seq+1 || !g.Empty() {
			t.Errorf("Update after a cursor change = damage %v, seq %d; want none, seq %d", g.Rects(), next, seq+1)
		}

		// A size change damages everything.
		src.Resize(128, 96)
		f, g, _ := mustUpdate(t, s, seq+1)
		if f.W != 128 || f.H != 96 || g.Bounds() != f.Bounds() {
			t.Errorf("Update after a resize = %dx%d, damage %v; want 128x96, all", f.W, f.H, g.Bounds())
		}
	})
}

func TestSlowViewerDoesNotSlowCapture(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newFake(64, 64, false)
		src.churn = true
		s := New(src, Options{Interval: 10 * time.Millisecond, History: 8})
		run(t, s)
		held, _, seq := mustUpdate(t, s, 0)
		heldCopy := held.Clone()
		time.Sleep(time.Second) // fake time: the viewer is busy for a second
		_, g, now := mustUpdate(t, s, seq)
		if now-seq < 95 {
			t.Errorf("a second with a viewer away gave %d new frames; want about 100", now-seq)
		}
		if g.Bounds() != held.Bounds() {
			t.Errorf("Update from %d frames back = damage %v; want the whole frame", now-seq, g.Bounds())
		}
		for i := range held.Pix {
			if held.Pix[i] != heldCopy.Pix[i] {
				t.Fatal("the frame the viewer held was overwritten")
			}
		}
	})
}

func TestPacing(t *testing.T) {
	tests := []struct {
		name          string
		hinted        bool
		viewerWaiting bool
		min, max      int // captures in 10 s of a still screen
	}{
		// Full rate for the first second after the first frame, then the idle pace.
		{"no hints, no viewer", false, false, 90, 110},
		{"no hints, viewer waiting", false, true, 600, 630},
		// With hints nothing is due until something is drawn: the idle pace throughout.
		{"hints, viewer waiting", true, true, 9, 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				src := newFake(64, 64, tt.hinted)
				s := New(src, Options{})
				run(t, s)
				_, _, seq := mustUpdate(t, s, 0)
				start := src.count()
				if tt.viewerWaiting {
					ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
					defer cancel()
					if _, _, _, err := s.Update(ctx, seq); !errors.Is(err, context.DeadlineExceeded) {
						t.Fatalf("Update on a still screen = %v; want it to wait until the deadline", err)
					}
				} else {
					time.Sleep(10 * time.Second)
				}
				if n := src.count() - start; n < tt.min || n > tt.max {
					t.Errorf("%d captures in 10 s; want %d to %d", n, tt.min, tt.max)
				}
			})
		})
	}
}

func TestHintWakesIdleLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newFake(64, 64, true)
		s := New(src, Options{})
		run(t, s)
		_, _, seq := mustUpdate(t, s, 0)
		time.Sleep(5 * time.Second) // long idle: the loop polls once a second now
		start := time.Now()
		src.draw(frame.Rect{X: 1, Y: 1, W: 1, H: 1}, 0xffffff)
		mustUpdate(t, s, seq)
		if d := time.Since(start); d > DefaultInterval {
			t.Errorf("a hinted change showed after %v; want within %v", d, DefaultInterval)
		}
	})
}

// TestDamageCapture checks the hinted path: only damaged tiles are read, into a copy of the
// newest frame or into a reused one brought up to date, and every published frame equals
// the display; what is drawn without a hint still shows within wholeEvery.
func TestDamageCapture(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newFake(200, 120, true)
		s := New(src, Options{Tile: 16})
		run(t, s)
		_, _, seq := mustUpdate(t, s, 0)
		synctest.Wait()
		wholes := src.wholeCaptures()
		seen := map[*frame.Frame]bool{}
		var held []*frame.Frame
		for i := range 40 {
			r := frame.Rect{X: (i * 37) % 190, Y: (i * 23) % 110, W: 3 + i%20, H: 2 + i%9}
			src.draw(r, uint32(0x10101*i+0x40))
			synctest.Wait()
			time.Sleep(DefaultInterval) // fake time: let the loop take its next round
			synctest.Wait()
			if i%3 == 0 {
				continue // nobody looks: the loop may reuse the frame it replaced
			}
			f, g, next := mustUpdate(t, s, seq)
			if !g.Contains(r.X, r.Y) || g.Area() > 200*120/2 {
				t.Errorf("draw %d of %v: damage %v; want the tiles under it", i, r, g.Rects())
			}
			src.mu.Lock()
			same := string(f.Pix) == string(src.img.Pix)
			src.mu.Unlock()
			if !same {
				t.Fatalf("draw %d of %v: the published frame differs from the display", i, r)
			}
			seq = next
			seen[f] = true
			if i < 30 {
				s.Release(f) // done with it: the loop may capture into it again
				continue
			}
			held = append(held, f.Clone(), f) // kept: it must never change
		}
		for i := 0; i < len(held); i += 2 {
			if string(held[i].Pix) != string(held[i+1].Pix) {
				t.Fatal("a frame a viewer still holds was captured into")
			}
		}
		if len(seen) > 12 {
			t.Errorf("%d distinct frames for 26 updates; want released frames reused", len(seen))
		}
		if n := src.wholeCaptures() - wholes; n > 2 {
			t.Errorf("%d whole captures while damage was reported; want at most 2", n)
		}

		_, _, seq = mustUpdate(t, s, seq) // catch up with the draws nobody looked at
		src.drawSilently(frame.Rect{X: 5, Y: 5, W: 2, H: 2}, 0xabcdef)
		start := time.Now()
		f, _, _ := mustUpdate(t, s, seq)
		if d := time.Since(start); d > wholeEvery+DefaultHintedIdleInterval {
			t.Errorf("a change with no hint took %v to show; want at most %v", d, wholeEvery+DefaultHintedIdleInterval)
		}
		if got := f.Pixel(5, 5) & 0xffffff; got != 0xabcdef {
			t.Errorf("a change with no hint shows %06x; want abcdef", got)
		}
	})
}

// TestScrollComposes scrolls a text-like region three times while a viewer looks away: the
// viewer's old frame, with the composed move copied in and the rest of the damage drawn,
// must equal the newest frame.
func TestScrollComposes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newFake(256, 256, true)
		for y := range 256 {
			src.img.Fill(frame.Rect{X: 16, Y: y, W: 200, H: 1}, uint32(y*0x010203+7)) // every row differs
		}
		s := New(src, Options{Tile: 16})
		run(t, s)
		old, _, from := mustUpdate(t, s, 0)
		text := frame.Rect{X: 16, Y: 16, W: 200, H: 224}
		for i, dy := range []int{-14, -14, -28} {
			src.scroll(text, dy, uint32(0xff0000+i))
			synctest.Wait()
			time.Sleep(DefaultInterval)
			synctest.Wait()
		}
		// A new line typed at the bottom, not a scroll: the rows above it still moved.
		src.draw(frame.Rect{X: 16, Y: 170, W: 200, H: 14}, 0x00ff00)
		synctest.Wait()
		time.Sleep(DefaultInterval)
		synctest.Wait()
		cur, damage, to := mustUpdate(t, s, from)
		if to != from+4 {
			t.Fatalf("three scrolls and a line made %d updates; want 4", to-from)
		}
		sc, ok := s.Scroll(from, to)
		if !ok || sc.Dy != -56 {
			t.Fatalf("Scroll(%d, %d) = %+v, %v; want a move of -56 rows", from, to, sc, ok)
		}
		// The damage is whole tiles, so the move may span blank columns beside the text.
		if moved := (frame.Rect{X: 16, Y: 16, W: 200, H: 144}); !moved.In(sc.Dst) || sc.Dst.H != moved.H {
			t.Errorf("Scroll(%d, %d).Dst = %v; want the rows of %v (above the new line's tiles)", from, to, sc.Dst, moved)
		}
		view := old.Clone()
		view.Copy(sc.Dst.X, sc.Dst.Y, old, sc.Src())
		damage.Subtract(sc.Dst)
		for _, r := range damage.Rects() {
			view.Copy(r.X, r.Y, cur, r)
		}
		if string(view.Pix) != string(cur.Pix) {
			t.Error("the viewer's frame with the composed copy and the rest of the damage differs from the screen")
		}
		if _, ok := s.Scroll(from-1, to); ok {
			t.Error("Scroll across a change that was not a scroll (the first frame) = ok")
		}
	})
}

func TestStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newFake(32, 32, false)
		s := New(src, Options{})
		result := run(t, s)
		_, _, seq := mustUpdate(t, s, 0)
		waiting := make(chan error)
		go func() {
			_, _, _, err := s.Update(t.Context(), seq)
			waiting <- err
		}()
		synctest.Wait()
		boom := errors.New("display gone")
		src.mu.Lock()
		src.err = boom
		src.mu.Unlock()
		if err := <-result; !errors.Is(err, boom) {
			t.Errorf("Run = %v; want the capture error", err)
		}
		if err := <-waiting; !errors.Is(err, ErrStopped) {
			t.Errorf("waiting Update = %v; want ErrStopped", err)
		}
		if _, _, _, err := s.Update(t.Context(), seq); !errors.Is(err, ErrStopped) {
			t.Errorf("Update after Run = %v; want ErrStopped", err)
		}
		if f, _, got, err := s.Update(t.Context(), 0); err != nil || f == nil || got != seq {
			t.Errorf("Update(0) after Run = %v, %d, %v; want the last frame", f != nil, got, err)
		}
	})
}

func BenchmarkDiff(b *testing.B) {
	prev, cur := frame.New(1920, 1080), frame.New(1920, 1080)
	for y := range 1080 {
		for x := range 1920 {
			prev.SetPixel(x, y, uint32(x*y))
		}
	}
	for _, bc := range []struct {
		name   string
		change frame.Rect
	}{
		{"still", frame.Rect{}},
		{"one tile", frame.Rect{X: 900, Y: 500, W: 10, H: 10}},
		{"half", frame.Rect{X: 0, Y: 0, W: 1920, H: 540}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			copy(cur.Pix, prev.Pix)
			cur.Fill(bc.change, 0x123456)
			b.ReportAllocs()
			b.SetBytes(int64(len(cur.Pix)))
			for b.Loop() {
				frame.Diff(prev, cur, 0)
			}
		})
	}
}
