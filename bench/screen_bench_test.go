package bench

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/screen/xvfb"
)

// scrCommand is how `make bench` runs BenchmarkScreen alone.
const scrCommand = "go test -tags turbojpeg -run=NONE -bench='BenchmarkScreen$' -benchtime=1x -timeout 30m ./bench/"

// scrFullPlan is the benchmark: three workloads at 30 frames/s on a 1080p screen,
// 1, 10 and 50 viewers with Tight; then one viewer of each at 60 frames/s, of the noise
// (the stress row), and of each with ZRLE; and the video with JPEG.
func scrFullPlan() scrPlan {
	return scrPlan{
		Width: 1920, Height: 1080, FPS: 30,
		Workloads: []scrWorkload{scrVideo, scrText, scrSquare},
		Viewers:   []int{1, 10, 50},
		Extra: []scrCase{
			{scrTight(), scrVideo, 1, 60}, {scrTight(), scrText, 1, 60}, {scrTight(), scrSquare, 1, 60},
			{scrTight(), scrNoise, 1, 0},
			{scrZRLE(), scrVideo, 1, 0}, {scrZRLE(), scrText, 1, 0}, {scrZRLE(), scrSquare, 1, 0},
			{scrJPEG(), scrVideo, 1, 0}, {scrJPEG(), scrVideo, 10, 0},
		},
		Warmup: time.Second, Window: 5 * time.Second, Settle: time.Minute,
		Idle: 4 * time.Second, Latency: 20,
	}
}

// scrEntries are the servers of the full benchmark: buktu, the two peers, and buktu again
// with TLS on the video, to show what encryption costs.
func scrEntries() []scrEntry {
	return []scrEntry{
		{Start: func(tb testing.TB, d *xvfb.Server) *scrServer { return scrStartBuktu(tb, d, false) }},
		{Start: scrStartX11vnc},
		{Start: scrStartX0vnc},
		{Start: func(tb testing.TB, d *xvfb.Server) *scrServer { return scrStartBuktu(tb, d, true) },
			Viewers: []int{1, 10}, Workloads: []scrWorkload{scrVideo}, Partial: true},
	}
}

// scrMetricName makes a server's name fit a benchmark metric's unit: "buktu (TLS)" becomes
// "buktu-TLS".
func scrMetricName(name string) string {
	return strings.NewReplacer(" ", "-", "(", "", ")", "").Replace(name)
}

