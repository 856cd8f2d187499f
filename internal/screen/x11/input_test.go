package x11

import (
	"errors"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// key is what a test client saw for one KeyPress: the keysym and whether Control was held
// and Caps Lock on.
type key struct {
	sym           uint32
	control, lock bool
}

// typed collects the next n KeyPress events of non-modifier keys that cl sees.
func typed(t testing.TB, cl *client, n int) []key {
	t.Helper()
	var got []key
	for len(got) < n {
		ev := cl.next(t, "KeyPress", func(ev xgb.Event) bool { _, ok := ev.(xproto.KeyPressEvent); return ok })
		kp := ev.(xproto.KeyPressEvent)
		sym := cl.keysym(kp.Detail, kp.State)
		if sym >= 0xffe1 && sym <= 0xffee || sym == keysymISOLevel3Shift { // modifiers
			continue
		}
		got = append(got, key{sym, kp.State&xproto.KeyButMaskControl != 0, kp.State&xproto.KeyButMaskLock != 0})
	}
	return got
}

func TestKey(t *testing.T) {
	d := startXvfb(t, 320, 240)
	cl := newClient(t, d)
	win := cl.window(0, 0, 320, 240, xproto.EventMaskKeyPress)
	cl.focus(win)
	c := open(t, d, Options{})

	const (
		controlL = 0xffe3
		shiftL   = 0xffe1
		capsLock = 0xffe5
		ret      = 0xff0d
		smiley   = 0x100263a // U+263A, on no key of the us layout
		eacute   = 0xe9      // é, not on the us layout either
	)
	type stroke struct {
		sym  uint32
		down bool
	}
	press := func(syms ...uint32) (s []stroke) {
		for _, k := range syms {
			s = append(s, stroke{k, true}, stroke{k, false})
		}
		return s
	}
	tests := []struct {
		name    string
		strokes []stroke
		want    []key
	}{
		{"plain", press('a', '1', ' '), []key{{sym: 'a'}, {sym: '1'}, {sym: ' '}}},
		{"shifted symbols", press('A', '!', '@', '~'), []key{{sym: 'A'}, {sym: '!'}, {sym: '@'}, {sym: '~'}}},
		{"missing from the layout", press(smiley, eacute, smiley), []key{{sym: smiley}, {sym: eacute}, {sym: smiley}}},
		{"control held", []stroke{{controlL, true}, {'c', true}, {'c', false}, {controlL, false}}, []key{{sym: 'c', control: true}}},
		{"shift held, plain symbol", []stroke{{shiftL, true}, {'1', true}, {'1', false}, {'B', true}, {'B', false}, {shiftL, false}},
			[]key{{sym: '1'}, {sym: 'B'}}},
		{"caps lock on", append(press(capsLock, 'a', 'B'), press(capsLock)...), []key{{sym: 'a', lock: true}, {sym: 'B', lock: true}}},
		{"return", press(ret), []key{{sym: ret}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range tt.strokes {
				if err := c.Key(s.sym, s.down); err != nil {
					t.Fatalf("Key(%#x, %v): %v", s.sym, s.down, err)
				}
			}
			want := tt.want
			got := typed(t, cl, len(want))
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("key %d typed as %+v; want %+v", i, got[i], want[i])
				}
			}
		})
	}
	t.Run("more missing keysyms than spare keycodes", func(t *testing.T) {
		n := len(c.kb.spare) + 5
		for i := range n {
			sym := uint32(0x1002600 + i) // ☀ onwards
			if err := c.Key(sym, true); err != nil {
				t.Fatalf("Key(%#x, true): %v", sym, err)
			}
			if err := c.Key(sym, false); err != nil {
				t.Fatalf("Key(%#x, false): %v", sym, err)
			}
			// One at a time: a client reads the mapping when it handles the key, and by
			// then a reused spare keycode may carry another keysym.
			if got := typed(t, cl, 1)[0].sym; got != sym {
				t.Errorf("key %d typed as %#x; want %#x", i, got, sym)
			}
		}
	})
	// Close gives the borrowed keycodes back.
	c.Close()
	cl.xc.Sync()
	km, err := xproto.GetKeyboardMapping(cl.xc, c.kb.min, byte(int(c.kb.max)-int(c.kb.min)+1)).Reply()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range km.Keysyms {
		if s == smiley || s == eacute {
			t.Errorf("keysym %#x still mapped after Close", s)
		}
	}
}

