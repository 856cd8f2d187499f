package x11

import (
	"encoding/binary"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// atom interns name for the test client.
func (c *client) atom(t testing.TB, name string) xproto.Atom {
	t.Helper()
	r, err := xproto.InternAtom(c.xc, false, uint16(len(name)), name).Reply()
	if err != nil {
		t.Fatal(err)
	}
	return r.Atom
}

// convert asks for selection sel as target into a window of the client's own, and returns
// the reply's property type and bytes; ok is false when the owner refused.
func (c *client) convert(t testing.TB, win xproto.Window, sel, target xproto.Atom) (typ xproto.Atom, data []byte, ok bool) {
	t.Helper()
	prop := c.atom(t, "TEST_SELECTION")
	xproto.ConvertSelection(c.xc, win, sel, target, prop, xproto.TimeCurrentTime)
	ev := c.next(t, "SelectionNotify", func(ev xgb.Event) bool {
		n, ok := ev.(xproto.SelectionNotifyEvent)
		return ok && n.Requestor == win && n.Selection == sel && n.Target == target
	}).(xproto.SelectionNotifyEvent)
	if ev.Property == 0 {
		return 0, nil, false
	}
	r, err := xproto.GetProperty(c.xc, true, win, ev.Property, xproto.GetPropertyTypeAny, 0, 1<<20).Reply()
	if err != nil {
		t.Fatal(err)
	}
	return r.Type, r.Value, true
}

func TestSetClipboard(t *testing.T) {
	d := startXvfb(t, 320, 240)
	cl := newClient(t, d)
	win := cl.window(0, 0, 10, 10, xproto.EventMaskPropertyChange)
	c := open(t, d, Options{})
	const text = "héllo ☺ world\n"
	if err := c.SetClipboard(text); err != nil {
		t.Fatalf("SetClipboard: %v", err)
	}
	utf8String, targets := cl.atom(t, "UTF8_STRING"), cl.atom(t, "TARGETS")
	clipboard := cl.atom(t, "CLIPBOARD")
	tests := []struct {
		name     string
		sel      xproto.Atom
		target   xproto.Atom
		wantType xproto.Atom
		want     string
	}{
		{"clipboard utf8", clipboard, utf8String, utf8String, text},
		{"primary utf8", xproto.AtomPrimary, utf8String, utf8String, text},
		{"clipboard latin-1", clipboard, xproto.AtomString, xproto.AtomString, "h\xe9llo ? world\n"},
		{"text", clipboard, cl.atom(t, "TEXT"), utf8String, text},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ, data, ok := cl.convert(t, win, tt.sel, tt.target)
			if !ok || typ != tt.wantType || string(data) != tt.want {
				t.Errorf("convert = type %d, %q, %v; want type %d, %q", typ, data, ok, tt.wantType, tt.want)
			}
		})
	}
	t.Run("targets", func(t *testing.T) {
		typ, data, ok := cl.convert(t, win, clipboard, targets)
		if !ok || typ != xproto.AtomAtom {
			t.Fatalf("convert TARGETS = type %d, %v", typ, ok)
		}
		var has bool
		for i := 0; i+4 <= len(data); i += 4 {
			has = has || xproto.Atom(binary.LittleEndian.Uint32(data[i:])) == utf8String
		}
		if !has {
			t.Errorf("TARGETS lacks UTF8_STRING")
		}
	})
	t.Run("refused target", func(t *testing.T) {
		if _, _, ok := cl.convert(t, win, clipboard, cl.atom(t, "image/png")); ok {
			t.Errorf("convert image/png succeeded")
		}
	})
}

