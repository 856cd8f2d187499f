package progress

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

const (
	// refreshEvery is how often the bars are updated and redrawn.
	refreshEvery = 150 * time.Millisecond
	// rateWindow is the time constant of the smoothed rates the bars show.
	rateWindow = 2 * time.Second
	// defaultMaxBars is Options.MaxBars when it is zero.
	defaultMaxBars = 4
	// nameWidth is the most runes of a file name a bar shows; longer names keep their end,
	// where the extension is.
	nameWidth = 32
)

// live draws bars on a terminal. One goroutine (run) owns every bar and is the only caller
// of mpb's methods besides stop: Start and Done only record what happened under p.mu, so the
// transfer goroutines never wait for the display. mpb's decorators read only atomics, so
// drawing never waits for p.mu either.
type live struct {
	p       *Progress
	mpb     *mpb.Progress
	redraw  chan any // mpb renders when run sends on it (manual refresh)
	maxBars int
	wakeC   chan struct{} // a Done happened; buffered, so wake never blocks
	stopC   chan struct{}
	doneC   chan struct{} // run has returned

	// owned by run
	views   map[*Item]*view
	overall *view
}

// view is one bar and what its text decorator shows.
type view struct {
	bar  *mpb.Bar
	text atomic.Pointer[string]

	prevMoved int64
	prevAt    time.Time
	rate      float64 // bytes per second, smoothed
	rated     bool
}

// startLive starts drawing bars into w.
func startLive(p *Progress, w io.Writer) *live {
	l := &live{
		p:       p,
		redraw:  make(chan any),
		maxBars: p.opts.MaxBars,
		wakeC:   make(chan struct{}, 1),
		stopC:   make(chan struct{}),
		doneC:   make(chan struct{}),
		views:   make(map[*Item]*view),
	}
	if l.maxBars <= 0 {
		l.maxBars = defaultMaxBars
	}
	l.mpb = mpb.New(mpb.WithOutput(w), mpb.WithManualRefresh(l.redraw))
	go l.run()
	return l
}

// wake asks run to look now rather than at its next tick.
func (l *live) wake() {
	select {
	case l.wakeC <- struct{}{}:
	default:
	}
}

// stop removes every bar, prints the pending lines and waits for mpb to finish drawing.
func (l *live) stop() {
	close(l.stopC)
	<-l.doneC
	l.mpb.Wait()
}

func (l *live) run() {
	defer close(l.doneC)
	tick := time.NewTicker(refreshEvery)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-l.wakeC:
		case <-l.stopC:
			l.update(true)
			return
		}
		l.update(false)
	}
}

// snapshot is what update needs from Progress, copied under p.mu.
type snapshot struct {
	lines      []string
	active     []*Item
	started    int
	finished   int   // files done, failed or not
	doneMoved  int64 // bytes moved by done files
	donePos    int64
	activeSize int64 // sizes of active files that know theirs
	first      time.Time
}

func (l *live) snapshot() snapshot {
	p := l.p
	p.mu.Lock()
	defer p.mu.Unlock()
	s := snapshot{
		lines:     p.pending,
		active:    slices.Clone(p.active),
		started:   p.started,
		finished:  p.sum.Files + p.sum.Failed,
		doneMoved: p.sum.Bytes,
		donePos:   p.donePos,
		first:     p.first,
	}
	p.pending = nil
	for _, it := range s.active {
		s.activeSize += max(it.size, 0)
	}
	return s
}