func TestKeyScancode(t *testing.T) {
	d := startXvfb(t, 320, 240)
	cl := newClient(t, d)
	win := cl.window(0, 0, 320, 240, xproto.EventMaskKeyPress)
	cl.focus(win)
	c := open(t, d, Options{})
	tests := []struct {
		name     string
		scancode uint32
		want     uint32
	}{
		{"a", 0x1e, 'a'},
		{"escape", 0x01, 0xff1b},
		{"up (0xE0 0x48)", 0xc8, 0xff52},
		{"keypad enter (0xE0 0x1C)", 0x9c, 0xff8d},
		{"F12", 0x58, 0xffc9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.KeyScancode(tt.scancode, true); err != nil {
				t.Fatalf("KeyScancode(%#x, true): %v", tt.scancode, err)
			}
			if err := c.KeyScancode(tt.scancode, false); err != nil {
				t.Fatalf("KeyScancode(%#x, false): %v", tt.scancode, err)
			}
			if got := typed(t, cl, 1)[0].sym; got != tt.want {
				t.Errorf("KeyScancode(%#x) typed %#x; want %#x", tt.scancode, got, tt.want)
			}
		})
	}
	for _, sc := range []uint32{0, 0x60, 0x100, 0xffffffff} {
		if err := c.KeyScancode(sc, true); !errors.Is(err, ErrUnknownScancode) {
			t.Errorf("KeyScancode(%#x) = %v; want ErrUnknownScancode", sc, err)
		}
	}
}

func TestPointer(t *testing.T) {
	d := startXvfb(t, 320, 240)
	cl := newClient(t, d)
	cl.window(0, 0, 320, 240, xproto.EventMaskButtonPress|xproto.EventMaskButtonRelease)
	c := open(t, d, Options{})
	type button struct {
		press  bool
		detail byte
		x, y   int16
	}
	tests := []struct {
		name    string
		buttons uint8
		x, y    int
		want    []button
	}{
		{"left down", 1, 10, 20, []button{{true, 1, 10, 20}}},
		{"drag and up", 0, 30, 40, []button{{false, 1, 30, 40}}},
		{"right click", 4, 50, 60, []button{{true, 3, 50, 60}}},
		{"right up, middle down", 2, 50, 60, []button{{true, 2, 50, 60}, {false, 3, 50, 60}}},
		{"middle up", 0, 50, 60, []button{{false, 2, 50, 60}}},
		{"wheel up", 8, 50, 60, []button{{true, 4, 50, 60}}},
		{"wheel released", 0, 50, 60, []button{{false, 4, 50, 60}}},
		{"wheel down", 16, 50, 60, []button{{true, 5, 50, 60}}},
		{"wheel right", 64, 50, 60, []button{{false, 5, 50, 60}, {true, 7, 50, 60}}},
		{"clamped", 0, 1000, -5, []button{{false, 7, 319, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.Pointer(tt.buttons, tt.x, tt.y); err != nil {
				t.Fatalf("Pointer(%d, %d, %d): %v", tt.buttons, tt.x, tt.y, err)
			}
			var got []button
			for range tt.want {
				ev := cl.next(t, "button event", func(ev xgb.Event) bool {
					switch ev.(type) {
					case xproto.ButtonPressEvent, xproto.ButtonReleaseEvent:
						return true
					}
					return false
				})
				switch ev := ev.(type) {
				case xproto.ButtonPressEvent:
					got = append(got, button{true, byte(ev.Detail), ev.RootX, ev.RootY})
				case xproto.ButtonReleaseEvent:
					got = append(got, button{false, byte(ev.Detail), ev.RootX, ev.RootY})
				}
			}
			// Presses and releases in one call come in bit order; compare as sets.
			for _, w := range tt.want {
				found := false
				for _, g := range got {
					found = found || g == w
				}
				if !found {
					t.Errorf("Pointer(%d, %d, %d) gave %+v; want %+v", tt.buttons, tt.x, tt.y, got, tt.want)
				}
			}
		})
	}
}

func TestIdleTime(t *testing.T) {
	d := startXvfb(t, 320, 240)
	c := open(t, d, Options{})
	const quiet = 300 * time.Millisecond
	deadline := time.Now().Add(waitLimit)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		idle, err := c.IdleTime()
		if err != nil {
			t.Fatalf("IdleTime: %v", err)
		}
		if idle >= quiet {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("IdleTime stayed at %v, below %v", idle, quiet)
		}
		<-tick.C
	}
	if err := c.Pointer(0, 5, 5); err != nil {
		t.Fatal(err)
	}
	idle, err := c.IdleTime()
	if err != nil {
		t.Fatal(err)
	}
	if idle >= quiet {
		t.Errorf("IdleTime after input = %v; want it reset below %v", idle, quiet)
	}
}