// BenchmarkScreen runs the same workloads against buktu, x11vnc and TigerVNC's x0vncserver on
// one shared Xvfb and reports buktu's ratios to each: it prints a Markdown table and writes
// it to results/screen.md.
func BenchmarkScreen(b *testing.B) {
	var rep *scrReport
	for b.Loop() {
		rep = scrRun(b, scrFullPlan(), scrEntries())
	}
	var table bytes.Buffer
	rep.Markdown(&table, scrCommand)
	fmt.Print("\n" + table.String())
	if err := os.MkdirAll("results", 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("results", "screen.md"), table.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, s := range rep.Servers {
		for _, r := range s.Rows {
			if r.Workload == scrVideo && r.Viewers == 1 && r.Encoding == "Tight" && r.Verdict.OK() {
				b.ReportMetric(r.FramesPerSec(), fmt.Sprintf("video%d-fps-%s", r.FPS, scrMetricName(s.Name)))
			}
		}
	}
}

// TestScreenBenchSmoke runs BenchmarkScreen's and BenchmarkScreenSoak's machinery for buktu
// alone on a small screen and short windows, so the normal suite notices when the benchmark
// breaks: it must run, buktu's viewers must end with the screen's exact pixels, and every
// measure must be there.
func TestScreenBenchSmoke(t *testing.T) {
	plan := scrPlan{
		Width: 320, Height: 240, FPS: 30,
		Workloads: []scrWorkload{scrVideo, scrText, scrSquare},
		Viewers:   []int{1, 2},
		Extra: []scrCase{{scrZRLE(), scrSquare, 1, 0}, {scrJPEG(), scrVideo, 1, 0},
			{scrTight(), scrVideo, 1, 60}, {scrTight(), scrNoise, 1, 0}},
		Warmup: 200 * time.Millisecond, Window: 300 * time.Millisecond, Settle: 10 * time.Second,
		Idle: 300 * time.Millisecond, Latency: 3,
	}
	bed := scrNewBed(t, plan)
	rep := bed.runAll(t, plan, []scrEntry{{Start: func(tb testing.TB, d *xvfb.Server) *scrServer { return scrStartBuktu(tb, d, false) }}})
	if len(rep.Servers) != 1 {
		t.Fatalf("runAll measured %d servers, want 1", len(rep.Servers))
	}
	s := rep.Servers[0]
	if want := len(plan.Workloads)*len(plan.Viewers) + len(plan.Extra); len(s.Rows) != want {
		t.Errorf("runAll measured %d rows, want %d", len(s.Rows), want)
	}
	for _, r := range s.Rows {
		if !r.Verdict.OK() {
			t.Errorf("%s at %d/s, %s, %d viewers: %d of %d viewers show the screen: %s",
				r.Workload, r.FPS, r.Encoding, r.Viewers, r.Verdict.Matched, r.Verdict.Viewers, r.Verdict.Worst)
		}
		if r.Counts.updates == 0 || r.Drawn == 0 || r.RSS <= 0 {
			t.Errorf("%s at %d/s, %s, %d viewers: %d updates, %d frames drawn, %d bytes resident; want some of each",
				r.Workload, r.FPS, r.Encoding, r.Viewers, r.Counts.updates, r.Drawn, r.RSS)
		}
	}
	if len(s.LatencyIdle) != plan.Latency || len(s.LatencyVideo) != plan.Latency {
		t.Errorf("latency samples: %d still, %d under video, want %d each (%s)",
			len(s.LatencyIdle), len(s.LatencyVideo), plan.Latency, s.LatencyErr)
	}
	var table bytes.Buffer
	rep.Markdown(&table, "go test -run=TestScreenBenchSmoke ./bench/")
	for _, want := range []string{"| video | 30 | Tight | 1 | buktu | ✓ |", "| video | 60 | Tight | 1 | buktu | ✓ |",
		"| noise | 30 | Tight | 1 | buktu | ✓ |", "| moving square | 30 | ZRLE | 1 | buktu | ✓ |", "| buktu | ",
		"## Targets", "- memory: buktu's peak RSS with 2 viewers at 320x240 under 200 MiB — ",
		"- video at 60/s, Tight, 1 viewer: CPU/update at most 0.6× x11vnc's — not measured: no x11vnc row"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("Markdown wrote no %q:\n%s", want, table.String())
		}
	}

	srv := scrStartBuktu(t, bed.disp, false)
	soak := bed.soak(t, scrSoakPlan{Width: plan.Width, Height: plan.Height, FPS: 30, Viewers: 2,
		Duration: time.Second, Every: 250 * time.Millisecond, Settle: 10 * time.Second}, srv)
	srv.Stop()
	if len(soak.Samples) != 4 || !soak.Verdict.OK() {
		t.Errorf("soak: %d samples, %d of %d viewers show the screen (%s); want 4 and all",
			len(soak.Samples), soak.Verdict.Matched, soak.Verdict.Viewers, soak.Verdict.Worst)
	}
	for _, x := range soak.Samples {
		if x.RSS <= 0 || x.Updates <= 0 {
			t.Errorf("soak sample at %v: %d bytes resident, %.1f updates/s; want both positive", x.At, x.RSS, x.Updates)
		}
	}
	table.Reset()
	soak.Markdown(&table, "go test -run=TestScreenBenchSmoke ./bench/")
	for _, want := range []string{"| 0:00 | 0:01 | ", "- Memory growth: ", "- At the end, 2 of 2 viewers showed"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("soak's Markdown wrote no %q:\n%s", want, table.String())
		}
	}
}
