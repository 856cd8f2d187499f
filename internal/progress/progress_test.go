package progress

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

const MiB = 1 << 20

func TestPlainLines(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		run  func(p *Progress) // runs in a synctest bubble: time.Sleep only moves the fake clock
		want string
	}{
		{"sent", Options{}, func(p *Progress) {
			it := p.Start("report.pdf", 12*MiB)
			for range 12 {
				it.Add(MiB)
			}
			time.Sleep(1200 * time.Millisecond)
			it.Done(nil)
		}, "sent report.pdf  12.0 MiB  in 1.2s  (10.0 MiB/s)\n"},
		{"received", Options{Verb: "received"}, func(p *Progress) {
			it := p.Start("a.txt", 300)
			it.Add(300)
			time.Sleep(3 * time.Second)
			it.Done(nil)
		}, "received a.txt  300 B  in 3.0s  (100 B/s)\n"},
		{"failed", Options{}, func(p *Progress) {
			it := p.Start("notes.txt", 100)
			it.Add(40)
			it.Done(errors.New("connection lost"))
		}, "failed notes.txt: connection lost\n"},
		{"resumed", Options{}, func(p *Progress) {
			it := p.Start("big.iso", 12*MiB)
			it.SetCurrent(10 * MiB)
			it.Add(2 * MiB)
			time.Sleep(500 * time.Millisecond)
			it.Done(nil)
		}, "sent big.iso  12.0 MiB  in 0.5s  (4.0 MiB/s, resumed at 10.0 MiB)\n"},
		{"empty file, no time", Options{}, func(p *Progress) {
			p.Start("empty", 0).Done(nil)
		}, "sent empty  0 B  in 0.0s\n"},
		{"control characters quoted", Options{}, func(p *Progress) {
			p.Start("evil\x1b[2J.txt", 0).Done(errors.New("bad\rname"))
		}, `failed "evil\x1b[2J.txt": "bad\rname"` + "\n"},
		{"done twice prints once", Options{}, func(p *Progress) {
			it := p.Start("x", 1)
			it.Done(nil)
			it.Done(errors.New("late"))
		}, "sent x  0 B  in 0.0s\n"},
		{"quiet", Options{Quiet: true}, func(p *Progress) {
			p.Start("a", 1).Done(nil)
			p.Start("b", 1).Done(errors.New("x"))
		}, ""},
		{"in finishing order", Options{}, func(p *Progress) {
			a, b := p.Start("a", 1), p.Start("b", 1)
			b.Done(nil)
			a.Done(nil)
		}, "sent b  0 B  in 0.0s\nsent a  0 B  in 0.0s\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var out bytes.Buffer
				p := New(&out, tt.opts)
				tt.run(p)
				p.Wait()
				if got := out.String(); got != tt.want {
					t.Errorf("output = %q; want %q", got, tt.want)
				}
			})
		})
	}
}

func TestSummary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(new(bytes.Buffer), Options{Quiet: true})
		time.Sleep(time.Minute) // time before the first Start is not counted
		a := p.Start("a", 3*MiB)
		b := p.Start("b", 2*MiB)
		c := p.Start("c", 8*MiB)
		a.SetCurrent(MiB) // resumed: this MiB is not moved by this run
		a.Add(2 * MiB)
		b.Add(MiB)
		time.Sleep(time.Second)
		a.Done(nil)
		b.Done(errors.New("lost"))
		time.Sleep(time.Second)
		c.Add(8 * MiB)
		c.Done(nil)
		p.Wait()
		want := Summary{Files: 2, Failed: 1, Bytes: 11 * MiB, Elapsed: 2 * time.Second}
		if got := p.Summary(); got != want {
			t.Errorf("Summary() = %+v; want %+v", got, want)
		}
		var out bytes.Buffer
		if err := p.WriteSummary(&out); err != nil || out.String() != "2 files, 11.0 MiB in 2.0s (5.5 MiB/s); 1 failed\n" {
			t.Errorf("WriteSummary = %q, %v; want the summary line", out.String(), err)
		}
	})
}

