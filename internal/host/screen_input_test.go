package host_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/buktu/buktu/internal/events"
	"github.com/buktu/buktu/internal/rfb"
	"github.com/buktu/buktu/internal/rfb/wire"
	"github.com/buktu/buktu/internal/screen/xvfb"
	"github.com/buktu/buktu/internal/testenv"
)

// Keysyms the input test types besides printable ASCII, whose keysyms are their codes.
const keysymReturn = 0xff0d

// typeText sends key presses and releases that type s, then Return.
func typeText(t testing.TB, v *viewer, s string) {
	t.Helper()
	for _, r := range s {
		for _, down := range []bool{true, false} {
			if err := v.Send(wire.KeyEvent{Down: down, Keysym: uint32(r)}); err != nil {
				t.Fatalf("send key %q: %v", r, err)
			}
		}
	}
	for _, down := range []bool{true, false} {
		if err := v.Send(wire.KeyEvent{Down: down, Keysym: keysymReturn}); err != nil {
			t.Fatalf("send Return: %v", err)
		}
	}
}

// point sends pointer events: a move to (x, y), then a press and release of button 1 when
// click is set.
func point(t testing.TB, v *viewer, x, y int, click bool) {
	t.Helper()
	ms := []wire.PointerEvent{{X: uint16(x), Y: uint16(y)}}
	if click {
		ms = append(ms, wire.PointerEvent{Buttons: 1, X: uint16(x), Y: uint16(y)}, wire.PointerEvent{X: uint16(x), Y: uint16(y)})
	}
	for _, m := range ms {
		if err := v.Send(m); err != nil {
			t.Fatalf("send %+v: %v", m, err)
		}
	}
}

// startXterm runs xterm with a plain shell at the top left of d.
func startXterm(t testing.TB, d *xvfb.Server) {
	t.Helper()
	startPeer(t, []string{"DISPLAY=" + d.Display(), "XAUTHORITY=" + d.Authority(), "HOME=" + t.TempDir(), "PS1=$ "},
		"xterm", "-geometry", "40x8+0+0", "-e", "/bin/sh")
	pollUntil(t, "xterm shows its window", func() bool {
		return truth(t, d).Pixel(120, 40)&0xFFFFFF == 0xFFFFFF
	})
}

// hasRecord reports whether recs holds a record that match accepts.
func hasRecord(recs []events.Record, match func(events.Record) bool) bool {
	for _, r := range recs {
		if match(r) {
			return true
		}
	}
	return false
}

