package bench

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/frame"
)

// scrSoakEnv names how long BenchmarkScreenSoak draws, as a Go duration ("2m"); unset, it
// draws for scrSoakDefault.
const scrSoakEnv = "BUKTU_BENCH_SOAK"

const scrSoakDefault = 10 * time.Minute

// scrSoakCommand is how to run BenchmarkScreenSoak alone.
const scrSoakCommand = "go test -tags turbojpeg -run=NONE -bench='BenchmarkScreenSoak$' -benchtime=1x -timeout 40m ./bench/"

// scrSoakGrowth is the most the host's memory may grow from the first minute to the last.
const scrSoakGrowth = 0.10

// scrSoakPlan says what a soak runs and for how long.
type scrSoakPlan struct {
	Width, Height int
	FPS           int
	Viewers       int
	Duration      time.Duration // drawing the video, counted from when the viewers are connected
	Every         time.Duration // between two samples
	Settle        time.Duration // the most the viewers may take to show the final screen
}

// scrSoakSample is the server at one moment of a soak, and since the sample before.
type scrSoakSample struct {
	At      time.Duration // since the drawing started
	RSS     int64         // the server's process tree's VmRSS
	Updates float64       // per viewer per second
	CPU     float64       // the server's, in percent of one core
}

// scrSoakResult is a whole soak.
type scrSoakResult struct {
	Plan                  scrSoakPlan
	Server, Version       string
	Samples               []scrSoakSample
	Peak                  int64 // the server's VmHWM over the soak, or the largest sample
	Verdict               scrVerdict
	LoadBefore, LoadAfter string
}