// TestLocalInputSince tells the person at the display from the viewers: input this Conn
// injected does not count, input from anyone else (here another XTEST client standing in
// for the keyboard) does.
func TestLocalInputSince(t *testing.T) {
	d := startXvfb(t, 320, 240)
	c := open(t, d, Options{})
	local := open(t, d, Options{})
	start := time.Now()
	if err := c.Pointer(0, 10, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := c.IdleTime(); err != nil { // a round trip: the event has been handled
		t.Fatal(err)
	}
	if back, err := c.LocalInputSince(start); back || err != nil {
		t.Fatalf("LocalInputSince after the viewer's own input = %v, %v; want false", back, err)
	}
	// Let the viewer's input age past ownInput, so the next input can't be mistaken for it.
	for time.Since(start) < 2*ownInput {
		<-time.After(time.Until(start.Add(2 * ownInput)))
	}
	if err := local.Pointer(0, 50, 50); err != nil {
		t.Fatal(err)
	}
	if _, err := local.IdleTime(); err != nil {
		t.Fatal(err)
	}
	if back, err := c.LocalInputSince(start); !back || err != nil {
		t.Errorf("LocalInputSince after someone else's input = %v, %v; want true", back, err)
	}
}

func TestCursor(t *testing.T) {
	d := startXvfb(t, 320, 240)
	cl := newClient(t, d)
	c := open(t, d, Options{})
	img, serial, hx, hy, err := c.Cursor()
	if err != nil {
		t.Fatalf("Cursor: %v", err)
	}
	if img.W == 0 || img.H == 0 || hx >= img.W || hy >= img.H {
		t.Fatalf("Cursor = %dx%d hot spot (%d, %d); want a shape with the hot spot inside", img.W, img.H, hx, hy)
	}
	if serial != c.CursorSerial() {
		t.Errorf("Cursor serial %d, CursorSerial() %d", serial, c.CursorSerial())
	}

	// A window with a cursor of its own: moving the pointer in changes the shape.
	font, _ := xproto.NewFontId(cl.xc)
	xproto.OpenFont(cl.xc, font, uint16(len("cursor")), "cursor")
	cur, _ := xproto.NewCursorId(cl.xc)
	const xcHand2 = 60 // from X11/cursorfont.h
	xproto.CreateGlyphCursor(cl.xc, cur, font, font, xcHand2, xcHand2+1, 0, 0, 0, 0xffff, 0xffff, 0xffff)
	win := cl.window(100, 100, 50, 50, 0)
	if err := xproto.ChangeWindowAttributesChecked(cl.xc, win, xproto.CwCursor, []uint32{uint32(cur)}).Check(); err != nil {
		t.Fatal(err)
	}
	drain(c.Wake())
	if err := c.Pointer(0, 120, 120); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(waitLimit)
	for c.CursorSerial() == serial {
		select {
		case <-c.Wake():
		case <-deadline:
			t.Fatal("CursorSerial did not change after the pointer entered a window with another cursor")
		}
	}
	img2, serial2, _, _, err := c.Cursor()
	if err != nil || serial2 == serial || img2.W == 0 {
		t.Errorf("Cursor after the change = %dx%d, serial %d (was %d), %v", img2.W, img2.H, serial2, serial, err)
	}
}
