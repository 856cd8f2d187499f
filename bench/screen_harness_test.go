package bench

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/rfb/wire"
	"github.com/buktu/buktu/internal/screen/x11"
	"github.com/buktu/buktu/internal/screen/xvfb"
	"github.com/buktu/buktu/internal/testenv"
)

// scrEncoding is what the measuring viewers ask for, and how their copies must match.
type scrEncoding struct {
	Name      string
	Encodings []wire.Encoding
	Check     scrCheck
}

// The viewers ask what TigerVNC's vncviewer asks by default (compression level 2), with
// lossless Tight unless JPEG is the point.
func scrTight() scrEncoding {
	return scrEncoding{"Tight", []wire.Encoding{wire.EncodingTight, wire.EncodingZRLE, wire.EncodingHextile,
		wire.EncodingRaw, wire.EncodingCompressLevel0 + 2}, scrCheck{}}
}

func scrZRLE() scrEncoding {
	return scrEncoding{"ZRLE", []wire.Encoding{wire.EncodingZRLE, wire.EncodingHextile, wire.EncodingRaw,
		wire.EncodingCompressLevel0 + 2}, scrCheck{}}
}

func scrJPEG() scrEncoding {
	return scrEncoding{"Tight+JPEG q8", []wire.Encoding{wire.EncodingTight, wire.EncodingZRLE, wire.EncodingRaw,
		wire.EncodingCompressLevel0 + 2, wire.EncodingQualityLevel0 + 8}, scrCheck{minPSNR: 30}}
}

// scrCase is one more measurement beyond the plan's grid: another encoding or rate for a
// workload.
type scrCase struct {
	Encoding scrEncoding
	Workload scrWorkload
	Viewers  int
	FPS      int // frames drawn a second; 0 means the plan's
}

// scrPlan says what a run of the harness measures and for how long.
type scrPlan struct {
	Width, Height int
	FPS           int           // of the grid, and of the extra cases that name none
	Workloads     []scrWorkload // each with Tight, for each count of Viewers
	Viewers       []int
	Extra         []scrCase
	Warmup        time.Duration // after a workload starts, before counting
	Window        time.Duration // counting
	Settle        time.Duration // the most the viewers may take to show the final screen
	Idle          time.Duration // measuring the CPU of an idle server with one viewer
	Latency       int           // input-to-pixel samples, idle and under the video
}

// scrEntry is a server the harness measures, and which part of the plan.
type scrEntry struct {
	Start func(testing.TB, *xvfb.Server) *scrServer
	// Viewers and Workloads narrow the plan's grid when set; Partial skips the extra
	// cases, the idle CPU and the latency.
	Viewers   []int
	Workloads []scrWorkload
	Partial   bool
}

// scrRow is one measurement: a server, a workload in an encoding, some viewers.
type scrRow struct {
	Server   string
	Workload scrWorkload
	Encoding string
	Viewers  int
	FPS      int // the rate the workload was drawn at
	Window   time.Duration
	Counts   scrCounts     // totals over the viewers, within the window
	CPU      time.Duration // the server's, within the window
	XCPU     time.Duration // the X server's (drawing and capture), within the window
	// ViewerCPU is the benchmark process's, within the window: the viewers' decoding, on the
	// same cores as the servers.
	ViewerCPU time.Duration
	Drawn     int64 // frames the workload drew within the window
	// RSS is the server's peak resident memory from the workload's start until its viewers
	// showed the final screen: its process tree's VmRSS, sampled, or its VmHWM if larger.
	RSS     int64
	Verdict scrVerdict
}

// scrServerResult is everything measured of one server.
type scrServerResult struct {
	Name, Version string
	Rows          []scrRow
	IdleCPU       time.Duration // over IdleWindow, one viewer connected, nothing drawn
	IdleWindow    time.Duration
	LatencyIdle   []time.Duration
	LatencyVideo  []time.Duration
	LatencyErr    string
}

// scrReport is a whole run of the harness.
type scrReport struct {
	Plan                  scrPlan
	Servers               []scrServerResult
	LoadBefore, LoadAfter string // the machine's load averages
}

