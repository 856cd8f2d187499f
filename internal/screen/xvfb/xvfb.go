// Package xvfb starts a virtual X display for a host that has none: Xvfb on a free display
// number (Xvfb picks it and tells us through -displayfd), reachable only with a cookie of its
// own, plus a session command (a terminal by default) that is started again whenever it
// exits. It leaves talking to the display to package x11.
package xvfb

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Defaults for Options left zero.
const (
	DefaultWidth  = 1920
	DefaultHeight = 1080
	DefaultDepth  = 24
)

// DefaultSession is the session command when Options.Session is nil.
const DefaultSession = "xterm"

// Options say what display to start. The zero value is a 1920x1080 depth-24 screen
// running xterm.
type Options struct {
	Width, Height, Depth int
	// Session is the command run on the display, with DISPLAY and XAUTHORITY set, and
	// restarted (with growing pauses) each time it exits. Nil means DefaultSession; an
	// empty, non-nil slice runs no session.
	Session []string
	// Program is the X server to run; "" means Xvfb from $PATH.
	Program string
	// Logger receives session restarts (Warn) and lifecycle (Info); nil discards.
	Logger *slog.Logger
}

// Server is a running Xvfb and its session.
type Server struct {
	display   string
	authority string
	dir       string
	log       *slog.Logger

	cancel context.CancelFunc
	unhook func() bool // undoes the stop-with-ctx hook
	wg     sync.WaitGroup
	exited chan struct{} // closed when Xvfb has exited
	stderr *tail
	err    error // why Xvfb exited; set before exited is closed

	stopOnce sync.Once
}

// Start runs Xvfb and, once it accepts connections, the session. Both run until ctx ends
// or Stop is called.
func Start(ctx context.Context, opts Options) (*Server, error) {
	opts = withDefaults(opts)
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir, err := os.MkdirTemp("", "buktu-xvfb-")
	if err != nil {
		return nil, fmt.Errorf("start xvfb: %w", err)
	}
	s := &Server{
		dir:       dir,
		authority: filepath.Join(dir, "Xauthority"),
		log:       log,
		exited:    make(chan struct{}),
		stderr:    &tail{max: 4096},
	}
	if err := writeAuthority(s.authority); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start xvfb: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.unhook = context.AfterFunc(ctx, func() { s.Stop() })
	if err := s.startServer(ctx, runCtx, opts); err != nil {
		s.unhook()
		cancel()
		s.wg.Wait()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start xvfb: %w", err)
	}
	log.Info("virtual display started", "display", s.display,
		"geometry", fmt.Sprintf("%dx%dx%d", opts.Width, opts.Height, opts.Depth))
	if len(opts.Session) > 0 {
		s.wg.Go(func() { s.superviseSession(runCtx, opts.Session) })
	}
	return s, nil
}

func withDefaults(o Options) Options {
	if o.Width <= 0 {
		o.Width = DefaultWidth
	}
	if o.Height <= 0 {
		o.Height = DefaultHeight
	}
	if o.Depth <= 0 {
		o.Depth = DefaultDepth
	}
	if o.Session == nil {
		o.Session = []string{DefaultSession}
	}
	if o.Program == "" {
		o.Program = "Xvfb"
	}
	return o
}

// startServer runs Xvfb and waits until it writes its display number, which it does once
// it accepts connections.
func (s *Server) startServer(ctx, runCtx context.Context, opts Options) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	cmd := exec.CommandContext(runCtx, opts.Program,
		"-displayfd", "3",
		"-screen", "0", fmt.Sprintf("%dx%dx%d", opts.Width, opts.Height, opts.Depth),
		"-auth", s.authority,
		"-nolisten", "tcp",
		"-noreset",
	)
	cmd.ExtraFiles = []*os.File{w}
	cmd.Stderr = s.stderr
	cmd.SysProcAttr = childAttr()
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		w.Close()
		if errors.Is(err, exec.ErrNotFound) {
			return fmt.Errorf("%w (Debian: apt-get install xvfb)", err)
		}
		return err
	}
	w.Close()
	s.wg.Go(func() {
		err := cmd.Wait()
		if runCtx.Err() == nil {
			s.log.Warn("virtual display exited", "display", s.display, "err", err, "stderr", s.stderr.String())
		}
		s.err = fmt.Errorf("xvfb exited: %v", err)
		close(s.exited)
	})

	got := make(chan string, 1)
	go func() { // ends when Xvfb writes or exits: either closes the pipe's other end
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- line
	}()
	select {
	case line := <-got:
		n, err := strconv.Atoi(strings.TrimSpace(line))
		if err != nil {
			<-s.exited
			return fmt.Errorf("xvfb gave no display number: %v: %s", s.err, s.stderr.String())
		}
		s.display = ":" + strconv.Itoa(n)
		return nil
	case <-ctx.Done():
		r.Close()
		return ctx.Err()
	}
}

// superviseSession runs the session until ctx ends, starting it again after it exits:
// at once when it ran for a while, after pauses doubling up to 30 s when it keeps failing.
func (s *Server) superviseSession(ctx context.Context, argv []string) {
	const maxPause = 30 * time.Second
	pause := time.Second
	for ctx.Err() == nil {
		began := time.Now()
		err := s.runSession(ctx, argv)
		if ctx.Err() != nil {
			return
		}
		if time.Since(began) > maxPause {
			pause = time.Second
		}
		s.log.Warn("session exited, restarting", "command", argv[0], "err", err, "pause", pause)
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return
		}
		pause = min(2*pause, maxPause)
	}
}

func (s *Server) runSession(ctx context.Context, argv []string) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(sessionEnv(os.Environ()), "DISPLAY="+s.display, "XAUTHORITY="+s.authority, "XDG_SESSION_TYPE=x11")
	cmd.SysProcAttr = childAttr()
	cmd.SysProcAttr.Setpgid = true
	// Stop the session's whole process group: a shell script's children go too.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	return cmd.Run()
}

// sessionEnv drops from env what would send the session's windows elsewhere: a host
// running inside a Wayland desktop must not open the session's terminal there.
func sessionEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "DISPLAY", "XAUTHORITY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE":
			continue
		}
		out = append(out, kv)
	}
	return out
}

// Display returns the display name, such as ":1".
func (s *Server) Display() string { return s.display }

// Authority returns the Xauthority file holding the display's cookie: X clients need it
// as XAUTHORITY, and x11.Options.Authority takes it.
func (s *Server) Authority() string { return s.authority }

// Done returns a channel closed when Xvfb has exited, for whatever reason.
func (s *Server) Done() <-chan struct{} { return s.exited }

// Stop ends the session and Xvfb, waits for both, and removes the cookie file.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.unhook()
		s.cancel()
		s.wg.Wait()
		os.RemoveAll(s.dir)
		s.log.Info("virtual display stopped", "display", s.display)
	})
	return nil
}

// writeAuthority writes an Xauthority file with one fresh MIT-MAGIC-COOKIE-1 for any host
// and display number: Xvfb picks its number only after reading the file.
func writeAuthority(path string) error {
	cookie := make([]byte, 16)
	rand.Read(cookie)
	const familyWild = 65535
	b := binary.BigEndian.AppendUint16(nil, familyWild)
	for _, f := range [][]byte{nil, nil, []byte("MIT-MAGIC-COOKIE-1"), cookie} {
		b = binary.BigEndian.AppendUint16(b, uint16(len(f)))
		b = append(b, f...)
	}
	return os.WriteFile(path, b, 0o600)
}

// tail keeps the last max bytes written to it.
type tail struct {
	max int

	mu  sync.Mutex // guards buf
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}