// own makes the client own sel and answers the next request for it with text, sending it
// in pieces of chunk bytes (ICCCM's INCR) when it is longer.
func (c *client) own(t testing.TB, sel xproto.Atom, text string, chunk int) {
	t.Helper()
	win := c.window(0, 0, 1, 1, 0)
	if err := xproto.SetSelectionOwnerChecked(c.xc, win, sel, xproto.TimeCurrentTime).Check(); err != nil {
		t.Fatal(err)
	}
	utf8String, incr := c.atom(t, "UTF8_STRING"), c.atom(t, "INCR")
	req := c.next(t, "SelectionRequest", func(ev xgb.Event) bool {
		r, ok := ev.(xproto.SelectionRequestEvent)
		return ok && r.Selection == sel
	}).(xproto.SelectionRequestEvent)
	notify := func(prop xproto.Atom) {
		ev := xproto.SelectionNotifyEvent{Time: req.Time, Requestor: req.Requestor, Selection: sel, Target: req.Target, Property: prop}
		xproto.SendEvent(c.xc, false, req.Requestor, 0, string(ev.Bytes()))
	}
	if req.Target != utf8String {
		notify(0)
		t.Fatalf("requested target %d; want UTF8_STRING", req.Target)
	}
	if len(text) <= chunk {
		xproto.ChangeProperty(c.xc, xproto.PropModeReplace, req.Requestor, req.Property, utf8String, 8, uint32(len(text)), []byte(text))
		notify(req.Property)
		return
	}
	xproto.ChangeWindowAttributes(c.xc, req.Requestor, xproto.CwEventMask, []uint32{xproto.EventMaskPropertyChange})
	size := binary.LittleEndian.AppendUint32(nil, uint32(len(text)))
	xproto.ChangeProperty(c.xc, xproto.PropModeReplace, req.Requestor, req.Property, incr, 32, 1, size)
	notify(req.Property)
	deleted := func(ev xgb.Event) bool {
		p, ok := ev.(xproto.PropertyNotifyEvent)
		return ok && p.Window == req.Requestor && p.Atom == req.Property && p.State == xproto.PropertyDelete
	}
	for rest := text; ; {
		c.next(t, "PropertyNotify (deleted)", deleted)
		piece := rest[:min(chunk, len(rest))]
		rest = rest[len(piece):]
		xproto.ChangeProperty(c.xc, xproto.PropModeReplace, req.Requestor, req.Property, utf8String, 8, uint32(len(piece)), []byte(piece))
		if piece == "" {
			return
		}
	}
}

func TestClipboardFromHost(t *testing.T) {
	d := startXvfb(t, 320, 240)
	cl := newClient(t, d)
	c := open(t, d, Options{MaxClipboard: 200_000})
	big := strings.Repeat("0123456789abcdef", 12_000) // 192 000 bytes
	tests := []struct {
		name  string
		sel   string
		text  string
		chunk int
		want  string
	}{
		{"clipboard", "CLIPBOARD", "from the host ☺", 1 << 16, "from the host ☺"},
		{"primary", "PRIMARY", "selected text", 1 << 16, "selected text"},
		{"incr", "CLIPBOARD", big, 1 << 14, big},
		{"incr over the limit", "CLIPBOARD", big + big, 1 << 15, (big + big)[:200_000]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl.own(t, cl.atom(t, tt.sel), tt.text, tt.chunk)
			select {
			case got := <-c.Clipboard():
				if got != tt.want {
					t.Errorf("Clipboard() gave %d bytes %.40q; want %d bytes %.40q", len(got), got, len(tt.want), tt.want)
				}
			case <-time.After(waitLimit):
				t.Fatal("Clipboard() gave nothing")
			}
		})
	}
}

func TestClipboardReports(t *testing.T) {
	cb := &clipboard{out: make(chan string, 1), log: slog.New(slog.DiscardHandler), maxIn: 16}
	cb.last = "from a viewer" // as SetClipboard leaves it
	tests := []struct {
		name string
		typ  xproto.Atom
		data string
		want string // "" for no report
	}{
		{"the viewer's own text", 0, "from a viewer", ""},
		{"new text", 0, "new", "new"},
		{"same again", 0, "new", ""},
		{"latin-1", xproto.AtomString, "caf\xe9", "café"},
		{"invalid utf-8", 0, "a\xffb", "a\uFFFDb"},
		{"empty", 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &transfer{typ: tt.typ}
			tr.add([]byte(tt.data), cb.maxIn)
			cb.finish(tr)
			var got string
			select {
			case got = <-cb.out:
			default:
			}
			if got != tt.want {
				t.Errorf("finish(%q) reported %q; want %q", tt.data, got, tt.want)
			}
		})
	}
	t.Run("newest wins", func(t *testing.T) {
		for _, s := range []string{"one", "two", "three"} {
			cb.finish(&transfer{data: []byte(s)})
		}
		if got := <-cb.out; got != "three" {
			t.Errorf("Clipboard() after three reports = %q; want the newest", got)
		}
	})
	t.Run("cut at the limit", func(t *testing.T) {
		tr := &transfer{}
		tr.add([]byte("0123456789"), cb.maxIn)
		tr.add([]byte("abcdefghij"), cb.maxIn)
		if string(tr.data) != "0123456789abcdef" || !tr.cut {
			t.Errorf("add beyond the limit kept %q, cut %v", tr.data, tr.cut)
		}
	})
}
