package bench

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Measures of a row.

func (r scrRow) secs() float64 { return r.Window.Seconds() }

// UpdatesPerSec is the FramebufferUpdates each viewer decoded per second, on average.
func (r scrRow) UpdatesPerSec() float64 {
	return float64(r.Counts.updates) / float64(r.Viewers) / r.secs()
}

// FramesPerSec is the drawn frames each viewer got to see per second, on average: changes of
// the frame stamp, which partial or coalesced updates do not inflate.
func (r scrRow) FramesPerSec() float64 {
	return float64(r.Counts.frames) / float64(r.Viewers) / r.secs()
}

// BytesPerUpdate is the mean size of an update's rectangles.
func (r scrRow) BytesPerUpdate() float64 {
	return float64(r.Counts.bytes) / float64(max(r.Counts.updates, 1))
}

// CPUPerUpdate is the server's CPU time per update sent, over all viewers.
func (r scrRow) CPUPerUpdate() time.Duration {
	return r.CPU / time.Duration(max(r.Counts.updates, 1))
}

// CPUPercent is the server's CPU use, in percent of one core.
func (r scrRow) CPUPercent() float64 { return 100 * r.CPU.Seconds() / r.secs() }

// XPercent is the X server's CPU use (the drawing and every capture), in percent of one core.
func (r scrRow) XPercent() float64 { return 100 * r.XCPU.Seconds() / r.secs() }

// ViewerPercent is the benchmark process's CPU use (viewers and drawing), in percent of one core.
func (r scrRow) ViewerPercent() float64 { return 100 * r.ViewerCPU.Seconds() / r.secs() }

// DrawnPerSec is the frames the workload drew per second.
func (r scrRow) DrawnPerSec() float64 { return float64(r.Drawn) / r.secs() }

// Markdown writes the report: the measurements, buktu's ratios to each peer, idle CPU and
// latency, with the machine and the command.
func (rep *scrReport) Markdown(w io.Writer, command string) {
	p := rep.Plan
	fmt.Fprintf(w, "# Screen benchmark: buktu beside x11vnc and x0vncserver\n\n")
	busy := ""
	for _, l := range []string{rep.LoadBefore, rep.LoadAfter} {
		if f := strings.Fields(l); len(f) > 0 {
			if v, err := strconv.ParseFloat(f[0], 64); err == nil && v > float64(runtime.NumCPU()) {
				busy = " (**above the core count: other work shared the cores and slowed every server**)"
			}
		}
	}
	fmt.Fprintf(w, "- Machine: %s; load average %s before the run, %s after%s\n",
		scrMachine(), rep.LoadBefore, rep.LoadAfter, busy)
	fmt.Fprintf(w, "- Command: `%s`\n", command)
	fmt.Fprintf(w, "- Display: one Xvfb %dx%dx24 shared by every server (one server runs at a time); the "+
		"workloads are drawn at %d frames/s, or the rate in the *fps* column, by the benchmark's own X "+
		"client (video: a full-screen filmed-looking scene, %d frames in a loop, every pixel new every "+
		"frame, which zlib and JPEG compress about as they do real footage; noise: a full-screen grainy "+
		"picture, new every frame, which nothing compresses; scrolling text: a %s region scrolled by "+
		"one line a frame with CopyArea; moving square: %dx%d px over a still background)\n",
		p.Width, p.Height, p.FPS, scrVideoKinds, scrTextSize(p), scrSquareSide, scrSquareSide)
	fmt.Fprintf(w, "- Servers, with their defaults:")
	for i, s := range rep.Servers {
		sep := ","
		if i == 0 {
			sep = ""
		}
		fmt.Fprintf(w, "%s %s (%s)", sep, s.Name, s.Version)
	}
	fmt.Fprintf(w, "\n- Viewers: buktu's Go RFB client (internal/rfb), decoding everything, asking for an "+
		"incremental update as soon as it decoded the last; CompressLevel 2 as TigerVNC's vncviewer; "+
		"lossless unless JPEG is named; VNC authentication, no TLS, on every server unless TLS is named. "+
		"They run in the benchmark's process on the same cores as the servers.\n")
	fmt.Fprintf(w, "- Each row: %v warm-up, then %v counted; then drawing stops and every viewer's copy "+
		"must match the screen (lossless: every pixel; JPEG: PSNR ≥ 30 dB) within %v, else the row is "+
		"marked ✗ and left out of the ratios.\n", p.Warmup, p.Window, p.Settle)
	fmt.Fprintf(w, "- *updates/s*: FramebufferUpdates per viewer per second; *frames/s*: distinct drawn frames "+
		"a viewer saw per second (a stamp in the corner); *CPU/update*: the server process's user+system "+
		"time per update sent, over all viewers; *Xvfb %%*: the X server's CPU (drawing plus the "+
		"server's screen reads); *viewers CPU %%*: the benchmark process's (decoding in every viewer; the "+
		"workload's X client is a process of its own); CPU %% is of one core, and the machine has %d; "+
		"*peak RSS*: the server's resident memory at its highest during the row (its process tree's "+
		"VmRSS sampled every 50 ms, or its VmHWM if higher), viewers connected.\n\n", runtime.NumCPU())

	rep.targetList(w)
	rep.ratios(w)
	rep.latencyTable(w)
	rep.measurements(w)
}

