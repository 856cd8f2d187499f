package host_test

import (
	"crypto/des"
	"image/jpeg"
	"math/bits"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb/xproto"
	"github.com/jezek/xgb/xtest"

	"github.com/buktu/buktu/internal/events"
	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/screen/xvfb"
	"github.com/buktu/buktu/internal/testenv"
)

// portOfAddr returns the port of host:port as a number.
func portOfAddr(t testing.TB, addr string) int {
	t.Helper()
	p, err := strconv.Atoi(addr[strings.LastIndex(addr, ":")+1:])
	if err != nil {
		t.Fatalf("port of %q: %v", addr, err)
	}
	return p
}

// startPeer starts a peer program with env added to the test's environment, stopped by
// t.Cleanup; its output is kept for failure messages.
func startPeer(t testing.TB, env []string, prog string, args ...string) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	testenv.Require(t, prog)
	cmd := exec.Command(prog, args...)
	cmd.Env = append(os.Environ(), env...)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", prog, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	return cmd, out
}

// startVNCViewer runs TigerVNC's vncviewer with args on a display of its own, and waits
// until its window shows the host's screen pixel for pixel. It returns the viewer's display
// and where on it the host's screen begins.
func startVNCViewer(t *testing.T, sc scene, env []string, args ...string) (*xvfb.Server, int, int) {
	t.Helper()
	vd := startDisplay(t, 640, 480)
	env = append(env, "DISPLAY="+vd.Display(), "XAUTHORITY="+vd.Authority(), "HOME="+t.TempDir())
	// Lossless and fixed: TigerVNC's automatic choice would switch to JPEG.
	args = append([]string{"-AutoSelect=0", "-PreferredEncoding=ZRLE", "-FullColor", "-NoJPEG", "-Shared",
		"-RemoteResize=0"}, args...)
	args = append(args, "127.0.0.1::"+strconv.Itoa(portOfAddr(t, sc.host.Control)))
	_, out := startPeer(t, env, "vncviewer", args...)
	xc := dialX(t, vd)
	want := truth(t, sc.disp)
	var n int
	var first string
	deadline := time.Now().Add(screenWait)
	for {
		shot := xc.capture()
		if x, y, ok := findColour(shot, 0x123456); ok {
			dx, dy := x-sc.marker.X, y-sc.marker.Y
			if n, first = diffFrames(shot, want, dx, dy, nil); n == 0 {
				t.Logf("vncviewer shows the host's screen at %+d%+d of its display", dx, dy)
				return vd, dx, dy
			}
		} else {
			n, first = -1, "the pattern's marker is not on the viewer's display"
		}
		if time.Now().After(deadline) {
			t.Fatalf("vncviewer never showed the host's screen within %v: %d pixels differ; %s\nvncviewer:\n%s",
				screenWait, n, first, out)
		}
		time.Sleep(50 * time.Millisecond) // polling another process's window
	}
}

// fake sends input through XTEST: typ is xproto.KeyPress, KeyRelease, ButtonPress,
// ButtonRelease or MotionNotify (to x, y).
func (c *xclient) fake(typ, detail byte, x, y int) {
	c.t.Helper()
	if err := xtest.Init(c.xc); err != nil { // XTEST has no events: safe in parallel (see x11Conn)
		c.t.Fatalf("XTEST: %v", err)
	}
	if err := xtest.FakeInputChecked(c.xc, typ, detail, 0, c.screen.Root, int16(x), int16(y), 0).Check(); err != nil {
		c.t.Fatalf("fake input %d: %v", typ, err)
	}
}

// keycode returns the key whose unshifted keysym is keysym.
func (c *xclient) keycode(keysym uint32) byte {
	c.t.Helper()
	setup := xproto.Setup(c.xc)
	n := byte(setup.MaxKeycode - setup.MinKeycode + 1)
	km, err := xproto.GetKeyboardMapping(c.xc, setup.MinKeycode, n).Reply()
	if err != nil {
		c.t.Fatal(err)
	}
	per := int(km.KeysymsPerKeycode)
	for i := 0; i*per < len(km.Keysyms); i++ {
		if uint32(km.Keysyms[i*per]) == keysym {
			return byte(setup.MinKeycode) + byte(i)
		}
	}
	c.t.Fatalf("no key types keysym %#x", keysym)
	return 0
}

