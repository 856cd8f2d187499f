package host_test

// The host's screen in the console, in a real browser: its pixels on the canvas, typing into
// the host's xterm with and without the right to, keys held down, and ask-for-permission. See
// console_browser_test.go for the scene.

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/buktu/buktu/internal/events"
	"github.com/buktu/buktu/internal/frame"
)

// canvas is the JavaScript expression of the noVNC canvas inside #screen.
const canvas = `document.querySelector("#screen canvas")`

// waitScreen waits until the page's screen is connected, and the canvas is the display's size.
func (tb *tab) waitScreen() {
	tb.t.Helper()
	tb.waitJS("the screen connected", `document.getElementById("screen-status").dataset.state === "connected"`,
		`document.getElementById("screen-status").textContent`)
	size := fmt.Sprintf("%d,%d", consoleW, consoleH)
	tb.waitJS("the canvas is the host's screen size", fmt.Sprintf(`%s?.width + "," + %[1]s?.height === %q`, canvas, size),
		canvas+`?.width + "," + `+canvas+`?.height`)
}

// waitColour waits until every pixel of r on the page's canvas has colour (0xRRGGBB): the
// canvas holds the framebuffer 1:1, whatever the scaling on screen.
func (tb *tab) waitColour(what string, r frame.Rect, colour uint32) {
	tb.t.Helper()
	expr := fmt.Sprintf(`(() => {
		const c = %s;
		if (!c || c.width < %d || c.height < %d) return false;
		const d = c.getContext("2d").getImageData(%d, %d, %d, %d).data;
		for (let i = 0; i < d.length; i += 4) {
			if ((d[i] << 16 | d[i+1] << 8 | d[i+2]) !== %d) return false;
		}
		return true;
	})()`, canvas, r.X+r.W, r.Y+r.H, r.X, r.Y, r.W, r.H, colour)
	first := fmt.Sprintf(`(() => { const d = %s?.getContext("2d").getImageData(%d, %d, 1, 1).data;
		return d ? (d[0] << 16 | d[1] << 8 | d[2]).toString(16) : "no canvas"; })()`, canvas, r.X, r.Y)
	tb.waitJS(what, expr, first)
}

// pixels returns the canvas's pixels in r as 0xRRGGBB, row by row.
func (tb *tab) pixels(r frame.Rect) []uint32 {
	tb.t.Helper()
	return eval[[]uint32](tb, fmt.Sprintf(`(() => {
		const d = %s.getContext("2d").getImageData(%d, %d, %d, %d).data;
		const out = new Array(d.length / 4);
		for (let i = 0; i < out.length; i++) out[i] = d[4*i] << 16 | d[4*i+1] << 8 | d[4*i+2];
		return out;
	})()`, canvas, r.X, r.Y, r.W, r.H))
}

// pixel returns the canvas's pixel at (x, y) as 0xRRGGBB.
func (tb *tab) pixel(x, y int) uint32 {
	tb.t.Helper()
	return tb.pixels(frame.Rect{X: x, Y: y, W: 1, H: 1})[0]
}

// clickScreen clicks the host's screen at (x, y) of its framebuffer, which also gives the
// canvas the keyboard.
func (tb *tab) clickScreen(x, y int) {
	tb.t.Helper()
	at := eval[[]float64](tb, fmt.Sprintf(`(() => { const c = %s; c.scrollIntoView({block: "nearest"});
		const r = c.getBoundingClientRect(); return [r.left, r.top, r.width / c.width, r.height / c.height]; })()`, canvas))
	tb.do(fmt.Sprintf("click the screen at %d,%d", x, y),
		chromedp.MouseClickXY(at[0]+(float64(x)+0.5)*at[2], at[1]+(float64(y)+0.5)*at[3]))
}

