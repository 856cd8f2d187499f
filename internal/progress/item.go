package progress

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// Item is one file being transferred. Add and SetCurrent may be called from any goroutine;
// Done once, when the file is finished.
type Item struct {
	// pos is the bytes done so far, as the bar shows them. It is the only field Add
	// touches, so the copy loops pay one atomic add per call and nothing else.
	pos atomic.Int64
	// skipped is the bytes SetCurrent moved pos by, which were not transferred by this run.
	skipped atomic.Int64

	p     *Progress
	name  string
	size  int64
	start time.Time
	done  bool // guarded by p.mu
}

// Add counts n more bytes done. It is cheap (one atomic add, no lock, no allocation) so
// transfer loops can call it for every buffer.
func (it *Item) Add(n int) {
	it.pos.Add(int64(n))
}

// SetCurrent sets the bytes done to n, as when a resumed transfer starts at offset n or a
// retry starts over. The jump is not counted as transferred.
func (it *Item) SetCurrent(n int64) {
	old := it.pos.Swap(n)
	it.skipped.Add(n - old)
}

// Done finishes the item: err nil means the file arrived whole. It prints the file's line
// (in plain mode right away, on a terminal above the bars) and frees its bar. Later calls
// do nothing.
func (it *Item) Done(err error) {
	now := time.Now()
	p := it.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if it.done {
		return
	}
	it.done = true
	p.finishLocked(it, err, now)
}

// moved returns the bytes this run transferred for the item.
func (it *Item) moved() int64 {
	return it.pos.Load() - it.skipped.Load()
}

// line formats the report of a finished item: "sent report.pdf  12.3 MiB  in 1.2s
// (10.1 MiB/s)", or "failed report.pdf: <err>".
func (it *Item) line(verb string, err error, now time.Time) string {
	name := Printable(it.name)
	if err != nil {
		return fmt.Sprintf("failed %s: %s\n", name, Printable(err.Error()))
	}
	d := now.Sub(it.start)
	s := fmt.Sprintf("%s %s  %s  in %s", verb, name, HumanBytes(it.pos.Load()), HumanDuration(d))
	var rate string
	if d > 0 {
		rate = HumanRate(it.moved(), d)
	}
	if skipped := it.skipped.Load(); skipped > 0 {
		if rate != "" {
			rate += ", "
		}
		rate += "resumed at " + HumanBytes(skipped)
	}
	if rate != "" {
		s += "  (" + rate + ")"
	}
	return s + "\n"
}

// Printable returns s unchanged when every rune of it prints, and quoted with Go escapes
// otherwise. File names and error texts can come from the remote side: quoting keeps their
// control characters from reaching the terminal.
func Printable(s string) string {
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// HumanBytes formats n bytes with binary units and about three significant digits:
// "512 B", "1.5 KiB", "12.3 MiB", "268 MiB", "1.1 GiB".
func HumanBytes(n int64) string {
	if n > -1024 && n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	const units = "KMGTPE"
	v := float64(n) / 1024
	i := 0
	for (v >= 1023.5 || v <= -1023.5) && i < len(units)-1 {
		v /= 1024
		i++
	}
	if v >= 99.95 || v <= -99.95 {
		return fmt.Sprintf("%.0f %ciB", v, units[i])
	}
	return fmt.Sprintf("%.1f %ciB", v, units[i])
}

// HumanRate formats n bytes over d as a rate: "10.1 MiB/s". It returns "-" when d is not
// positive.
func HumanRate(n int64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return HumanBytes(int64(float64(n)/d.Seconds())) + "/s"
}

// HumanDuration formats d for a person: "0.4s", "4.2s", "42s", "2m5s", "1h0m5s".
func HumanDuration(d time.Duration) string {
	switch {
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%.0fs", d.Seconds())
	default:
		return d.Round(time.Second).String()
	}
}