func TestSummaryString(t *testing.T) {
	tests := []struct {
		name string
		in   Summary
		want string
	}{
		{"brief example", Summary{Files: 3, Failed: 1, Bytes: 1180250522, Elapsed: 4200 * time.Millisecond}, "3 files, 1.1 GiB in 4.2s (268 MiB/s); 1 failed"},
		{"one file", Summary{Files: 1, Bytes: 512, Elapsed: time.Second}, "1 file, 512 B in 1.0s (512 B/s)"},
		{"nothing", Summary{}, "0 files, 0 B in 0.0s"},
		{"all failed", Summary{Failed: 2, Bytes: 10, Elapsed: 90 * time.Second}, "0 files, 10 B in 1m30s (0 B/s); 2 failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.String(); got != tt.want {
				t.Errorf("%+v.String() = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestConcurrentItems(t *testing.T) {
	for _, bars := range []bool{false, true} {
		t.Run(fmt.Sprintf("bars=%v", bars), func(t *testing.T) {
			out := &watchWriter{}
			p := newProgress(out, Options{MaxBars: 3}, bars)
			const files, chunks, chunk = 16, 200, 4096
			var wg sync.WaitGroup
			for i := range files {
				wg.Go(func() {
					it := p.Start(fmt.Sprintf("file%02d", i), chunks*chunk)
					var inner sync.WaitGroup // several copy loops on one file, as concurrent writes do
					for range 4 {
						inner.Go(func() {
							for range chunks / 4 {
								it.Add(chunk)
							}
						})
					}
					inner.Wait()
					if i%5 == 0 {
						it.Done(errors.New("boom"))
						return
					}
					it.Done(nil)
				})
			}
			wg.Wait()
			p.Wait()
			s := p.Summary()
			if s.Files != 12 || s.Failed != 4 || s.Bytes != files*chunks*chunk {
				t.Errorf("Summary() = %+v; want 12 files, 4 failed, %d bytes", s, files*chunks*chunk)
			}
			got := out.String()
			for i := range files {
				line := fmt.Sprintf("sent file%02d  800 KiB  in ", i)
				if i%5 == 0 {
					line = fmt.Sprintf("failed file%02d: boom\n", i)
				}
				if n := strings.Count(got, line); n != 1 {
					t.Errorf("output has %q %d times; want once", line, n)
				}
			}
		})
	}
}

func TestLiveBars(t *testing.T) {
	out := &watchWriter{}
	p := newProgress(out, Options{MaxBars: 2}, true)
	a := p.Start("a.bin", 1000)
	b := p.Start("b.bin", 1000)
	c := p.Start("c.bin", -1)
	a.Add(500)
	out.waitFor(t, "total")
	if got := out.String(); !strings.Contains(got, "a.bin") || !strings.Contains(got, "b.bin") || strings.Contains(got, "c.bin") {
		t.Fatalf("first frame = %q; want bars for a.bin and b.bin only (MaxBars 2) and the overall bar", got)
	}
	out.waitFor(t, "0/3 files")
	a.Done(nil)
	out.waitFor(t, "c.bin") // a's bar is free now
	out.waitFor(t, "1/3 files")
	b.Done(errors.New("boom"))
	c.Add(2048)
	c.Done(nil)
	p.Wait()
	got := out.String()
	for _, line := range []string{"sent a.bin  500 B  in ", "failed b.bin: boom\n", "sent c.bin  2.0 KiB  in "} {
		if n := strings.Count(got, line); n != 1 {
			t.Errorf("output has %q %d times; want once; output:\n%s", line, n, got)
		}
	}
	if s := p.Summary(); s.Files != 2 || s.Failed != 1 || s.Bytes != 2548 {
		t.Errorf("Summary() = %+v; want 2 files, 1 failed, 2548 bytes", s)
	}
}

func TestWaitWithoutDone(t *testing.T) {
	out := &watchWriter{}
	p := newProgress(out, Options{}, true)
	it := p.Start("stuck", 10)
	out.waitFor(t, "stuck")
	p.Wait() // must not hang on the running file's bar
	p.Wait()
	it.Done(nil) // after Wait: printed straight away
	if got := out.String(); !strings.Contains(got, "sent stuck  0 B  in ") {
		t.Errorf("output = %q; want the late line", got)
	}
}

func TestAddDoesNotAllocate(t *testing.T) {
	p := New(new(bytes.Buffer), Options{})
	it := p.Start("x", -1)
	if n := testing.AllocsPerRun(1000, func() { it.Add(32 << 10) }); n != 0 {
		t.Errorf("Add allocates %v times per call; want 0", n)
	}
}

func BenchmarkAdd(b *testing.B) {
	it := New(new(bytes.Buffer), Options{Quiet: true}).Start("x", -1)
	b.ReportAllocs()
	b.SetBytes(32 << 10)
	for b.Loop() {
		it.Add(32 << 10)
	}
}

// watchWriter is a concurrency-safe buffer that tests can wait on for some text.
type watchWriter struct {
	mu      sync.Mutex // guards the fields below
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced by every Write
}

func (w *watchWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.changed != nil {
		close(w.changed)
		w.changed = nil
	}
	return w.buf.Write(b)
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitFor blocks until the output contains s; the test's deadline bounds it.
func (w *watchWriter) waitFor(t *testing.T, s string) {
	t.Helper()
	for {
		w.mu.Lock()
		if strings.Contains(w.buf.String(), s) {
			w.mu.Unlock()
			return
		}
		if w.changed == nil {
			w.changed = make(chan struct{})
		}
		ch := w.changed
		w.mu.Unlock()
		select {
		case <-ch:
		case <-t.Context().Done():
			t.Fatalf("output never contained %q; it is %q", s, w.String())
		}
	}
}