// focusTopWindow gives the keyboard focus to the topmost mapped window of c's screen.
func focusTopWindow(t testing.TB, c *xclient) {
	t.Helper()
	tree, err := xproto.QueryTree(c.xc, c.screen.Root).Reply()
	if err != nil {
		t.Fatal(err)
	}
	for i := len(tree.Children) - 1; i >= 0; i-- {
		win := tree.Children[i]
		attr, err := xproto.GetWindowAttributes(c.xc, win).Reply()
		if err != nil || attr.MapState != xproto.MapStateViewable || attr.Class != xproto.WindowClassInputOutput {
			continue
		}
		if err := xproto.SetInputFocusChecked(c.xc, xproto.InputFocusPointerRoot, win, xproto.TimeCurrentTime).Check(); err != nil {
			t.Fatalf("focus window %d: %v", win, err)
		}
		return
	}
	t.Fatalf("no mapped window to focus")
}

// TestScreenTigerVNC connects TigerVNC's vncviewer, each on a second display of the test's
// own, to the Control port: with VeNCrypt X509Plain (the host's certificate as CA, account
// and password in VNC_USERNAME and VNC_PASSWORD) it shows the host's screen pixel for pixel
// and passes a click and a key typed into its window on to the host; with legacy VNC
// authentication (a vncpasswd file) it shows the screen, and the log calls it view-only.
func TestScreenTigerVNC(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "vncviewer")
	const vncPassword = "tiger-p1"
	sc := patternHost(t, "[screen]\nvnc_password = \""+vncPassword+"\"\n")
	h := sc.host
	h.AddAccount(t, "pilot", "pilot-pw-1", "control")

	// Legacy authentication first: the other case puts a window over the pattern.
	t.Run("VncAuth", func(t *testing.T) {
		startVNCViewer(t, sc, nil, "-SecurityTypes=VncAuth", "-PasswordFile="+vncPasswdFile(t, vncPassword))
	})

	t.Run("X509Plain", func(t *testing.T) {
		vd, dx, dy := startVNCViewer(t, sc, []string{"VNC_USERNAME=pilot", "VNC_PASSWORD=pilot-pw-1"},
			"-SecurityTypes=X509Plain", "-X509CA="+h.CertFile())
		x := dialX(t, sc.disp)
		win := x.window(300, 200, 60, 40, xproto.EventMaskButtonPress|xproto.EventMaskKeyPress)
		if err := xproto.SetInputFocusChecked(x.xc, xproto.InputFocusParent, win, xproto.TimeCurrentTime).Check(); err != nil {
			t.Fatalf("focus: %v", err)
		}
		// On the viewer's display: give vncviewer the keyboard (it takes keys only when it
		// has the focus, and there is no window manager to give it), point at the window's
		// (20, 10), click, type k.
		vx := dialX(t, vd)
		focusTopWindow(t, vx)
		px, py := dx+320, dy+210
		vx.fake(xproto.MotionNotify, 0, px, py)
		vx.fake(xproto.ButtonPress, 1, px, py)
		vx.fake(xproto.ButtonRelease, 1, px, py)
		k := vx.keycode('k')
		vx.fake(xproto.KeyPress, k, 0, 0)
		vx.fake(xproto.KeyRelease, k, 0, 0)
		clicked, typed := false, false
		timeout := time.After(screenWait)
		for !clicked || !typed {
			select {
			case ev := <-x.events:
				switch ev := ev.(type) {
				case xproto.ButtonPressEvent:
					if ev.EventX != 20 || ev.EventY != 10 || ev.Detail != 1 {
						t.Errorf("click arrived as button %d at %d,%d of the window, want 1 at 20,10", ev.Detail, ev.EventX, ev.EventY)
					}
					clicked = true
				case xproto.KeyPressEvent:
					km, err := xproto.GetKeyboardMapping(x.xc, ev.Detail, 1).Reply()
					if err != nil || len(km.Keysyms) == 0 || km.Keysyms[0] != 'k' {
						t.Errorf("key typed in vncviewer arrived as keycode %d (%v), not k", ev.Detail, km)
					}
					typed = true
				}
			case <-timeout:
				t.Fatalf("within %v: click arrived %v, key arrived %v", screenWait, clicked, typed)
			}
		}
	})

	pollUntil(t, "the activity log records both sessions", func() bool {
		recs := h.Records(t, "--kind", events.KindSessionStart)
		return hasRecord(recs, func(r events.Record) bool {
			return r.Account == "pilot" && r.Service == "control" && r.Privilege == "control"
		}) && hasRecord(recs, func(r events.Record) bool {
			return r.Account == "vnc-password" && r.Service == "control" && r.Privilege == "observe"
		})
	})
}