// saveFrame keeps f as a PNG test artefact, to see what the host's screen showed.
func saveFrame(t *testing.T, name string, f *frame.Frame) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, f.W, f.H))
	for y := range f.H {
		for x := range f.W {
			p := f.Pixel(x, y)
			img.Set(x, y, color.RGBA{R: uint8(p >> 16), G: uint8(p >> 8), B: uint8(p), A: 0xFF})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Errorf("encode %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(t.ArtifactDir(), name), b.Bytes(), 0o644); err != nil {
		t.Errorf("keep %s: %v", name, err)
	}
}

// keystrokes types s on the canvas as a person at a US keyboard does. Shift is held down
// around the characters that need it: noVNC sends the host the physical key (QEMU's key
// numbers) beside the symbol, and the host presses the physical key, so a '>' typed without
// Shift arrives as '.'. And no char events: a browser sends none after noVNC cancels the
// key's press, but one sent on its own would do its default, such as a space scrolling
// the page.
func keystrokes(s string) chromedp.Action[chromedp.Void] {
	shift := kb.Encode([]rune(kb.Shift)[0]) // its keyDown and keyUp
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, r := range s {
			var events []*input.DispatchKeyEventParams
			for _, e := range kb.Encode(r) {
				if e.Type != kb.KeyChar {
					events = append(events, e)
				}
			}
			if k, ok := kb.Keys[r]; ok && k.Shift {
				events = append([]*input.DispatchKeyEventParams{shift[0]}, append(events, shift[1])...)
			}
			for _, e := range events {
				if _, err := key(e)(ctx, t); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// scale11 switches the screen to 1:1 (the page starts at "fit").
func (tb *tab) scale11() {
	tb.t.Helper()
	if eval[string](tb, `document.getElementById("screen").dataset.scale`) != "1:1" {
		tb.do("scale 1:1", chromedp.Click(chromedp.ID("scale-toggle")))
	}
	tb.waitJS("the canvas shown 1:1", canvas+`.getBoundingClientRect().width === `+canvas+`.width`,
		canvas+`.getBoundingClientRect().width`)
}

// testScreen logs in as admin on the Control port: the canvas shows the host's marker where
// the host has it, 1:1.
func (sc *consoleScene) testScreen(t *testing.T) {
	t.Parallel()
	tb := sc.b.open(t, sc.h.Control)
	tb.screenshot("login.png", "")
	tb.login("admin", sc.h.AdminPassword)
	tb.waitScreen()
	tb.scale11()
	tb.waitColour("the host's marker on the canvas", sc.marker, markerColour)
	outside := []struct{ x, y int }{
		{sc.marker.X - 1, sc.marker.Y},
		{sc.marker.X + sc.marker.W, sc.marker.Y + sc.marker.H - 1},
		{sc.marker.X, sc.marker.Y + sc.marker.H},
	}
	for _, p := range outside {
		if got := tb.pixel(p.x, p.y); got == markerColour {
			t.Errorf("canvas pixel %d,%d just outside the marker has the marker's colour %06x", p.x, p.y, got)
		}
	}
	if got := tb.text("host-name"); !strings.HasPrefix(got, "buktu on ") {
		t.Errorf("#host-name = %q; want the host's desktop name", got)
	}
	if !tb.visible("keys-menu") {
		t.Errorf("the keys menu is hidden for admin on the Control port")
	}
	tb.screenshot("screen.png", "")
}

// testTyping types a shell command into the host's xterm from the console as accounts that
// may not (an observe account on the Control port, the admin on the Observe port), then as
// a control account: only the last one's command runs.
func (sc *consoleScene) testTyping(t *testing.T) {
	dir := t.TempDir()
	pilot := sc.b.open(t, sc.h.Control)
	pilot.login("pilot", "pilot-password-1")
	pilot.waitScreen()
	pilot.scale11()
	// The xterm gets the keyboard while the pointer is over it (X without a window manager):
	// put it there first, so that a refused account's keys would land in the xterm if the
	// host let them through.
	pilot.clickScreen(100, 40)

	refused := []struct {
		name, addr, account, password string
	}{
		{"observe account on control", sc.h.Control, "watcher", "watcher-password-1"},
		{"admin on observe", sc.h.Observe, "admin", sc.h.AdminPassword},
	}
	for i, r := range refused {
		tb := sc.b.open(t, r.addr)
		tb.login(r.account, r.password)
		tb.waitScreen()
		if got := tb.text("screen-status"); got != "connected, view only" {
			t.Errorf("%s: #screen-status = %q; want view only", r.name, got)
		}
		if tb.visible("keys-menu") {
			t.Errorf("%s: the keys menu is shown", r.name)
		}
		tb.scale11()
		tb.clickScreen(100, 40)
		tb.do(r.name+": type into the screen",
			keystrokes(fmt.Sprintf("echo refused > %s\r", filepath.Join(dir, fmt.Sprintf("refused-%d", i)))))
	}

	file := filepath.Join(dir, "typed")
	t.Cleanup(func() {
		if t.Failed() {
			saveFrame(t, "host-screen.png", truth(t, sc.d))
		}
	})
	if !pilot.visible("keys-menu") {
		t.Errorf("the keys menu is hidden for a control account")
	}
	pilot.clickScreen(100, 40)
	pilot.do("type into the screen", keystrokes("echo typed-by-buktu > "+file+"\r"))
	pollUntil(t, "xterm's shell writes the file typed in the browser", func() bool {
		b, err := os.ReadFile(file)
		return err == nil && string(b) == "typed-by-buktu\n"
	})
	// The refused keys went out before the control account's, and the host keeps order.
	for i, r := range refused {
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("refused-%d", i))); err == nil {
			t.Errorf("%s: its typing reached the host's xterm", r.name)
		}
	}
	if path := os.Getenv("BUKTU_README_SCREENSHOT"); path != "" {
		sc.readmeScreenshot(t, path)
	}
}

// testHeldKeys holds Shift down in a control account's console while another controlling
// viewer comes and goes: when that one leaves, the host must release only the keys that viewer
// held, so the Shift still held makes the second '>' of ">>" (append), not a '.'.
func (sc *consoleScene) testHeldKeys(t *testing.T) {
	file := filepath.Join(t.TempDir(), "held")
	ended := func() int {
		n := 0
		for _, r := range sc.h.Records(t, "--kind", events.KindSessionEnd, "--account", "admin") {
			if r.Service == "control" {
				n++
			}
		}
		return n
	}
	before := ended()
	pilot := sc.b.open(t, sc.h.Control)
	pilot.login("pilot", "pilot-password-1")
	pilot.waitScreen()
	pilot.clickScreen(100, 40)
	shift := kb.Encode([]rune(kb.Shift)[0])
	greater := kb.Encode('>') // keyDown, char, keyUp: with the Shift modifier, but no Shift press
	pilot.do("type, then hold Shift down for >", keystrokes("echo held "), key(shift[0]), key(greater[0]), key(greater[2]))

	other := sc.b.open(t, sc.h.Control)
	other.login("admin", sc.h.AdminPassword)
	other.waitScreen()
	other.do("log out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login-form")))
	pollUntil(t, "the other viewer's session ends", func() bool { return ended() > before })

	pilot.do("type the second > with Shift still down, then release it",
		key(greater[0]), key(greater[2]), key(shift[1]), keystrokes(" "+file+"\r"))
	pollUntil(t, "xterm's shell appends to the file (echo held >> FILE)", func() bool {
		b, err := os.ReadFile(file)
		return err == nil && string(b) == "held\n"
	})
}

