// Package testenv starts the real things buktu's tests run against: the buktu binary as a
// host, and the peer programs (OpenSSH's sftp and scp, rclone, lftp). Everything it starts is
// stopped by t.Cleanup. Only tests import it.
package testenv

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Require fails the test when a program the suite needs is missing: a test that skips for a
// missing peer would pass while proving nothing.
func Require(t testing.TB, programs ...string) {
	t.Helper()
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("%s is not installed; 'make setup' (scripts/setup-debian.sh) installs it", p)
		}
	}
}

var build struct {
	once sync.Once
	path string
	err  error
}

// Binary builds the buktu command once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		dir, err := os.MkdirTemp("", "buktu-test-bin-")
		if err != nil {
			build.err = err
			return
		}
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		build.path = filepath.Join(dir, "buktu")
		// Build with the tags this test binary was built with (make test passes turbojpeg).
		args := []string{"build", "-o", build.path}
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "-tags" && s.Value != "" {
					args = append(args, "-tags", s.Value)
				}
			}
		}
		cmd := exec.Command("go", append(args, "./cmd/buktu")...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// RemoveBinary deletes what Binary built; a package's TestMain calls it after m.Run, so no
// test run leaves a binary behind in the temporary folder.
func RemoveBinary() {
	if build.path != "" {
		os.RemoveAll(filepath.Dir(build.path))
	}
}

// Host is a buktu host process started for a test.
type Host struct {
	Bin           string
	DataDir       string
	Send          string // host:port of the send service
	Exchange      string // host:port of the exchange service
	Control       string // host:port of the control service, when the screen is on
	Observe       string // host:port of the observe service, when the screen is on
	Display       string // the X display the host shares, when the screen is on
	AdminPassword string
	// Args are more arguments of `buktu serve`, and Env more variables of its environment,
	// for the next Start.
	Args, Env []string
	cmd       *exec.Cmd
	stdout    *LockedBuffer
	stderr    *LockedBuffer
	exited    chan struct{}
}

// Config is the test config every host starts with: loopback, ports the system picks, and the
// screen ports off (StartScreenHost turns them on).
const Config = "[listen]\naddress = \"127.0.0.1\"\nbase_port = 0\ncontrol = \"off\"\nobserve = \"off\"\n"

// ScreenConfig is Config with the screen ports on.
const ScreenConfig = "[listen]\naddress = \"127.0.0.1\"\nbase_port = 0\n"

// StartHost starts `buktu serve` on a new data directory with Config plus extra, and waits
// until it listens.
func StartHost(t testing.TB, extra string) *Host {
	t.Helper()
	return StartHostIn(t, t.TempDir(), extra)
}

// StartHostIn is StartHost on the data directory dir, which is created if missing: a test
// that watches the folders around the data directory chooses where it lies.
func StartHostIn(t testing.TB, dir, extra string) *Host {
	t.Helper()
	return startHost(t, dir, Config+extra)
}

// StartScreenHost starts a host with all four ports on, sharing a virtual display of its own
// (Xvfb), with ScreenConfig plus extra.
func StartScreenHost(t testing.TB, extra string) *Host {
	t.Helper()
	Require(t, "Xvfb")
	return startHost(t, t.TempDir(), ScreenConfig+extra)
}

func startHost(t testing.TB, dir, config string) *Host {
	t.Helper()
	h := &Host{Bin: Binary(t), DataDir: dir}
	h.writeConfig(t, config)
	h.Start(t)
	return h
}

func (h *Host) writeConfig(t testing.TB, config string) {
	t.Helper()
	if err := os.MkdirAll(h.DataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.DataDir, "buktu.toml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
}

var listenLine = regexp.MustCompile(`^(send|exchange|control|observe)\s+(?:sftp|vnc)://(\S+)`)

// Start starts (or restarts) the host process on its data directory.
func (h *Host) Start(t testing.TB) {
	t.Helper()
	h.cmd = exec.Command(h.Bin, append([]string{"serve", "--data", h.DataDir, "--log-format", "json"}, h.Args...)...)
	if h.Env != nil {
		h.cmd.Env = append(os.Environ(), h.Env...)
	}
	h.stdout, h.stderr = &LockedBuffer{}, &LockedBuffer{}
	pr, pw := io.Pipe()
	h.cmd.Stdout = io.MultiWriter(h.stdout, pw)
	h.cmd.Stderr = h.stderr
	if err := h.cmd.Start(); err != nil {
		t.Fatalf("start buktu serve: %v", err)
	}
	h.exited = make(chan struct{})
	cmd, exited := h.cmd, h.exited
	go func() {
		cmd.Wait()
		pw.Close()
		close(exited)
	}()
	t.Cleanup(func() {
		// A graceful stop is a success, or systemd reports the unit failed.
		if h.stop(cmd, exited) && !killed(cmd) && cmd.ProcessState.ExitCode() != 0 {
			t.Errorf("buktu serve stopped by SIGTERM exited with status %d; want 0\nstderr:\n%s",
				cmd.ProcessState.ExitCode(), tail(h.stderr.String(), 2000))
		}
	})
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			if d, ok := strings.CutPrefix(line, "display   "); ok {
				h.Display = d
			}
			if pw, ok := strings.CutPrefix(line, "admin password: "); ok {
				h.AdminPassword = pw
			}
			if m := listenLine.FindStringSubmatch(line); m != nil {
				switch m[1] {
				case "send":
					h.Send = m[2]
				case "exchange":
					h.Exchange = m[2]
				case "control":
					h.Control = m[2]
				case "observe":
					h.Observe = m[2]
				}
			}
			if strings.HasPrefix(line, "tls certificate") {
				ready <- nil
				io.Copy(io.Discard, pr)
				return
			}
		}
		ready <- fmt.Errorf("buktu serve ended before it listened")
	}()
	select {
	case err := <-ready:
		if err != nil {
			<-exited
			t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, h.stdout, h.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("buktu serve did not listen within 30s\nstderr:\n%s", h.stderr)
	}
}

// stop stops the host with SIGTERM, or SIGKILL when it has not ended 20 s later, and
// reports whether it sent the SIGTERM (false: the host had ended already).
func (h *Host) stop(cmd *exec.Cmd, exited chan struct{}) bool {
	select {
	case <-exited:
		return false
	default:
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-exited
	}
	return true
}

// killed says whether cmd ended by SIGKILL.
func killed(cmd *exec.Cmd) bool {
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// Stop stops the host with SIGTERM and waits for it.
func (h *Host) Stop() { h.stop(h.cmd, h.exited) }

// ExitCode returns the exit status of the host process once it has ended (see Exited).
func (h *Host) ExitCode() int { return h.cmd.ProcessState.ExitCode() }

// Signal sends sig to the host process.
func (h *Host) Signal(sig os.Signal) { h.cmd.Process.Signal(sig) }

// Kill stops the host with SIGKILL, as a crash would.
func (h *Host) Kill() {
	h.cmd.Process.Kill()
	<-h.exited
}

// PID returns the process id of the running host.
func (h *Host) PID() int { return h.cmd.Process.Pid }

// Exited is closed when the host process has ended.
func (h *Host) Exited() <-chan struct{} { return h.exited }

// Stderr returns what the host logged so far.
func (h *Host) Stderr() string { return h.stderr.String() }

// Stdout returns what the host printed so far.
func (h *Host) Stdout() string { return h.stdout.String() }

// Buktu runs the buktu command with args against the host's data directory (for host-side
// commands, add "--data", h.DataDir yourself) and returns stdout, stderr and the exit code.
func (h *Host) Buktu(t testing.TB, stdin string, env []string, args ...string) (string, string, int) {
	t.Helper()
	return Run(t, h.Bin, stdin, env, args...)
}

// Run runs a program with a 5-minute limit and returns stdout, stderr and the exit code.
func Run(t testing.TB, prog, stdin string, env []string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run %s: %v", prog, err)
		}
		code = ee.ExitCode()
	}
	return out.String(), errb.String(), code
}

// LockedBuffer collects a process's output while it runs; safe to read meanwhile.
type LockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
