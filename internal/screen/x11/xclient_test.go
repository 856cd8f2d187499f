package x11

import (
	"bufio"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// waitLimit bounds every wait for the X server in these tests.
const waitLimit = 10 * time.Second

// testDisplay is an Xvfb started for one test.
type testDisplay struct {
	name      string // ":N"
	authority string // Xauthority file with its cookie
}

// startXvfb runs Xvfb at w×h with a cookie of its own, stopped by t.Cleanup. (Package xvfb
// does this for the host; this package may not import it.)
func startXvfb(t testing.TB, w, h int) testDisplay {
	t.Helper()
	if _, err := exec.LookPath("Xvfb"); err != nil {
		t.Fatal("Xvfb is not installed; 'make setup' (scripts/setup-debian.sh) installs it")
	}
	dir := t.TempDir()
	d := testDisplay{authority: filepath.Join(dir, "Xauthority")}
	cookie := make([]byte, 16)
	rand.Read(cookie)
	entry := xauthEntry{family: familyWild, name: "MIT-MAGIC-COOKIE-1", data: cookie}
	if err := os.WriteFile(d.authority, appendXauthority(nil, entry), 0o600); err != nil {
		t.Fatal(err)
	}
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", strconv.Itoa(w)+"x"+strconv.Itoa(h)+"x24",
		"-auth", d.authority, "-nolisten", "tcp", "-noreset")
	cmd.ExtraFiles = []*os.File{wr}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Xvfb: %v", err)
	}
	wr.Close()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	r.SetReadDeadline(time.Now().Add(waitLimit))
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("Xvfb gave no display number: %v\n%s", err, stderr.String())
	}
	d.name = ":" + strings.TrimSpace(line)
	return d
}

// open connects a Conn to d, closed by t.Cleanup.
func open(t testing.TB, d testDisplay, opts Options) *Conn {
	t.Helper()
	opts.Authority = d.authority
	c, err := Open(t.Context(), d.name, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", d.name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// client is a plain X client of the test's own, to draw and to watch what arrives.
type client struct {
	t      testing.TB
	xc     *xgb.Conn
	screen xproto.ScreenInfo
	events chan xgb.Event
}

func newClient(t testing.TB, d testDisplay) *client {
	t.Helper()
	xc, _, err := connect(t.Context(), d.name, d.authority)
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, xc: xc, screen: xproto.Setup(xc).Roots[0], events: make(chan xgb.Event, 4096)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			ev, err := xc.WaitForEvent()
			if ev == nil && err == nil {
				return
			}
			if ev != nil {
				c.events <- ev
			}
		}
	}()
	t.Cleanup(func() { xc.Close(); <-done })
	return c
}

// window creates and maps a w×h window at (x, y) with a black background that reports
// the events in mask; override-redirect, so no window manager would move it.
func (c *client) window(x, y, w, h int, mask uint32) xproto.Window {
	c.t.Helper()
	win, err := xproto.NewWindowId(c.xc)
	if err != nil {
		c.t.Fatal(err)
	}
	err = xproto.CreateWindowChecked(c.xc, c.screen.RootDepth, win, c.screen.Root, int16(x), int16(y),
		uint16(w), uint16(h), 0, xproto.WindowClassInputOutput, c.screen.RootVisual,
		xproto.CwBackPixel|xproto.CwOverrideRedirect|xproto.CwEventMask,
		[]uint32{0, 1, mask}).Check()
	if err != nil {
		c.t.Fatalf("create window: %v", err)
	}
	if err := xproto.MapWindowChecked(c.xc, win).Check(); err != nil {
		c.t.Fatalf("map window: %v", err)
	}
	return win
}

// fill paints r of win in colour 0xRRGGBB and waits until the server has done it.
func (c *client) fill(win xproto.Window, colour uint32, x, y, w, h int) {
	c.t.Helper()
	gc, err := xproto.NewGcontextId(c.xc)
	if err != nil {
		c.t.Fatal(err)
	}
	xproto.CreateGC(c.xc, gc, xproto.Drawable(win), xproto.GcForeground, []uint32{colour})
	xproto.PolyFillRectangle(c.xc, xproto.Drawable(win), gc,
		[]xproto.Rectangle{{X: int16(x), Y: int16(y), Width: uint16(w), Height: uint16(h)}})
	xproto.FreeGC(c.xc, gc)
	c.xc.Sync()
}

// focus gives win the keyboard focus.
func (c *client) focus(win xproto.Window) {
	c.t.Helper()
	if err := xproto.SetInputFocusChecked(c.xc, xproto.InputFocusParent, win, xproto.TimeCurrentTime).Check(); err != nil {
		c.t.Fatalf("focus: %v", err)
	}
}

// next returns the next event that match accepts, skipping others, failing the test when
// none comes in time.
func (c *client) next(t testing.TB, what string, match func(xgb.Event) bool) xgb.Event {
	t.Helper()
	timeout := time.After(waitLimit)
	for {
		select {
		case ev := <-c.events:
			if match(ev) {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s arrived within %v", what, waitLimit)
			return nil
		}
	}
}

// keysym returns the keysym a client sees for a key event: the first or second keysym of
// the keycode, by Shift (and Caps Lock for letters).
func (c *client) keysym(code xproto.Keycode, state uint16) uint32 {
	c.t.Helper()
	km, err := xproto.GetKeyboardMapping(c.xc, code, 1).Reply()
	if err != nil {
		c.t.Fatal(err)
	}
	kb := keyboard{min: code, max: code, per: int(km.KeysymsPerKeycode), syms: km.Keysyms}
	plain, shifted := kb.levels(code)
	shift := state&xproto.KeyButMaskShift != 0
	if state&xproto.KeyButMaskLock != 0 && hasCase(plain) {
		shift = !shift
	}
	if shift {
		return shifted
	}
	return plain
}
