package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// procField returns a "Name:  N kB" field of a /proc file in bytes, or 0.
func procField(file, name string) int64 {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		rest, ok := strings.CutPrefix(line, name+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0
		}
		kb, _ := strconv.ParseInt(f[0], 10, 64)
		return kb << 10
	}
	return 0
}

// rss returns a process's resident memory now.
func rss(pid int) int64 { return procField(procPath(pid, "status"), "VmRSS") }

// hwm returns a process's peak resident memory since it started or since resetPeak.
func hwm(pid int) int64 { return procField(procPath(pid, "status"), "VmHWM") }

// resetPeak restarts a process's VmHWM from its present size, so that a peak belongs to one
// run. It fails quietly where the kernel does not allow it; sampling still bounds the peak.
func resetPeak(pid int) { os.WriteFile(procPath(pid, "clear_refs"), []byte("5"), 0) }

// pss returns a process's proportional share of resident memory: for a tree of forked
// processes that share pages, the sum of their PSS counts each page once.
func pss(pid int) int64 { return procField(procPath(pid, "smaps_rollup"), "Pss") }

func procPath(pid int, name string) string {
	return filepath.Join("/proc", strconv.Itoa(pid), name)
}

// tree returns pid and all processes descended from it.
func tree(pid int) []int {
	parent := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(procPath(p, "stat"))
		if err != nil {
			continue
		}
		// The command name may hold spaces and parentheses; the fields after its last ")"
		// are state, then the parent's pid.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 {
			continue
		}
		parent[p], _ = strconv.Atoi(f[1])
	}
	out := []int{pid}
	for grew := true; grew; {
		grew = false
		for p, pp := range parent {
			if slices.Contains(out, pp) && !slices.Contains(out, p) {
				out = append(out, p)
				grew = true
			}
		}
	}
	return out
}

// pidOf finds the process whose command line is exactly args followed by anything, as a
// way to the pid of a process another package started.
func pidOf(args ...string) int {
	want := []byte(strings.Join(args, "\x00") + "\x00")
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(procPath(p, "cmdline"))
		if err == nil && bytes.HasPrefix(b, want) {
			return p
		}
	}
	return 0
}

// sampler records the largest memory a measure function reports, every 50 ms until Stop.
type sampler struct {
	stop chan struct{}
	peak chan int64
}

func sample(measure func() int64) *sampler {
	s := &sampler{stop: make(chan struct{}), peak: make(chan int64, 1)}
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		var peak int64
		for {
			peak = max(peak, measure())
			select {
			case <-s.stop:
				s.peak <- max(peak, measure())
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// Stop ends the sampling and returns the peak.
func (s *sampler) Stop() int64 {
	close(s.stop)
	return <-s.peak
}