// BenchmarkScreenSoak runs a buktu host alone with 50 viewers of the video for 10 minutes
// (BUKTU_BENCH_SOAK=2m for a shorter try), samples its memory every 10 s, and writes the
// samples and whether memory grew to results/screen-soak.md. BenchmarkScreen leaves it out:
// run it with scrSoakCommand.
func BenchmarkScreenSoak(b *testing.B) {
	plan := scrSoakPlan{Width: 1920, Height: 1080, FPS: 30, Viewers: 50, Duration: scrSoakDefault,
		Every: 10 * time.Second, Settle: time.Minute}
	if v := os.Getenv(scrSoakEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 2*plan.Every {
			b.Fatalf("%s=%q: want a duration of at least %v, such as 2m", scrSoakEnv, v, 2*plan.Every)
		}
		plan.Duration = d
	}
	var res scrSoakResult
	for b.Loop() {
		bed := scrNewBed(b, scrPlan{Width: plan.Width, Height: plan.Height})
		srv := scrStartBuktu(b, bed.disp, false)
		res = bed.soak(b, plan, srv)
		srv.Stop()
	}
	var table bytes.Buffer
	res.Markdown(&table, scrSoakCommand)
	fmt.Print("\n" + table.String())
	if err := os.MkdirAll("results", 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("results", "screen-soak.md"), table.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	_, _, growth := res.Growth()
	b.ReportMetric(100*growth, "rss-growth-%")
	b.ReportMetric(scrMiB(res.Peak), "peak-rss-MiB")
}

// soak connects plan.Viewers viewers to srv, draws the video for plan.Duration while
// sampling the server, then checks that every viewer shows the screen.
func (bed *scrBed) soak(tb testing.TB, plan scrSoakPlan, srv *scrServer) scrSoakResult {
	tb.Helper()
	res := scrSoakResult{Plan: plan, Server: srv.Name, Version: srv.Version, LoadBefore: scrLoad()}
	viewers := bed.connect(tb, srv, scrTight(), plan.Viewers)
	defer scrCloseAll(viewers)
	resetPeak(srv.PID)
	bed.drawer.Start(scrVideo, plan.FPS)
	t0 := time.Now()
	last, lastCPU, lastAt := scrSum(viewers), scrCPU(srv.PID), t0
	tick := time.NewTicker(plan.Every)
	for range int(plan.Duration / plan.Every) {
		<-tick.C
		now, c, cpu := time.Now(), scrSum(viewers), scrCPU(srv.PID)
		secs := now.Sub(lastAt).Seconds()
		s := scrSoakSample{At: now.Sub(t0), RSS: scrTreeRSS(tree(srv.PID)),
			Updates: float64(c.updates-last.updates) / float64(len(viewers)) / secs,
			CPU:     100 * (cpu - lastCPU).Seconds() / secs}
		res.Samples = append(res.Samples, s)
		res.Peak = max(res.Peak, s.RSS)
		last, lastCPU, lastAt = c, cpu, now
	}
	tick.Stop()
	bed.drawer.Stop()
	res.Peak = max(res.Peak, hwm(srv.PID))
	truth := frame.New(0, 0)
	if err := bed.truth.Capture(truth); err != nil {
		tb.Fatalf("capture the truth: %v", err)
	}
	res.Verdict = scrSettle(viewers, truth, scrCheck{}, plan.Settle)
	res.LoadAfter = scrLoad()
	return res
}

// Growth returns the mean memory of the first and of the last minute of samples (of the
// first and last half when the soak is shorter than two minutes), and how much the last
// grew over the first, as a fraction.
func (r *scrSoakResult) Growth() (first, last float64, growth float64) {
	if len(r.Samples) == 0 {
		return 0, 0, 0
	}
	n := r.growthSamples()
	mean := func(ss []scrSoakSample) float64 {
		var sum float64
		for _, s := range ss {
			sum += float64(s.RSS)
		}
		return sum / float64(len(ss))
	}
	first, last = mean(r.Samples[:n]), mean(r.Samples[len(r.Samples)-n:])
	return first, last, last/first - 1
}

// growthSamples is how many samples at each end Growth compares: a minute's, or half of
// them when there are fewer than two minutes'.
func (r *scrSoakResult) growthSamples() int {
	return max(1, min(int(time.Minute/r.Plan.Every), len(r.Samples)/2))
}

// Markdown writes the soak's report: the samples a minute to a line, the growth and the
// verdicts.
func (r *scrSoakResult) Markdown(w io.Writer, command string) {
	p := r.Plan
	fmt.Fprintf(w, "# Screen soak: %s's memory over %v\n\n", r.Server, p.Duration)
	fmt.Fprintf(w, "- Machine: %s; load average %s before the run, %s after\n", scrMachine(), r.LoadBefore, r.LoadAfter)
	fmt.Fprintf(w, "- Command: `%s` (`%s=2m` for a shorter try)\n", command, scrSoakEnv)
	fmt.Fprintf(w, "- %s (%s) alone on one Xvfb %dx%dx24; the video workload at %d frames/s; %d viewers asking for "+
		"lossless Tight, decoding everything, connected before the drawing starts\n",
		r.Server, r.Version, p.Width, p.Height, p.FPS, p.Viewers)
	fmt.Fprintf(w, "- Every %v: the server's resident memory (VmRSS of its process tree), and since the sample "+
		"before, the updates each viewer decoded per second and the server's CPU (%% of one core)\n\n", p.Every)

	perRow := max(1, int(time.Minute/p.Every))
	fmt.Fprintf(w, "| from | to | RSS, MiB, every %v | updates/s per viewer | CPU %% |\n|---|---|---|---:|---:|\n", p.Every)
	for i := 0; i < len(r.Samples); i += perRow {
		ss := r.Samples[i:min(i+perRow, len(r.Samples))]
		var rss []string
		var updates, cpu float64
		for _, s := range ss {
			rss = append(rss, fmt.Sprintf("%.0f", scrMiB(s.RSS)))
			updates += s.Updates / float64(len(ss))
			cpu += s.CPU / float64(len(ss))
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %.0f |\n", scrClock(ss[0].At), scrClock(ss[len(ss)-1].At),
			strings.Join(rss, " "), scrNum(updates), cpu)
	}
	first, last, growth := r.Growth()
	mark := "✓"
	if growth >= scrSoakGrowth {
		mark = "✗"
	}
	fmt.Fprintf(w, "\n- Memory growth: %.1f MiB on average over the first %v, %.1f MiB over the last: %+.1f%% %s "+
		"(the target: under %.0f%%)\n", scrMiB(int64(first)), time.Duration(r.growthSamples())*p.Every,
		scrMiB(int64(last)), 100*growth, mark, 100*scrSoakGrowth)
	mark = "✓"
	if r.Peak >= scrTargetRSS {
		mark = "✗"
	}
	fmt.Fprintf(w, "- Peak: %.0f MiB (VmHWM, or the largest sample) %s (the target: under %d MiB)\n",
		scrMiB(r.Peak), mark, scrTargetRSS>>20)
	mark = "✓"
	if !r.Verdict.OK() {
		mark = "✗ " + r.Verdict.Worst
	}
	fmt.Fprintf(w, "- At the end, %d of %d viewers showed the screen's exact pixels within %v %s\n",
		r.Verdict.Matched, r.Verdict.Viewers, p.Settle, mark)
}

// scrClock formats d as minutes and seconds, "1:05".
func scrClock(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