// scrBed is the shared display, the X client drawing on it and a connection reading the truth.
type scrBed struct {
	disp    *xvfb.Server
	drawer  *scrDrawProc
	truth   *x11.Conn
	xvfbPID int
}

// scrRun runs plan against every entry, one server at a time on one display.
func scrRun(tb testing.TB, plan scrPlan, entries []scrEntry) *scrReport {
	tb.Helper()
	return scrNewBed(tb, plan).runAll(tb, plan, entries)
}

// runAll runs plan against every entry, one server at a time on the bed's display, which
// must have the plan's size.
func (bed *scrBed) runAll(tb testing.TB, plan scrPlan, entries []scrEntry) *scrReport {
	tb.Helper()
	rep := &scrReport{Plan: plan, LoadBefore: scrLoad()}
	for _, e := range entries {
		srv := e.Start(tb, bed.disp)
		rep.Servers = append(rep.Servers, bed.measure(tb, plan, e, srv))
		srv.Stop()
	}
	rep.LoadAfter = scrLoad()
	return rep
}

// scrNewBed starts the display of plan's size, the workload's X client on it and the
// connection that reads the truth; all stopped by tb.Cleanup.
func scrNewBed(tb testing.TB, plan scrPlan) *scrBed {
	tb.Helper()
	testenv.Require(tb, "Xvfb")
	ctx := context.Background()
	disp, err := xvfb.Start(ctx, xvfb.Options{Width: plan.Width, Height: plan.Height, Depth: 24, Session: []string{}})
	if err != nil {
		tb.Fatalf("start Xvfb: %v", err)
	}
	tb.Cleanup(func() { disp.Stop() })
	// The drawer's xgb reads the cookie from $XAUTHORITY; the drawer and the servers inherit it.
	tb.Setenv("XAUTHORITY", disp.Authority())
	bed := &scrBed{disp: disp, xvfbPID: scrFindPID("Xvfb", disp.Authority())}
	bed.drawer = scrStartDrawProc(tb, disp.Display())
	if bed.truth, err = x11.Open(ctx, disp.Display(), x11.Options{Authority: disp.Authority()}); err != nil {
		tb.Fatalf("open %s for the truth: %v", disp.Display(), err)
	}
	tb.Cleanup(func() { bed.truth.Close() })
	return bed
}

// measure runs the plan's part for e against srv.
func (bed *scrBed) measure(tb testing.TB, plan scrPlan, e scrEntry, srv *scrServer) scrServerResult {
	tb.Helper()
	res := scrServerResult{Name: srv.Name, Version: srv.Version}
	counts := scrOr(e.Viewers, plan.Viewers)
	workloads := scrOr(e.Workloads, plan.Workloads)
	for _, n := range counts {
		viewers := bed.connect(tb, srv, scrTight(), n)
		for _, w := range workloads {
			res.Rows = append(res.Rows, bed.run(tb, plan, srv, viewers, w, scrTight(), plan.FPS))
		}
		if n == 1 && !e.Partial {
			res.IdleCPU, res.IdleWindow = bed.idle(plan, srv)
		}
		scrCloseAll(viewers)
	}
	if e.Partial {
		return res
	}
	for _, c := range plan.Extra {
		viewers := bed.connect(tb, srv, c.Encoding, c.Viewers)
		res.Rows = append(res.Rows, bed.run(tb, plan, srv, viewers, c.Workload, c.Encoding, cmp.Or(c.FPS, plan.FPS)))
		scrCloseAll(viewers)
	}
	var err error
	bed.drawer.Reset()
	if res.LatencyIdle, err = bed.latency(tb, plan, srv); err == nil {
		bed.drawer.Start(scrVideo, plan.FPS)
		res.LatencyVideo, err = bed.latency(tb, plan, srv)
		bed.drawer.Stop()
	}
	if err != nil {
		res.LatencyErr = err.Error()
	}
	return res
}

// scrOr returns a, or b when a is nil.
func scrOr[T any](a, b []T) []T {
	if a != nil {
		return a
	}
	return b
}