func scrTextSize(p scrPlan) string {
	return fmt.Sprintf("%dx%d", p.Width/2, p.Height*2/3/scrLineHeight*scrLineHeight)
}

// scrRowKey identifies a measurement across servers.
type scrRowKey struct {
	w       scrWorkload
	fps     int
	enc     string
	viewers int
}

func (rep *scrReport) find(server string, k scrRowKey) (scrRow, bool) {
	for _, s := range rep.Servers {
		if s.Name != server {
			continue
		}
		for _, r := range s.Rows {
			if r.Workload == k.w && r.FPS == k.fps && r.Encoding == k.enc && r.Viewers == k.viewers {
				return r, true
			}
		}
	}
	return scrRow{}, false
}

func (rep *scrReport) peers() []string {
	var out []string
	for _, s := range rep.Servers {
		if !strings.HasPrefix(s.Name, "buktu") {
			out = append(out, s.Name)
		}
	}
	return out
}

func (rep *scrReport) keys() []scrRowKey {
	var out []scrRowKey
	seen := map[scrRowKey]bool{}
	for _, s := range rep.Servers {
		for _, r := range s.Rows {
			k := scrRowKey{r.Workload, r.FPS, r.Encoding, r.Viewers}
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// ratios writes buktu's measures divided by each peer's.
func (rep *scrReport) ratios(w io.Writer) {
	peers := rep.peers()
	if len(peers) == 0 {
		return
	}
	fmt.Fprintf(w, "## buktu ÷ peer\n\nAbove 1 is better for buktu in *frames/s* and *updates/s*; below 1 is "+
		"better in *bytes/update* and *CPU/update*.\n\n")
	head := "| workload | fps | encoding | viewers |"
	sep := "|---|---:|---|---:|"
	for _, m := range []string{"frames/s", "updates/s", "bytes/update", "CPU/update"} {
		for _, p := range peers {
			head += fmt.Sprintf(" %s vs %s |", m, p)
			sep += "---:|"
		}
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, sep)
	for _, k := range rep.keys() {
		b, ok := rep.find("buktu", k)
		if !ok {
			continue
		}
		line := fmt.Sprintf("| %s | %d | %s | %d |", k.w, k.fps, k.enc, k.viewers)
		measures := []func(scrRow) float64{
			scrRow.FramesPerSec, scrRow.UpdatesPerSec, scrRow.BytesPerUpdate,
			func(r scrRow) float64 { return r.CPUPerUpdate().Seconds() },
		}
		for _, m := range measures {
			for _, p := range peers {
				r, ok := rep.find(p, k)
				switch {
				case !ok:
					line += " |"
				case !b.Verdict.OK() || !r.Verdict.OK():
					line += " ✗ |"
				default:
					line += " " + scrRatio(m(b), m(r)) + " |"
				}
			}
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w)
}

func scrRatio(a, b float64) string {
	if b == 0 || math.IsInf(a, 0) || math.IsNaN(a/b) {
		return "–"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// latencyTable writes idle CPU and input-to-pixel latency per server.
func (rep *scrReport) latencyTable(w io.Writer) {
	fmt.Fprintf(w, "## Idle CPU and input-to-pixel latency\n\nIdle: one viewer connected, nothing drawn, "+
		"%v. Latency: a click sent by a viewer allowed input (buktu's logs in as the admin over TLS "+
		"on Control) makes the benchmark's X client paint a marker; the time until that viewer's copy "+
		"shows it; median (90th percentile) of %d, with the screen still and under the video workload.\n\n",
		rep.Plan.Idle, rep.Plan.Latency)
	fmt.Fprintln(w, "| server | idle CPU % | latency, still | latency, video |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	for _, s := range rep.Servers {
		if s.IdleWindow == 0 {
			continue
		}
		idle := 100 * s.IdleCPU.Seconds() / s.IdleWindow.Seconds()
		lat := func(ds []time.Duration) string {
			if len(ds) < rep.Plan.Latency {
				return "✗ " + s.LatencyErr
			}
			m, p90 := scrMedian(ds)
			return fmt.Sprintf("%.1f ms (%.1f)", scrMs(m), scrMs(p90))
		}
		fmt.Fprintf(w, "| %s | %.2f | %s | %s |\n", s.Name, idle, lat(s.LatencyIdle), lat(s.LatencyVideo))
	}
	fmt.Fprintln(w)
}

func scrMs(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// scrNum formats v with about three significant digits.
func scrNum(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// measurements writes every row.
func (rep *scrReport) measurements(w io.Writer) {
	fmt.Fprintf(w, "## Measurements\n\n")
	fmt.Fprintln(w, "| workload | fps | encoding | viewers | server | ok | frames/s | updates/s | KiB/update | CPU/update | server CPU % | Xvfb CPU % | viewers CPU % | drawn/s | peak RSS |")
	fmt.Fprintln(w, "|---|---:|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	var bad []string
	for _, k := range rep.keys() {
		for _, s := range rep.Servers {
			r, ok := rep.find(s.Name, k)
			if !ok {
				continue
			}
			mark := "✓"
			if !r.Verdict.OK() {
				mark = "✗"
				bad = append(bad, fmt.Sprintf("- %s, %s at %d/s, %s, %d viewers: %d of %d viewers matched the screen; %s",
					s.Name, k.w, k.fps, k.enc, k.viewers, r.Verdict.Matched, r.Verdict.Viewers, r.Verdict.Worst))
			} else if r.Verdict.PSNR < math.Inf(1) {
				mark = fmt.Sprintf("✓ %.0f dB", r.Verdict.PSNR)
			}
			fmt.Fprintf(w, "| %s | %d | %s | %d | %s | %s | %s | %s | %s | %s ms | %.0f | %.0f | %.0f | %.1f | %.0f MiB |\n",
				k.w, k.fps, k.enc, k.viewers, s.Name, mark, scrNum(r.FramesPerSec()), scrNum(r.UpdatesPerSec()),
				scrNum(r.BytesPerUpdate()/1024), scrNum(scrMs(r.CPUPerUpdate())), r.CPUPercent(), r.XPercent(),
				r.ViewerPercent(), r.DrawnPerSec(), scrMiB(r.RSS))
		}
	}
	if len(bad) > 0 {
		fmt.Fprintf(w, "\nRows marked ✗:\n%s\n", strings.Join(bad, "\n"))
	}
	fmt.Fprintln(w)
}
