// Package progress reports the progress of file transfers on the client side: live bars on a
// terminal (one per file, a few at a time, plus an overall bar), one plain line per finished
// file otherwise, and a closing summary.
//
// It owns what the user sees and the counting behind it. It leaves moving the bytes to the
// transfer code, which calls (*Item).Add from its copy loops (or wraps its files in the
// counting readers and writers of this package) and Done when a file is finished.
//
// On a terminal the bars are drawn by github.com/vbauerster/mpb/v8, which draws nothing when
// the output is not a terminal; there this package prints its own lines instead.
package progress

import (
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"golang.org/x/term"
)

// Options configure a Progress. The zero value reports with the verb "sent", counts files
// and bytes as they start, and shows four file bars at a time on a terminal.
type Options struct {
	// Quiet prints nothing at all; Summary still counts.
	Quiet bool
	// Verb starts the line of a finished file: "sent" (the default), "received", "copied".
	Verb string
	// TotalFiles and TotalBytes are what the whole run will transfer, when known in
	// advance; they make the overall bar's totals and ETA right from the start.
	TotalFiles int
	TotalBytes int64
	// MaxBars is how many file bars a terminal shows at once (default 4); files beyond
	// it are counted in the overall bar until a bar is free.
	MaxBars int
}

// Summary is what a run transferred.
type Summary struct {
	// Files counts the files finished without error, Failed the ones finished with one.
	Files, Failed int
	// Bytes counts the bytes moved by this run, failed files included: bytes skipped
	// because a resumed file already had them are not counted.
	Bytes int64
	// Elapsed runs from the first Start to the last Done.
	Elapsed time.Duration
}

// String formats s as "3 files, 1.1 GiB in 4.2s (268 MiB/s); 1 failed".
func (s Summary) String() string {
	noun := "files"
	if s.Files == 1 {
		noun = "file"
	}
	str := fmt.Sprintf("%d %s, %s in %s", s.Files, noun, HumanBytes(s.Bytes), HumanDuration(s.Elapsed))
	if s.Elapsed > 0 {
		str += " (" + HumanRate(s.Bytes, s.Elapsed) + ")"
	}
	if s.Failed > 0 {
		str += fmt.Sprintf("; %d failed", s.Failed)
	}
	return str
}

// Progress tracks the files of one run. Its methods are safe for concurrent use.
type Progress struct {
	out  io.Writer
	verb string // opts.Verb or its default
	opts Options
	live *live // nil unless drawing bars on a terminal

	mu      sync.Mutex // guards the fields below
	active  []*Item    // started and not done, in start order
	pending []string   // lines of files done since the bars last looked (live only)
	sum     Summary    // Elapsed is computed by Summary
	donePos int64      // positions of done files, for the overall bar
	started int
	first   time.Time // first Start
	last    time.Time // last Done
	waited  bool      // after Wait, lines go straight to out
}

// New returns a Progress that reports to w: bars when w is a terminal (an *os.File for
// which term.IsTerminal holds), plain lines otherwise, nothing with opts.Quiet. Call Wait
// when every file is done.
func New(w io.Writer, opts Options) *Progress {
	f, ok := w.(*os.File)
	return newProgress(w, opts, ok && term.IsTerminal(int(f.Fd())))
}

// newProgress is New with the choice of bars made by the caller, so tests can draw bars
// into a buffer.
func newProgress(w io.Writer, opts Options, bars bool) *Progress {
	p := &Progress{out: w, verb: opts.Verb, opts: opts}
	if p.verb == "" {
		p.verb = "sent"
	}
	if bars && !opts.Quiet {
		p.live = startLive(p, w)
	}
	return p
}

// Start begins tracking one file of size bytes (negative when unknown) and returns its
// Item. The caller must call Done on it.
func (p *Progress) Start(name string, size int64) *Item {
	it := &Item{p: p, name: name, size: size, start: time.Now()}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started == 0 {
		p.first = it.start
	}
	p.started++
	p.active = append(p.active, it)
	return it
}

// finishLocked records a done item and reports it.
func (p *Progress) finishLocked(it *Item, err error, now time.Time) {
	if i := slices.Index(p.active, it); i >= 0 {
		p.active = slices.Delete(p.active, i, i+1)
	}
	p.sum.Bytes += it.moved()
	if err != nil {
		p.sum.Failed++
	} else {
		p.sum.Files++
	}
	p.donePos += it.pos.Load()
	p.last = now
	if p.opts.Quiet {
		return
	}
	line := it.line(p.verb, err, now)
	if p.live != nil && !p.waited {
		p.pending = append(p.pending, line)
		p.live.wake()
		return
	}
	io.WriteString(p.out, line) // progress output is best effort: a closed terminal stops no transfer
}

// Wait ends the live display: bars of files still running are removed, and lines of
// finished files are all printed. Call it when every Item is done, before printing the
// summary. Later calls do nothing.
func (p *Progress) Wait() {
	p.mu.Lock()
	if p.waited {
		p.mu.Unlock()
		return
	}
	p.waited = true
	l := p.live
	p.mu.Unlock()
	if l != nil {
		l.stop()
	}
}

// Summary returns what the run has transferred so far.
func (p *Progress) Summary() Summary {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.sum
	if !p.first.IsZero() && p.last.After(p.first) {
		s.Elapsed = p.last.Sub(p.first)
	}
	return s
}

// WriteSummary writes the Summary as one line to w.
func (p *Progress) WriteSummary(w io.Writer) error {
	_, err := io.WriteString(w, p.Summary().String()+"\n")
	return err
}