// key dispatches one raw key event, such as a modifier's press without its release.
func key(k *input.DispatchKeyEventParams) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, *k)
		return err
	})
}

// readmeScreenshot saves the picture of the console the README shows, 1280x800: the admin's
// console with the screen scaled to fit, and a greeting written in the xterm.
func (sc *consoleScene) readmeScreenshot(t *testing.T, path string) {
	t.Helper()
	tb := sc.b.open(t, sc.h.Control)
	tb.do("size the page for the README", chromedp.EmulateViewport(1280, 800))
	tb.login("admin", sc.h.AdminPassword)
	tb.waitScreen()
	file := filepath.Join(t.TempDir(), "hello")
	tb.clickScreen(100, 40)
	tb.do("type a greeting", keystrokes("clear; echo 'Hello from the browser!' | tee "+file+"\r"))
	pollUntil(t, "the greeting ran", func() bool {
		_, err := os.Stat(file)
		return err == nil
	})
	// The xterm's pixels, read back from the canvas, are the host's.
	xterm := frame.Rect{W: 240, H: 100}
	pollUntil(t, "the canvas shows the greeting", func() bool {
		want, got := truth(t, sc.d), tb.pixels(xterm)
		for i, p := range got {
			if p != want.Pixel(xterm.X+i%xterm.W, xterm.Y+i/xterm.W)&0xFFFFFF {
				return false
			}
		}
		return true
	})
	ctx, cancel := context.WithTimeout(tb.ctx, screenWait)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("README screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("write the README screenshot: %v", err)
	}
}