// update brings the bars up to date and redraws them; final removes them all.
func (l *live) update(final bool) {
	s := l.snapshot()
	now := time.Now()
	for _, line := range s.lines {
		l.mpb.Write([]byte(line)) // drawn above the bars at the next redraw
	}
	for it, v := range l.views {
		if final || !slices.Contains(s.active, it) {
			v.bar.Abort(true)
			delete(l.views, it)
		}
	}
	if final {
		if l.overall != nil {
			l.overall.bar.Abort(true)
		}
		l.redraw <- now
		return
	}
	for i, it := range s.active {
		if i >= l.maxBars {
			break
		}
		if l.views[it] == nil {
			l.views[it] = l.newFileView(it)
		}
	}
	for it, v := range l.views {
		pos, moved := it.pos.Load(), it.moved()
		v.observe(moved, now)
		v.bar.SetCurrent(pos)
		v.show(HumanBytes(pos)+sizeSuffix(it.size), it.size-pos)
	}

	totalFiles := max(l.p.opts.TotalFiles, s.started)
	if totalFiles > 1 {
		if l.overall == nil {
			l.overall = l.newOverallView(s.first)
		}
		var pos, moved int64 = s.donePos, s.doneMoved
		for _, it := range s.active {
			pos += it.pos.Load()
			moved += it.moved()
		}
		total := l.p.opts.TotalBytes
		if total <= 0 {
			total = s.donePos + s.activeSize
		}
		v := l.overall
		v.observe(moved, now)
		v.bar.SetTotal(total, false)
		v.bar.SetCurrent(pos)
		v.show(fmt.Sprintf("%d/%d files  %s / %s", s.finished, totalFiles, HumanBytes(pos), HumanBytes(total)), total-pos)
	}
	l.redraw <- now
}

// sizeSuffix shows a known size after the bytes done.
func sizeSuffix(size int64) string {
	if size < 0 {
		return ""
	}
	return " / " + HumanBytes(size)
}

// newFileView adds a bar for it. The bar is created with no total, so mpb never completes it
// on its own: run removes it when the item is done.
func (l *live) newFileView(it *Item) *view {
	v := &view{prevAt: it.start}
	v.text.Store(new(""))
	v.bar = l.mpb.New(0, mpb.BarStyle(),
		mpb.PrependDecorators(decor.Name(shortName(Printable(it.name)), decor.WCSyncSpaceR)),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return *v.text.Load() }, decor.WCSyncWidthR)),
	)
	if it.size > 0 {
		v.bar.SetTotal(it.size, false)
	}
	return v
}

// newOverallView adds the bar for the whole run, kept below the file bars.
func (l *live) newOverallView(first time.Time) *view {
	v := &view{prevAt: first}
	v.text.Store(new(""))
	v.bar = l.mpb.New(0, mpb.BarStyle(),
		mpb.BarPriority(math.MaxInt32),
		mpb.PrependDecorators(decor.Name("total", decor.WCSyncSpaceR)),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return *v.text.Load() }, decor.WCSyncWidthR)),
	)
	return v
}

// observe folds the bytes moved since the last look into the smoothed rate.
func (v *view) observe(moved int64, now time.Time) {
	dt := now.Sub(v.prevAt).Seconds()
	if dt <= 0 {
		return
	}
	inst := float64(moved-v.prevMoved) / dt
	if v.rated {
		v.rate += (1 - math.Exp(-dt/rateWindow.Seconds())) * (inst - v.rate)
	} else {
		v.rate, v.rated = inst, true // since the start: a fair first guess
	}
	v.prevMoved, v.prevAt = moved, now
}

// show sets the text after the bar: counts, rate and, when remaining is known, the ETA.
func (v *view) show(counts string, remaining int64) {
	s := counts + "  " + HumanBytes(int64(v.rate)) + "/s"
	if v.rate >= 1 && remaining > 0 {
		eta := time.Duration(float64(remaining) / v.rate * float64(time.Second))
		s += "  ETA " + HumanDuration(eta.Round(100*time.Millisecond))
	}
	v.text.Store(&s)
}

// shortName cuts a name to nameWidth runes, keeping its end.
func shortName(name string) string {
	r := []rune(name)
	if len(r) <= nameWidth {
		return name
	}
	return "…" + string(r[len(r)-nameWidth+1:])
}