// TestScreenInput types into the host's xterm and clicks into a window of the test's own as
// a control account on the Control port, after the same events came from an observe
// account on the Control port and from any account (admin included) on the Observe port:
// only the control account's events arrive, and the activity log tells who did what.
func TestScreenInput(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "xterm")
	d := startDisplay(t, patternW, patternH)
	startXterm(t, d)
	x := dialX(t, d)
	clickWin := x.window(300, 200, 80, 60, xproto.EventMaskButtonPress)
	x.sync()
	h := startScreenHostOn(t, d, "")
	h.AddAccount(t, "pilot", "pilot-pw-1", "control")
	h.AddAccount(t, "watcher", "watcher-pw-1", "observe")
	h.AddAccount(t, "clerk", "clerk-pw-1", "send")
	dir := t.TempDir()

	// Each of these sends exactly what the control account will, bar the file name and
	// the place of the click, then waits for a whole frame: once it has one, the host has
	// handled every event sent before.
	refused := []struct {
		name, addr, user, password string
	}{
		{"observe account on control", h.Control, "watcher", "watcher-pw-1"},
		{"observe account on observe", h.Observe, "watcher", "watcher-pw-1"},
		{"control account on observe", h.Observe, "pilot", "pilot-pw-1"},
		{"admin on observe", h.Observe, "admin", h.AdminPassword},
	}
	for i, r := range refused {
		v := dialViewer(t, h, r.addr, r.user, r.password, rfb.ClientOptions{})
		point(t, v, 100, 40, false)
		typeText(t, v, fmt.Sprintf("echo refused > %s", filepath.Join(dir, fmt.Sprintf("refused-%d", i))))
		point(t, v, 310, 210, true)
		v.full()
		v.Close()
	}
	if _, err := tryViewer(t, h, h.Control, "clerk", "clerk-pw-1", rfb.ClientOptions{}); err == nil {
		t.Errorf("an account without observe or control logged in to the Control port")
	}

	pilot := dialViewer(t, h, h.Control, "pilot", "pilot-pw-1", rfb.ClientOptions{})
	point(t, pilot, 100, 40, false)
	file := filepath.Join(dir, "typed")
	typeText(t, pilot, "echo typed-by-buktu > "+file)
	point(t, pilot, 350, 240, true)
	pilot.full()
	pollUntil(t, "xterm's shell writes the typed command's file", func() bool {
		b, err := os.ReadFile(file)
		return err == nil && string(b) == "typed-by-buktu\n"
	})
	deadline := time.After(screenWait)
	for got := false; !got; {
		select {
		case ev := <-x.events:
			bp, ok := ev.(xproto.ButtonPressEvent)
			if !ok || bp.Event != clickWin {
				continue
			}
			if bp.EventX != 50 || bp.EventY != 40 || bp.Detail != 1 {
				t.Errorf("a refused viewer's click arrived: button %d at %d,%d of the window", bp.Detail, bp.EventX, bp.EventY)
				continue
			}
			got = true
		case <-deadline:
			t.Fatalf("the control account's click never arrived within %v", screenWait)
		}
	}
	for i, r := range refused {
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("refused-%d", i))); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: its typing reached the host's xterm (stat: %v)", r.name, err)
		}
	}
	pilot.Close()

	pollUntil(t, "the activity log records every session's end", func() bool {
		return len(h.Records(t, "--kind", events.KindSessionEnd)) >= len(refused)+1
	})
	recs := h.Records(t)
	want := []struct {
		what                         string
		kind, account, service, priv string
		outcome                      string
	}{
		{"pilot allowed control", events.KindDecision, "pilot", "control", "control", events.OutcomeOK},
		{"pilot on observe gets observe", events.KindDecision, "pilot", "observe", "observe", events.OutcomeOK},
		{"watcher on control gets observe", events.KindDecision, "watcher", "control", "observe", events.OutcomeOK},
		{"admin on observe gets observe", events.KindDecision, "admin", "observe", "observe", events.OutcomeOK},
		{"clerk denied", events.KindDecision, "clerk", "control", "observe", events.OutcomeDenied},
		{"pilot's control session", events.KindSessionStart, "pilot", "control", "control", ""},
		{"pilot's observe session", events.KindSessionStart, "pilot", "observe", "observe", ""},
		{"watcher's view-only session on control", events.KindSessionStart, "watcher", "control", "observe", ""},
		{"admin's session on observe", events.KindSessionStart, "admin", "observe", "observe", ""},
	}
	for _, w := range want {
		if !hasRecord(recs, func(r events.Record) bool {
			return r.Kind == w.kind && r.Account == w.account && r.Service == w.service && r.Privilege == w.priv &&
				(w.outcome == "" || r.Outcome == w.outcome)
		}) {
			t.Errorf("activity log lacks %s (%s %s %s %s %s)", w.what, w.kind, w.account, w.service, w.priv, w.outcome)
		}
	}
	if hasRecord(recs, func(r events.Record) bool { return r.Kind == events.KindSessionStart && r.Account == "clerk" }) {
		t.Errorf("activity log has a session for clerk, who was denied")
	}
	if !strings.Contains(h.Stderr(), "input from a view-only viewer ignored") {
		t.Errorf("the host did not log the view-only viewers' ignored input")
	}
}

// selection asks the owner of the CLIPBOARD selection for its text as UTF8_STRING.
func (c *xclient) selection() (string, error) {
	atom := func(name string) (xproto.Atom, error) {
		r, err := xproto.InternAtom(c.xc, false, uint16(len(name)), name).Reply()
		if err != nil {
			return 0, err
		}
		return r.Atom, nil
	}
	clip, err := atom("CLIPBOARD")
	if err != nil {
		return "", err
	}
	utf8, err := atom("UTF8_STRING")
	if err != nil {
		return "", err
	}
	prop, err := atom("BUKTU_TEST_SELECTION")
	if err != nil {
		return "", err
	}
	win, err := xproto.NewWindowId(c.xc)
	if err != nil {
		return "", err
	}
	xproto.CreateWindow(c.xc, 0, win, c.screen.Root, 0, 0, 1, 1, 0, xproto.WindowClassInputOnly, 0, 0, nil)
	defer xproto.DestroyWindow(c.xc, win)
	xproto.ConvertSelection(c.xc, win, clip, utf8, prop, xproto.TimeCurrentTime)
	timeout := time.After(screenWait)
	for {
		var ev xgb.Event
		select {
		case ev = <-c.events:
		case <-timeout:
			return "", errors.New("no SelectionNotify")
		}
		sn, ok := ev.(xproto.SelectionNotifyEvent)
		if !ok || sn.Requestor != win {
			continue
		}
		if sn.Property == xproto.AtomNone {
			return "", errors.New("the clipboard has no owner, or no text")
		}
		r, err := xproto.GetProperty(c.xc, true, win, prop, xproto.GetPropertyTypeAny, 0, 1<<20).Reply()
		if err != nil {
			return "", err
		}
		return string(r.Value), nil
	}
}