// testQuiet logs in with accounts that may use only part of the console: after a plain login
// the page must not call the APIs they may not use (each refusal also shows in #error).
func (sc *consoleScene) testQuiet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, addr, account, password string
		forbidden                     []string // API paths the account may not use there
	}{
		{"control account", sc.h.Control, "pilot", "pilot-password-1", []string{"/api/v1/chat", "/api/v1/exchange/list"}},
		{"admin on observe", sc.h.Observe, "admin", sc.h.AdminPassword, []string{"/api/v1/exchange/list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tb := sc.b.open(t, tt.addr)
			tb.login(tt.account, tt.password)
			// By the time the screen and the people list are there, the page's other
			// calls at login have been answered.
			tb.waitScreen()
			tb.waitJS("who is connected lists someone", `document.querySelector("#who-list li[data-id]") !== null`,
				`document.getElementById("who-list").textContent`)
			called := eval[[]string](tb, `performance.getEntriesByType("resource").map(e => new URL(e.name).pathname)`)
			for _, p := range tt.forbidden {
				if slices.Contains(called, p) {
					t.Errorf("the page called %s, which %s may not use there", p, tt.account)
				}
			}
			if tb.visible("error") {
				t.Errorf("#error after a plain login shows %q", tb.text("error-text"))
			}
		})
	}
}

// testAsk logs in with an account whose control is "ask": the page waits until the person
// at the host approves with `buktu approve`, then shows the screen; the next login is denied
// with `buktu deny`, and the page says so.
func (sc *consoleScene) testAsk(t *testing.T) {
	t.Parallel()
	tb := sc.b.open(t, sc.h.Control)
	tb.login("asker", "asker-password-1")
	tb.waitJS("the page says it waits for the person at the host", `document.getElementById("waiting").checkVisibility()`, "")
	if got := tb.text("waiting"); !strings.Contains(got, "allow control") {
		t.Errorf("#waiting = %q; want it to say that it waits to be allowed control", got)
	}
	id := waitingID(t, sc.h, "asker")
	if out, errOut, code := sc.h.Buktu(t, "", nil, "approve", id, "--data", sc.h.DataDir); code != 0 {
		t.Fatalf("buktu approve %s: exit %d\n%s%s", id, code, out, errOut)
	}
	tb.waitScreen()
	tb.waitColour("the host's marker after the approval", sc.marker, markerColour)
	if tb.visible("waiting") {
		t.Errorf("#waiting still shows after the approval: %q", tb.text("waiting"))
	}

	tb.do("log out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login-form")))
	tb.login("asker", "asker-password-1")
	tb.waitJS("the page waits again", `document.getElementById("waiting").checkVisibility()`, "")
	second := waitingID(t, sc.h, "asker")
	if second == id {
		t.Fatalf("buktu approve lists the answered request %s again", id)
	}
	if out, errOut, code := sc.h.Buktu(t, "", nil, "deny", second, "--data", sc.h.DataDir); code != 0 {
		t.Fatalf("buktu deny %s: exit %d\n%s%s", second, code, out, errOut)
	}
	tb.waitJS("the page shows the refusal", `document.getElementById("screen-status").dataset.state === "refused"`,
		`document.getElementById("screen-status").textContent`)
	if got := tb.text("waiting"); !strings.Contains(got, "refused") && !strings.Contains(got, "said no") {
		t.Errorf("#waiting after the refusal = %q; want it to say the host refused", got)
	}
	if n := eval[int](tb, canvas+`?.width ?? 0`); n != 0 && tb.pixel(sc.marker.X, sc.marker.Y) == markerColour {
		t.Errorf("the canvas shows the host's screen after the refusal")
	}
}
