package host_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jezek/xgb/xproto"

	"github.com/buktu/buktu/internal/rfb"
	"github.com/buktu/buktu/internal/rfb/wire"
)

// animate moves a 40×40 window across the screen, repainting it, every 20 ms until ctx
// ends. It runs in its own goroutine, so it reports nothing: the viewers see it or not.
func (c *xclient) animate(ctx context.Context, win xproto.Window, w, h int) {
	gc, err := xproto.NewGcontextId(c.xc)
	if err != nil {
		return
	}
	xproto.CreateGC(c.xc, gc, xproto.Drawable(win), 0, nil)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		x, y := (i*7)%(w-40), (i*5)%(h-40)
		xproto.ConfigureWindow(c.xc, win, xproto.ConfigWindowX|xproto.ConfigWindowY, []uint32{uint32(x), uint32(y)})
		xproto.ChangeGC(c.xc, gc, xproto.GcForeground, []uint32{uint32(i*0x030507) & 0xFFFFFF})
		xproto.PolyFillRectangle(c.xc, xproto.Drawable(win), gc, []xproto.Rectangle{{Width: 40, Height: 40}})
	}
}

// measure runs incremental updates on every viewer at once for d and returns how many each
// got.
func measure(vs []*viewer, d time.Duration) ([]int, error) {
	counts := make([]int, len(vs))
	errs := make([]error, len(vs))
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for i, v := range vs {
		wg.Go(func() {
			for time.Now().Before(end) {
				if err := v.Request(true); err != nil {
					errs[i] = err
					return
				}
				if err := v.read(nil); err != nil {
					errs[i] = err
					return
				}
				counts[i]++
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return counts, fmt.Errorf("viewer %d: %w", i, err)
		}
	}
	return counts, nil
}

// TestScreenFiftyViewers has fifty viewers watch an animation at once, one of them stalled
// (it asks for updates and never reads them): each of the others gets at least half the
// updates a lone viewer gets in the same time, and the host stays up. The lone viewer and
// the crowd take turns, so that a change in the machine's load from other work hits both
// alike. It does not run in parallel with other tests: it compares frame rates.
func TestScreenFiftyViewers(t *testing.T) {
	const n, w, h = 50, 320, 240
	const turn, turns = 500 * time.Millisecond, 3
	const period = turns * turn
	d := startDisplay(t, w, h)
	x := dialX(t, d)
	x.drawPattern(w, h)
	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	box := x.window(0, 0, 40, 40, 0)
	wg.Go(func() { x.animate(ctx, box, w, h) })
	host := startScreenHostOn(t, d, "[screen]\nmax_viewers_per_address = 64\n")
	opts := rfb.ClientOptions{Encodings: []wire.Encoding{wire.EncodingTight}}

	lone := dialViewer(t, host, host.Observe, "admin", host.AdminPassword, opts)
	lone.full()

	// The stalled viewer asks for raw whole frames, which fill the socket's buffers fast,
	// and never reads them.
	stalled := dialViewer(t, host, host.Observe, "admin", host.AdminPassword, rfb.ClientOptions{Encodings: []wire.Encoding{wire.EncodingRaw}})
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if stalled.Request(false) != nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	crowd := []*viewer{lone}
	var mu sync.Mutex
	var dialErr error
	var dials sync.WaitGroup
	sem := make(chan struct{}, 4) // logins hash passwords: a few at a time
	for range n - 2 {
		dials.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			v, err := tryViewer(t, host, host.Observe, "admin", host.AdminPassword, opts)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				dialErr = err
				return
			}
			crowd = append(crowd, v)
		})
	}
	dials.Wait()
	if dialErr != nil {
		t.Fatalf("connect the crowd: %v", dialErr)
	}
	for _, v := range crowd {
		if err := v.Request(false); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range crowd {
		if err := v.read(nil); err != nil {
			t.Fatal(err)
		}
	}
	alone := 0
	counts := make([]int, len(crowd))
	for range turns {
		got, err := measure([]*viewer{lone}, turn)
		if err != nil {
			t.Fatalf("lone viewer: %v", err)
		}
		alone += got[0]
		got, err = measure(crowd, turn)
		if err != nil {
			t.Fatalf("crowd: %v", err)
		}
		for i, c := range got {
			counts[i] += c
		}
	}
	least := counts[0]
	for _, c := range counts {
		least = min(least, c)
	}
	t.Logf("in %v a lone viewer got %d updates; with %d viewers (one stalled) each got %d to %d", period, alone, n, least, maxOf(counts))
	for i, c := range counts {
		switch {
		case c == 0:
			t.Errorf("viewer %d got no update in %v", i, period)
		case raceEnabled:
			// The race detector slows the 49 decoding viewers in this process, not the host.
		case 2*c < alone:
			t.Errorf("viewer %d got %d updates in %v, under half of a lone viewer's %d", i, c, period, alone)
		}
	}
	select {
	case <-host.Exited():
		t.Fatalf("the host exited\n%s", host.Stderr())
	default:
	}
	late := dialViewer(t, host, host.Control, "admin", host.AdminPassword, opts)
	late.full()
}

func maxOf(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
