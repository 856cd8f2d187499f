package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/config"
	"github.com/buktu/buktu/internal/host"
	"github.com/buktu/buktu/internal/rfb"
	"github.com/buktu/buktu/internal/screen/xvfb"
	"github.com/buktu/buktu/internal/testenv"
)

// scrProfileEnv names the folder BenchmarkScreenProfile writes its profiles to; unset, the
// benchmark does nothing.
const scrProfileEnv = "BUKTU_BENCH_SCREEN_PROFILE"

// BenchmarkScreenProfile runs a buktu host inside the benchmark's process and records a CPU
// profile of each workload (video with 1 and 10 viewers, scrolling text and the square with
// one), to show where buktu's time per update goes. The profiles hold the viewers' decoding
// too: look at the host's functions (internal/screen, frame, rfb's server and encoders).
//
//	BUKTU_BENCH_SCREEN_PROFILE=/tmp/prof go test -run=NONE -bench=BenchmarkScreenProfile -benchtime=1x ./bench/
//	go tool pprof -top /tmp/prof/video-1.pprof
func BenchmarkScreenProfile(b *testing.B) {
	dir := os.Getenv(scrProfileEnv)
	if dir == "" {
		b.Skip("set " + scrProfileEnv + " to a folder for the profiles")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	plan := scrFullPlan()
	for b.Loop() {
		bed := scrNewBed(b, plan)
		srv := scrStartBuktuInProcess(b, bed.disp)
		for _, c := range []struct {
			w    scrWorkload
			n    int
			enc  scrEncoding
			name string
		}{{scrVideo, 1, scrTight(), ""}, {scrVideo, 1, scrJPEG(), "-jpeg"}, {scrVideo, 10, scrTight(), ""},
			{scrText, 1, scrTight(), ""}, {scrSquare, 1, scrTight(), ""}} {
			viewers := bed.connect(b, srv, c.enc, c.n)
			name := fmt.Sprintf("%s-%d%s", strings.Fields(c.w.String())[0], c.n, c.name)
			f, err := os.Create(filepath.Join(dir, name+".pprof"))
			if err != nil {
				b.Fatal(err)
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				b.Fatal(err)
			}
			bed.run(b, plan, srv, viewers, c.w, c.enc, plan.FPS)
			pprof.StopCPUProfile()
			f.Close()
			scrCloseAll(viewers)
		}
		srv.Stop()
	}
}

// scrStartBuktuInProcess runs host.Run in this process on display d, for profiles: its CPU
// time is the benchmark process's, and it has no latency viewer.
func scrStartBuktuInProcess(tb testing.TB, d *xvfb.Server) *scrServer {
	tb.Helper()
	dir := tb.TempDir()
	conf := testenv.ScreenConfig + fmt.Sprintf("[screen]\nvnc_password = %q\nmax_viewers_per_address = 100\n", scrPassword)
	if err := os.WriteFile(filepath.Join(dir, config.FileName), []byte(conf), 0o600); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan map[config.Service]net.Addr, 1)
	done := make(chan struct{})
	var runErr error
	go func() {
		defer close(done)
		runErr = host.Run(ctx, host.Options{DataDir: dir, Display: d.Display(),
			Ready: func(addrs map[config.Service]net.Addr) { ready <- addrs }})
	}()
	stop := func() {
		cancel()
		<-done
	}
	tb.Cleanup(stop)
	var addrs map[config.Service]net.Addr
	select {
	case addrs = <-ready:
	case <-done:
		tb.Fatalf("run the host: %v", runErr)
	case <-time.After(30 * time.Second):
		tb.Fatal("the host did not listen within 30 s")
	}
	// No latency viewer: the legacy password is view-only.
	return &scrServer{Name: "buktu", Version: "this tree, in the benchmark's process",
		Addr: addrs[config.Observe].String(), Login: rfb.ClientOptions{VNCPassword: scrPassword},
		PID: os.Getpid(), Stop: stop}
}