// connect logs n viewers in to srv asking for enc, starts them and waits for their first
// frame.
func (bed *scrBed) connect(tb testing.TB, srv *scrServer, enc scrEncoding, n int) []*scrViewer {
	tb.Helper()
	bed.drawer.Reset()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	o := srv.Login
	o.Encodings = enc.Encodings
	var viewers []*scrViewer
	for range n {
		v, err := scrDial(ctx, srv.Addr, o)
		if err != nil {
			scrCloseAll(viewers)
			tb.Fatalf("%s: viewer %d of %d: %v", srv.Name, len(viewers)+1, n, err)
		}
		go v.Run()
		viewers = append(viewers, v)
	}
	for i, v := range viewers {
		select {
		case <-v.updated:
		case <-v.done:
			scrCloseAll(viewers)
			tb.Fatalf("%s: viewer %d of %d ended before its first frame: %v", srv.Name, i+1, n, v.err)
		case <-ctx.Done():
			scrCloseAll(viewers)
			tb.Fatalf("%s: viewer %d of %d got no first frame", srv.Name, i+1, n)
		}
	}
	return viewers
}

func scrCloseAll(viewers []*scrViewer) {
	for _, v := range viewers {
		v.Close(true)
	}
}

// run measures one workload drawn at fps: it draws, lets the viewers catch up for the
// warm-up, counts for the window, then stops drawing and checks every viewer's copy against
// the screen. The server's memory is sampled throughout.
func (bed *scrBed) run(tb testing.TB, plan scrPlan, srv *scrServer, viewers []*scrViewer, w scrWorkload, enc scrEncoding, fps int) scrRow {
	tb.Helper()
	row := scrRow{Server: srv.Name, Workload: w, Encoding: enc.Name, Viewers: len(viewers), FPS: fps}
	mem := scrSampleRSS(srv.PID)
	bed.drawer.Start(w, fps)
	scrPause(plan.Warmup)
	self := os.Getpid()
	d0, _ := bed.drawer.Counts()
	c0, cpu0, x0, v0, t0 := scrSum(viewers), scrCPU(srv.PID), scrCPU(bed.xvfbPID), scrCPU(self), time.Now()
	scrPause(plan.Window)
	c1, cpu1, x1, v1 := scrSum(viewers), scrCPU(srv.PID), scrCPU(bed.xvfbPID), scrCPU(self)
	d1, _ := bed.drawer.Counts()
	row.Window = time.Since(t0)
	bed.drawer.Stop()
	row.Counts = scrCounts{c1.updates - c0.updates, c1.bytes - c0.bytes, c1.frames - c0.frames}
	row.CPU, row.XCPU, row.ViewerCPU, row.Drawn = cpu1-cpu0, x1-x0, v1-v0, d1-d0
	truth := frame.New(0, 0)
	if err := bed.truth.Capture(truth); err != nil {
		tb.Fatalf("capture the truth: %v", err)
	}
	settle := time.Now()
	row.Verdict = scrSettle(viewers, truth, enc.Check, plan.Settle)
	row.RSS = mem.Stop()
	verdict := "ok"
	if !row.Verdict.OK() {
		verdict = fmt.Sprintf("INVALID: %d of %d viewers match the screen; %s",
			row.Verdict.Matched, row.Verdict.Viewers, row.Verdict.Worst)
	}
	tb.Logf("%s, %s at %d/s, %s, %s: %.1f frames/s, %.1f updates/s per viewer, %.0f%% CPU, %.0f MiB; settled in %v: %s",
		srv.Name, w, fps, enc.Name, scrViewers(len(viewers)), row.FramesPerSec(), row.UpdatesPerSec(), row.CPUPercent(),
		scrMiB(row.RSS), time.Since(settle).Round(time.Millisecond), verdict)
	return row
}

// scrSum returns what the viewers counted so far, summed.
func scrSum(viewers []*scrViewer) scrCounts {
	var c scrCounts
	for _, v := range viewers {
		k := v.counts()
		c.updates, c.bytes, c.frames = c.updates+k.updates, c.bytes+k.bytes, c.frames+k.frames
	}
	return c
}

