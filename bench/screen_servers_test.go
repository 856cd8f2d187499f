package bench

import (
	"bufio"
	"crypto/des"
	"fmt"
	"io"
	"math/bits"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/rfb"
	"github.com/buktu/buktu/internal/screen/xvfb"
	"github.com/buktu/buktu/internal/testenv"
)

// scrPassword is the VNC password of every server under test: the measuring viewers log in
// with legacy VNC authentication everywhere, so that no server pays for TLS and the others not.
const scrPassword = "bench-pw"

// scrServer is one RFB server under test, sharing the benchmark's display.
type scrServer struct {
	Name    string
	Version string
	Addr    string            // where the measuring viewers connect
	Login   rfb.ClientOptions // how they log in (the run sets the encodings)
	// ControlAddr and ControlLogin are for the latency viewer, which must be allowed input.
	ControlAddr  string
	ControlLogin rfb.ClientOptions
	PID          int // the process whose CPU time the server costs
	Stop         func()
}

// scrStartBuktu starts a buktu host sharing the display. Its viewers log in with the
// legacy VNC password (view-only) unless tls is set, in which case they log in as the admin
// over VeNCrypt X509Plain; its latency viewer always logs in as the admin on Control.
func scrStartBuktu(tb testing.TB, d *xvfb.Server, tls bool) *scrServer {
	tb.Helper()
	extra := fmt.Sprintf("[screen]\nvnc_password = %q\nmax_viewers_per_address = 100\n", scrPassword)
	h := testenv.StartScreenHostOn(tb, d.Display(), d.Authority(), extra)
	admin := rfb.ClientOptions{User: "admin", Password: h.AdminPassword, TLS: h.ScreenTLS(tb)}
	s := &scrServer{Name: "buktu", Version: "this tree", Addr: h.Observe, Login: rfb.ClientOptions{VNCPassword: scrPassword},
		ControlAddr: h.Control, ControlLogin: admin, PID: h.PID(), Stop: h.Stop}
	if tls {
		s.Name, s.Login = "buktu (TLS)", admin
	}
	return s
}

// scrStartX11vnc starts x11vnc on the display with its defaults, plus what sharing it
// with many viewers on loopback needs, and -nocursor: for viewers that take no cursor shapes
// (ours) x11vnc otherwise paints an arrow into the pixels it sends, which the screen does not
// hold (buktu never does).
func scrStartX11vnc(tb testing.TB, d *xvfb.Server) *scrServer {
	tb.Helper()
	port := scrFreePort(tb)
	p := scrStartPeer(tb, "x11vnc", nil, func(out, _ string) bool { return strings.HasPrefix(out, "PORT=") },
		"-display", d.Display(), "-auth", d.Authority(), "-rfbport", port, "-localhost",
		"-shared", "-forever", "-nocursor", "-passwd", scrPassword)
	addr := net.JoinHostPort("127.0.0.1", port)
	return &scrServer{Name: "x11vnc", Version: scrVersion("x11vnc", "-version"), Addr: addr,
		Login: rfb.ClientOptions{VNCPassword: scrPassword}, ControlAddr: addr,
		ControlLogin: rfb.ClientOptions{VNCPassword: scrPassword}, PID: p.pid, Stop: p.stop}
}

// scrStartX0vnc starts TigerVNC's scraping server (x0vncserver's binary) on the display
// with its defaults, plus VNC authentication with our password.
func scrStartX0vnc(tb testing.TB, d *xvfb.Server) *scrServer {
	tb.Helper()
	port := scrFreePort(tb)
	pwFile := filepath.Join(tb.TempDir(), "passwd")
	if err := os.WriteFile(pwFile, scrVNCPasswd(scrPassword), 0o600); err != nil {
		tb.Fatal(err)
	}
	p := scrStartPeer(tb, "X0tigervnc", []string{"XAUTHORITY=" + d.Authority()},
		func(_, errLine string) bool { return strings.Contains(errLine, "Listening for VNC connections") },
		"-display", d.Display(), "-rfbport", port, "-localhost=1",
		"-SecurityTypes", "VncAuth", "-PasswordFile", pwFile)
	addr := net.JoinHostPort("127.0.0.1", port)
	return &scrServer{Name: "x0vncserver", Version: scrVersion("X0tigervnc", "-version"), Addr: addr,
		Login: rfb.ClientOptions{VNCPassword: scrPassword}, ControlAddr: addr,
		ControlLogin: rfb.ClientOptions{VNCPassword: scrPassword}, PID: p.pid, Stop: p.stop}
}

// scrVNCPasswd returns a password file as vncpasswd writes it: the password's first 8 bytes,
// zero padded, DES-encrypted with the fixed key every VNC implementation uses (23, 82, 107,
// 6, 35, 78, 88, 7, bit-reversed for a standard DES, as VNC authentication reverses its keys).
func scrVNCPasswd(pw string) []byte {
	key := []byte{23, 82, 107, 6, 35, 78, 88, 7}
	for i, k := range key {
		key[i] = bits.Reverse8(k)
	}
	block, err := des.NewCipher(key)
	if err != nil {
		panic(err) // the key is 8 bytes
	}
	var plain, out [8]byte
	copy(plain[:], pw)
	block.Encrypt(out[:], plain[:])
	return out[:]
}

// scrPeer is a peer server process started for the benchmark.
type scrPeer struct {
	pid  int
	stop func()
}

// scrStartPeer runs prog with args (and env added to ours) until ready accepts a line of its
// stdout or stderr; it fails the benchmark if that takes over 20 s. Stopped by tb.Cleanup.
func scrStartPeer(tb testing.TB, prog string, env []string, ready func(out, err string) bool, args ...string) scrPeer {
	tb.Helper()
	testenv.Require(tb, prog)
	cmd := exec.Command(prog, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", prog, err)
	}
	seen := make(chan struct{})
	var log scrTail
	watch := func(r io.Reader, isErr bool) {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			line := sc.Text()
			log.add(line)
			out, errLine := line, ""
			if isErr {
				out, errLine = "", line
			}
			if ready(out, errLine) {
				select {
				case <-seen:
				default:
					close(seen)
				}
			}
		}
	}
	exited := make(chan struct{})
	go func() {
		done := make(chan struct{})
		go func() { watch(stdout, false); close(done) }()
		watch(stderr, true)
		<-done
		cmd.Wait()
		close(exited)
	}()
	stop := func() {
		select {
		case <-exited:
			return
		default:
		}
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}
	tb.Cleanup(stop)
	select {
	case <-seen:
	case <-exited:
		tb.Fatalf("%s exited before it listened:\n%s", prog, log.String())
	case <-time.After(20 * time.Second):
		tb.Fatalf("%s did not listen within 20 s:\n%s", prog, log.String())
	}
	return scrPeer{pid: cmd.Process.Pid, stop: stop}
}

// scrFreePort returns a loopback TCP port that was free a moment ago, for peers that cannot
// be told to pick their own.
func scrFreePort(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// scrVersion returns the first line a program prints for its version flag.
func scrVersion(prog string, args ...string) string {
	out, _ := exec.Command(prog, args...).CombinedOutput()
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(line)
}

// scrTail keeps the last lines a peer printed, for error messages.
type scrTail struct {
	mu    sync.Mutex // guards lines
	lines []string
}

func (t *scrTail) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, line)
	if len(t.lines) > 40 {
		t.lines = t.lines[1:]
	}
}

func (t *scrTail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}