// clipboardWatch reads frames until a viewer hears the host's clipboard text, in either
// form; on an extended-clipboard notify it asks for the text.
func clipboardWatch(t testing.TB, v *viewer, want string) error {
	t.Helper()
	var got []string
	onOther := func(m wire.ServerMessage) {
		switch m := m.(type) {
		case wire.ServerCutText:
			got = append(got, wire.DecodeLatin1(m.Text))
		case wire.ServerClipboard:
			switch m.Flags.Action() {
			case wire.ClipboardNotify:
				if m.Flags&wire.ClipboardText != 0 {
					v.Send(wire.ClientClipboard{Clipboard: wire.Clipboard{Flags: wire.ClipboardRequest | wire.ClipboardText}})
				}
			case wire.ClipboardProvide:
				if s, err := m.Text(1 << 20); err == nil {
					got = append(got, s)
				}
			}
		}
	}
	deadline := time.Now().Add(screenWait)
	for time.Now().Before(deadline) {
		if err := v.Request(false); err != nil {
			return err
		}
		if err := v.read(onOther); err != nil {
			return err
		}
		for _, s := range got {
			if s == want {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond) // polling: a frame per round
	}
	return fmt.Errorf("heard %q, not %q, within %v", got, want, screenWait)
}

// TestScreenClipboard passes text from a control viewer to the host's CLIPBOARD, in the
// original and the extended form, and from the host's clipboard to the viewer; a view-only
// viewer's text never reaches the host.
func TestScreenClipboard(t *testing.T) {
	// Not parallel: it uses x11Conn.
	d := startDisplay(t, 320, 240)
	x := dialX(t, d)
	h := startScreenHostOn(t, d, "")
	h.AddAccount(t, "pilot", "pilot-pw-1", "control")
	h.AddAccount(t, "watcher", "watcher-pw-1", "observe")
	tight := []wire.Encoding{wire.EncodingTight}
	extended := []wire.Encoding{wire.EncodingTight, wire.EncodingExtendedClipboard}

	t.Run("viewer to host", func(t *testing.T) {
		watcher := dialViewer(t, h, h.Control, "watcher", "watcher-pw-1", rfb.ClientOptions{Encodings: tight})
		watcher.Send(wire.ClientCutText{Text: wire.EncodeLatin1("from the watcher")})
		watcher.full()
		if s, err := x.selection(); err == nil && s == "from the watcher" {
			t.Errorf("a view-only viewer set the host's clipboard")
		}
		pilot := dialViewer(t, h, h.Control, "pilot", "pilot-pw-1", rfb.ClientOptions{Encodings: tight})
		const latin = "plain cut text: café"
		pilot.Send(wire.ClientCutText{Text: wire.EncodeLatin1(latin)})
		pollUntil(t, "the host's CLIPBOARD holds the ClientCutText", func() bool {
			s, err := x.selection()
			return err == nil && s == latin
		})
		ext := dialViewer(t, h, h.Control, "pilot", "pilot-pw-1", rfb.ClientOptions{Encodings: extended})
		const utf = "extended ✓ text\nsecond line"
		ext.Send(wire.ClientClipboard{Clipboard: wire.ProvideText(utf)})
		pollUntil(t, "the host's CLIPBOARD holds the extended provide", func() bool {
			s, err := x.selection()
			return err == nil && s == utf
		})
	})

	t.Run("host to viewer", func(t *testing.T) {
		plain := dialViewer(t, h, h.Control, "pilot", "pilot-pw-1", rfb.ClientOptions{Encodings: tight})
		ext := dialViewer(t, h, h.Control, "pilot", "pilot-pw-1", rfb.ClientOptions{Encodings: extended})
		observer := dialViewer(t, h, h.Observe, "pilot", "pilot-pw-1", rfb.ClientOptions{Encodings: tight})
		plain.full()
		ext.full()
		observer.full()
		owner := x11Conn(t, d)
		const text = "copied on the host: naïve"
		if err := owner.SetClipboard(text); err != nil {
			t.Fatalf("set the host's clipboard: %v", err)
		}
		if err := clipboardWatch(t, plain, text); err != nil {
			t.Errorf("viewer without extended clipboard: %v", err)
		}
		if err := clipboardWatch(t, ext, text); err != nil {
			t.Errorf("viewer with extended clipboard: %v", err)
		}
		var heard []wire.ServerMessage
		for range 3 {
			if err := observer.Request(false); err != nil {
				t.Fatal(err)
			}
			if err := observer.read(func(m wire.ServerMessage) { heard = append(heard, m) }); err != nil {
				t.Fatal(err)
			}
		}
		for _, m := range heard {
			switch m.(type) {
			case wire.ServerCutText, wire.ServerClipboard:
				t.Errorf("a viewer on the Observe port heard the host's clipboard: %T", m)
			}
		}
	})
}