// idle measures the server's CPU with one viewer connected and nothing changing.
func (bed *scrBed) idle(plan scrPlan, srv *scrServer) (time.Duration, time.Duration) {
	bed.drawer.Reset()
	scrPause(plan.Warmup) // the last changes reach the viewer; the server calms down
	cpu0, t0 := scrCPU(srv.PID), time.Now()
	scrPause(plan.Idle)
	return scrCPU(srv.PID) - cpu0, time.Since(t0)
}

// scrPause lets time pass while something else works: the measuring windows.
func scrPause(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	<-t.C
}

// latency presses the mouse button over the drawer's window through a viewer allowed input,
// which makes the drawer paint a marker there, and times how long until the viewer's copy
// shows it, for plan.Latency spots in turn.
func (bed *scrBed) latency(tb testing.TB, plan scrPlan, srv *scrServer) ([]time.Duration, error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o := srv.ControlLogin
	o.Encodings = scrTight().Encodings
	v, err := scrDial(ctx, srv.ControlAddr, o)
	if err != nil {
		return nil, fmt.Errorf("latency viewer: %w", err)
	}
	defer v.Close(false)
	// Each step has scrLatencyLimit: a marker that never shows ends the viewer.
	var timedOut atomic.Bool
	limit := time.AfterFunc(scrLatencyLimit, func() { timedOut.Store(true); v.c.Close() })
	defer limit.Stop()
	c := v.c
	if err := c.Request(false); err != nil {
		return nil, err
	}
	if err := c.ReadUpdate(nil); err != nil {
		return nil, fmt.Errorf("latency viewer's first frame: %w", err)
	}
	if err := c.Request(true); err != nil {
		return nil, err
	}
	cols, rows := 5, (plan.Latency+4)/5
	var out []time.Duration
	for i := range plan.Latency {
		x := plan.Width * (i%cols + 1) / (cols + 1)
		y := plan.Height * (i/cols + 1) / (rows + 1)
		// A pause that does not divide the frame period, so presses land at every phase of it.
		scrPause(time.Duration(40+i*17%50) * time.Millisecond)
		_, clicks := bed.drawer.Counts()
		limit.Reset(scrLatencyLimit)
		t0 := time.Now()
		for _, b := range []uint8{1, 0} {
			if err := c.Send(wire.PointerEvent{Buttons: b, X: uint16(x), Y: uint16(y)}); err != nil {
				return out, fmt.Errorf("send a click: %w", err)
			}
		}
		for {
			if err := c.ReadUpdate(nil); err != nil {
				if timedOut.Load() {
					_, now := bed.drawer.Counts()
					err = fmt.Errorf("not within %v; the X client saw %d clicks, the viewer shows %06x there",
						scrLatencyLimit, now-clicks, c.Frame().Pixel(x, y)&0xffffff)
				}
				return out, fmt.Errorf("marker %d at %d,%d never showed: %w", i+1, x, y, err)
			}
			if err := c.Request(true); err != nil {
				return out, err
			}
			if scrMarked(c.Frame(), x, y) {
				out = append(out, time.Since(t0))
				break
			}
		}
	}
	return out, nil
}

// scrLatencyLimit bounds the wait for one marker.
const scrLatencyLimit = 10 * time.Second

// scrMarked reports whether the drawer's marker shows around (x, y).
func scrMarked(f *frame.Frame, x, y int) bool {
	const r = scrMarkerSide/2 - 2
	for _, p := range [][2]int{{0, 0}, {-r, -r}, {r, -r}, {-r, r}, {r, r}} {
		px, py := x+p[0], y+p[1]
		if px < 0 || py < 0 || px >= f.W || py >= f.H || f.Pixel(px, py)&0xffffff != scrMarkerCol {
			return false
		}
	}
	return true
}

// scrMedian returns the median of ds and their 90th percentile.
func scrMedian(ds []time.Duration) (time.Duration, time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2], s[min(len(s)-1, len(s)*9/10)]
}
