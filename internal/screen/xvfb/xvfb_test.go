package xvfb

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/testenv"
)

const waitLimit = 10 * time.Second

func start(t *testing.T, ctx context.Context, opts Options) *Server {
	t.Helper()
	testenv.Require(t, "Xvfb")
	s, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

// xwininfo runs xwininfo -root on s's display with the given Xauthority file.
func xwininfo(t *testing.T, s *Server, authority string) (string, error) {
	t.Helper()
	testenv.Require(t, "xwininfo")
	cmd := exec.CommandContext(t.Context(), "xwininfo", "-root")
	cmd.Env = append(os.Environ(), "DISPLAY="+s.Display(), "XAUTHORITY="+authority)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// waitFor polls cond under a deadline: the session is an outside process.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(waitLimit)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%s did not happen within %v", what, waitLimit)
		}
	}
}

func TestStart(t *testing.T) {
	t.Setenv("WAYLAND_DISPLAY", "wayland-0") // must not reach the session
	log := filepath.Join(t.TempDir(), "session.log")
	s := start(t, t.Context(), Options{
		Width: 640, Height: 480,
		Session: []string{"sh", "-c", `echo "$DISPLAY $XAUTHORITY ${WAYLAND_DISPLAY:-none}" >> "$1"; exit 3`, "sh", log},
	})
	if !strings.HasPrefix(s.Display(), ":") {
		t.Fatalf("Display() = %q", s.Display())
	}

	out, err := xwininfo(t, s, s.Authority())
	if err != nil || !strings.Contains(out, "Width: 640") || !strings.Contains(out, "Height: 480") {
		t.Errorf("xwininfo -root with the cookie = %v\n%s\nwant a 640x480 root window", err, out)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, nil, 0o600)
	if out, err := xwininfo(t, s, empty); err == nil {
		t.Errorf("xwininfo without the cookie succeeded:\n%s", out)
	}

	// The session exits at once: it is started again, with the display in its environment.
	var lines []string
	waitFor(t, "a session restart", func() bool {
		b, _ := os.ReadFile(log)
		lines = strings.Fields(strings.TrimSpace(string(b)))
		return len(lines) >= 6
	})
	if lines[0] != s.Display() || lines[1] != s.Authority() || lines[2] != "none" {
		t.Errorf("session environment = DISPLAY %q XAUTHORITY %q WAYLAND_DISPLAY %q; want %q %q none",
			lines[0], lines[1], lines[2], s.Display(), s.Authority())
	}
}

func TestStopEndsSession(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	s := start(t, t.Context(), Options{
		Width: 320, Height: 240,
		Session: []string{"sh", "-c", `echo $$ > "$1.tmp" && mv "$1.tmp" "$1" && exec sleep 1000`, "sh", pidFile},
	})
	var pid int
	waitFor(t, "the session start", func() bool {
		b, err := os.ReadFile(pidFile)
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && pid > 0
	})
	auth, display := s.Authority(), s.Display()
	s.Stop()
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("session process %d after Stop: kill 0 = %v; want ESRCH", pid, err)
	}
	select {
	case <-s.Done():
	default:
		t.Error("Done() not closed after Stop")
	}
	if _, err := os.Stat(auth); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cookie file after Stop: %v; want it removed", err)
	}
	if _, err := os.Stat("/tmp/.X11-unix/X" + strings.TrimPrefix(display, ":")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("display socket after Stop: %v; want it gone", err)
	}
}

func TestContextEndsServer(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	s := start(t, ctx, Options{Width: 320, Height: 240, Session: []string{}})
	other := start(t, t.Context(), Options{Width: 320, Height: 240, Session: []string{}})
	if s.Display() == other.Display() {
		t.Errorf("two servers share display %s", s.Display())
	}
	cancel()
	select {
	case <-s.Done():
	case <-time.After(waitLimit):
		t.Fatal("Xvfb still running after its context ended")
	}
	if _, err := xwininfo(t, other, other.Authority()); err != nil {
		t.Errorf("the other display stopped too: %v", err)
	}
}

func TestStartFails(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"no such program", Options{Program: "buktu-no-such-xvfb"}},
		{"program exits at once", Options{Program: "false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Start(t.Context(), tt.opts)
			if err == nil {
				s.Stop()
				t.Fatal("Start succeeded")
			}
		})
	}
}
