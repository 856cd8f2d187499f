package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// scrDrawerEnv names the display a child test process draws on; see TestScreenDrawerProcess.
const scrDrawerEnv = "BUKTU_BENCH_SCREEN_DRAWER"

// scrDrawProc is the workload's X client (scrDrawer) running in a child process of its own:
// in the benchmark's process its goroutines would wait behind those of dozens of busy
// viewers, and the workload would slow down with the very thing it measures. It answers
// one command at a time, on the goroutine of the test.
type scrDrawProc struct {
	tb    testing.TB
	mu    sync.Mutex // one command at a time
	in    io.WriteCloser
	out   *bufio.Reader
	cmd   *exec.Cmd
	ended chan struct{}
}

// scrStartDrawProc runs this test binary again as TestScreenDrawerProcess on display, whose
// cookie must be in $XAUTHORITY; stopped by tb.Cleanup.
func scrStartDrawProc(tb testing.TB, display string) *scrDrawProc {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestScreenDrawerProcess$", "-test.timeout=2h", "-test.count=1")
	cmd.Env = append(os.Environ(), scrDrawerEnv+"="+display)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr scrTail
	cmd.Stdout = io.Discard
	cmd.Stderr = scrLineWriter{&stderr}
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start the workload's X client: %v", err)
	}
	w.Close()
	p := &scrDrawProc{tb: tb, in: in, out: bufio.NewReader(r), cmd: cmd, ended: make(chan struct{})}
	go func() {
		cmd.Wait()
		r.Close()
		close(p.ended)
	}()
	tb.Cleanup(func() {
		in.Close() // the child ends at the end of its input
		select {
		case <-p.ended:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-p.ended
		}
	})
	if _, err := p.call("hello"); err != nil {
		tb.Fatalf("start the workload's X client: %v\n%s", err, stderr.String())
	}
	return p
}

// call sends one command and returns the reply's words after "ok".
func (p *scrDrawProc) call(line string) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := io.WriteString(p.in, line+"\n"); err != nil {
		return nil, fmt.Errorf("send %q: %w", line, err)
	}
	reply, err := p.out.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("%q: no reply: %w", line, err)
	}
	f := strings.Fields(reply)
	if len(f) == 0 || f[0] != "ok" {
		return nil, fmt.Errorf("%q: %s", line, strings.TrimSpace(reply))
	}
	return f[1:], nil
}

func (p *scrDrawProc) must(line string) []string {
	p.tb.Helper()
	f, err := p.call(line)
	if err != nil {
		p.tb.Fatalf("the workload's X client: %v", err)
	}
	return f
}

// Start begins drawing workload w at fps frames a second, from its first frame.
func (p *scrDrawProc) Start(w scrWorkload, fps int) { p.must(fmt.Sprintf("start %d %d", w, fps)) }

// Stop stops drawing, once the X server has drawn everything asked of it.
func (p *scrDrawProc) Stop() { p.must("stop") }

// Reset stops drawing and paints the idle screen: the background, no markers.
func (p *scrDrawProc) Reset() { p.must("reset") }

// Counts returns the frames drawn and the markers painted since the drawer started.
func (p *scrDrawProc) Counts() (drawn, clicks int64) {
	f := p.must("counts")
	if len(f) != 2 {
		p.tb.Fatalf("the workload's X client counted %q", f)
	}
	drawn, _ = strconv.ParseInt(f[0], 10, 64)
	clicks, _ = strconv.ParseInt(f[1], 10, 64)
	return drawn, clicks
}

// TestScreenDrawerProcess is the workload's X client when the screen benchmark runs this
// binary as its child (scrStartDrawProc); run any other way, it has nothing to do. It
// answers the commands of its standard input on file descriptor 3, one line each, and ends
// at the end of its input.
func TestScreenDrawerProcess(t *testing.T) {
	display := os.Getenv(scrDrawerEnv)
	if display == "" {
		t.Skip("the screen benchmark's X client: runs only as the benchmark's child process")
	}
	reply := os.NewFile(3, "reply")
	defer reply.Close()
	d, stop, err := scrStartDrawer(context.Background(), display)
	if err != nil {
		fmt.Fprintf(reply, "error %v\n", err)
		t.Fatal(err)
	}
	defer stop()
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		answer := "ok"
		switch {
		case f[0] == "hello":
		case f[0] == "start" && len(f) == 3:
			w, err1 := strconv.Atoi(f[1])
			fps, err2 := strconv.Atoi(f[2])
			if err1 != nil || err2 != nil || w <= int(scrIdle) || w > int(scrNoise) || fps <= 0 {
				answer = "error bad start " + f[1] + " " + f[2]
				break
			}
			if err := d.Start(scrWorkload(w), fps); err != nil {
				answer = "error " + strings.ReplaceAll(err.Error(), "\n", " ")
			}
		case f[0] == "stop":
			d.Stop()
		case f[0] == "reset":
			d.Reset()
		case f[0] == "counts":
			answer = fmt.Sprintf("ok %d %d", d.drawn.Load(), d.clicks.Load())
		default:
			answer = "error unknown command " + f[0]
		}
		if _, err := fmt.Fprintln(reply, answer); err != nil {
			return
		}
	}
}

// scrLineWriter adds what is written to a scrTail line by line.
type scrLineWriter struct{ t *scrTail }

func (w scrLineWriter) Write(b []byte) (int, error) {
	for line := range strings.Lines(string(b)) {
		w.t.add(strings.TrimRight(line, "\n"))
	}
	return len(b), nil
}
