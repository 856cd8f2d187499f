package host_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/buktu/buktu/internal/testenv"
)

// BenchmarkConsoleScreen measures the browser viewer at 1920x1080 on loopback: Debian's
// chromium shows the console while an xterm on the host prints without pause (`yes`), and the
// page counts, for 5 s, its animation frames (a page that lags drops them) and how often the
// canvas under the xterm changed.
//
//	go test -tags turbojpeg -run=NONE -bench=BenchmarkConsoleScreen -benchtime=1x ./internal/host/
func BenchmarkConsoleScreen(b *testing.B) {
	testenv.Require(b, "chromium", "xterm")
	d := startDisplay(b, 1920, 1080)
	h := startScreenHostOn(b, d, "")
	startPeer(b, []string{"DISPLAY=" + d.Display(), "XAUTHORITY=" + d.Authority()},
		"xterm", "-geometry", "160x50+0+0", "-e", "yes", "buktu in the browser")

	actx, cancelAlloc := chromedp.NewExecAllocator(b.Context(), chromedp.ExecPath("chromium"), chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.IgnoreCertErrors,
		chromedp.Flag("disable-background-networking", true), chromedp.WindowSize(1920, 1200),
		chromedp.UserDataDir(b.TempDir()))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, time.Minute)
	defer cancelTimeout()
	wait := func(expr string) {
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
			b.Fatalf("wait for %s: %v", expr, err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("https://"+h.Control+"/")); err != nil {
		b.Fatal(err)
	}
	wait(`document.body.dataset.view === "login"`)
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("login-account"), "admin"),
		chromedp.SetValue(chromedp.ID("login-password"), h.AdminPassword),
		chromedp.Click(chromedp.ID("login-submit"))); err != nil {
		b.Fatal(err)
	}
	wait(`document.getElementById("screen-status").dataset.state === "connected"`)
	wait(`document.querySelector("#screen canvas")?.width === 1920`)
	// Sampled by the page itself, so the numbers are what a person would see.
	const measure = `new Promise((done) => {
		const c = document.querySelector("#screen canvas").getContext("2d", {willReadFrequently: true});
		let frames = 0, changes = 0, last = "";
		const end = performance.now() + 5000;
		const tick = (now) => {
			frames++;
			const px = c.getImageData(8, 8, 400, 300).data;
			let h = 0;
			for (let i = 0; i < px.length; i += 7) h = (h * 31 + px[i]) | 0;
			if (String(h) !== last) { changes++; last = String(h); }
			if (now < end) requestAnimationFrame(tick); else done([frames / 5, changes / 5]);
		};
		requestAnimationFrame(tick);
	})`
	var rates []float64
	for b.Loop() {
		var err error
		if rates, err = chromedp.Run(ctx, chromedp.Evaluate[[]float64](measure, chromedp.EvalAwaitPromise)); err != nil {
			b.Fatal(err)
		}
	}
	if len(rates) != 2 || rates[1] == 0 {
		b.Fatalf("page measured %v; want frames/s and screen changes/s, some changes", rates)
	}
	b.ReportMetric(rates[0], "page-frames/s")
	b.ReportMetric(rates[1], "screen-changes/s")
}