// vncPasswdFile writes password in the vncpasswd file format: the first 8 bytes of the
// password, NUL padded, DES-encrypted with VNC's fixed key 23,82,107,6,35,78,88,7. VNC's DES
// takes each key byte's bits in reverse order, so crypto/des needs them reversed.
func vncPasswdFile(t testing.TB, password string) string {
	t.Helper()
	fixed := []byte{23, 82, 107, 6, 35, 78, 88, 7}
	key := make([]byte, 8)
	for i, b := range fixed {
		key[i] = bits.Reverse8(b)
	}
	block, err := des.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	var plain, enc [8]byte
	copy(plain[:], password)
	block.Encrypt(enc[:], plain[:])
	path := filepath.Join(t.TempDir(), "passwd")
	if err := os.WriteFile(path, enc[:], 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestScreenVNCSnapshot takes a picture with vncsnapshot (legacy VNC authentication, RFB
// 3.3) once the owner turned legacy authentication on: the JPEG it writes shows the host's
// screen, and the session is view-only even on the Control port.
func TestScreenVNCSnapshot(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "vncsnapshot")
	const password = "snap-pw1"
	sc := patternHost(t, "[screen]\nvnc_password = \""+password+"\"\n")
	h, want := sc.host, sc.want
	out := filepath.Join(t.TempDir(), "shot.jpg")
	display := portOfAddr(t, h.Control) - 5900
	got, errOut, code := testenv.Run(t, "vncsnapshot", "", []string{"HOME=" + t.TempDir()},
		"-passwd", vncPasswdFile(t, password), "-allowblank", "-quality", "95",
		"127.0.0.1:"+strconv.Itoa(display), out)
	if code != 0 {
		t.Fatalf("vncsnapshot: exit %d\n%s%s", code, got, errOut)
	}
	fh, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := jpeg.Decode(fh)
	if err != nil {
		t.Fatalf("decode vncsnapshot's JPEG: %v", err)
	}
	b := img.Bounds()
	if b.Dx() != want.W || b.Dy() != want.H {
		t.Fatalf("vncsnapshot's picture is %dx%d, want %dx%d", b.Dx(), b.Dy(), want.W, want.H)
	}
	shot := frame.New(b.Dx(), b.Dy())
	for y := range b.Dy() {
		for x := range b.Dx() {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			shot.SetPixel(x, y, r>>8<<16|g>>8<<8|bl>>8)
		}
	}
	p := psnr(shot, want)
	t.Logf("vncsnapshot's picture: PSNR %.1f dB", p)
	if p < 25 {
		t.Errorf("vncsnapshot's picture has a PSNR of %.1f dB against the display, want at least 25 dB", p)
	}
	pollUntil(t, "the activity log records the legacy session as view-only", func() bool {
		for _, r := range h.Records(t, "--kind", events.KindSessionStart) {
			if r.Account == "vnc-password" && r.Service == "control" {
				if r.Privilege != "observe" {
					t.Fatalf("legacy session recorded with privilege %q, want observe", r.Privilege)
				}
				return true
			}
		}
		return false
	})
}
