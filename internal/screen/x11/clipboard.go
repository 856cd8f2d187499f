package x11

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xfixes"
	"github.com/jezek/xgb/xproto"
)

// defaultMaxClipboard bounds the text read from a host selection when Options leave it 0.
const defaultMaxClipboard = 1 << 20

// clipboard bridges the CLIPBOARD and PRIMARY selections to plain text. It owns an unmapped
// window: the selections are owned by it when a viewer sends text, and host selections are
// converted into its properties. See ICCCM, section 2.
type clipboard struct {
	xc     *xgb.Conn
	win    xproto.Window
	log    *slog.Logger
	maxOut int // bytes that fit in one ChangeProperty request
	maxIn  int
	out    chan string // capacity 1: the newest host text
	atoms  clipAtoms

	mu   sync.Mutex // guards text and last
	text string     // what we hand out while we own the selections
	last string     // the newest text seen on either side, so it is not echoed back

	// in holds the conversions in flight, by selection. Only the event loop uses it.
	in map[xproto.Atom]*transfer
}

type clipAtoms struct {
	clipboard, utf8, text, targets, incr xproto.Atom
	// properties of our window that receive each selection's text
	propClipboard, propPrimary xproto.Atom
}

// transfer is one conversion of a host selection into our window's property.
type transfer struct {
	target, prop, typ xproto.Atom
	incr              bool // the owner sends the text in pieces (ICCCM 2.7.2)
	data              []byte
	cut               bool // the text was longer than maxIn
}

func newClipboard(xc *xgb.Conn, root xproto.Window, watch bool, maxReq, maxIn int, log *slog.Logger) (*clipboard, error) {
	if maxIn <= 0 {
		maxIn = defaultMaxClipboard
	}
	cb := &clipboard{
		xc: xc, log: log, maxIn: maxIn, maxOut: maxReq - 24,
		out: make(chan string, 1),
		in:  map[xproto.Atom]*transfer{},
	}
	names := []string{"CLIPBOARD", "UTF8_STRING", "TEXT", "TARGETS", "INCR", "BUKTU_CLIPBOARD", "BUKTU_PRIMARY"}
	cookies := make([]xproto.InternAtomCookie, len(names))
	for i, n := range names {
		cookies[i] = xproto.InternAtom(xc, false, uint16(len(n)), n)
	}
	atoms := make([]xproto.Atom, len(names))
	for i, ck := range cookies {
		r, err := ck.Reply()
		if err != nil {
			return nil, fmt.Errorf("intern atom %s: %w", names[i], err)
		}
		atoms[i] = r.Atom
	}
	cb.atoms = clipAtoms{atoms[0], atoms[1], atoms[2], atoms[3], atoms[4], atoms[5], atoms[6]}
	win, err := xproto.NewWindowId(xc)
	if err != nil {
		return nil, fmt.Errorf("allocate clipboard window: %w", err)
	}
	cb.win = win
	err = xproto.CreateWindowChecked(xc, 0, win, root, -10, -10, 1, 1, 0, xproto.WindowClassInputOnly,
		0, xproto.CwEventMask, []uint32{xproto.EventMaskPropertyChange}).Check()
	if err != nil {
		return nil, fmt.Errorf("create clipboard window: %w", err)
	}
	if watch {
		mask := uint32(xfixes.SelectionEventMaskSetSelectionOwner |
			xfixes.SelectionEventMaskSelectionWindowDestroy | xfixes.SelectionEventMaskSelectionClientClose)
		for _, sel := range []xproto.Atom{cb.atoms.clipboard, xproto.AtomPrimary} {
			xfixes.SelectSelectionInput(xc, win, sel, mask)
		}
	}
	return cb, nil
}

// SetClipboard makes text the content of the CLIPBOARD and PRIMARY selections, as an RFB
// ClientCutText asks: host applications get it as UTF8_STRING, or as STRING (Latin-1, with
// '?' for what Latin-1 lacks). Text longer than one X request (about 256 KiB) is cut.
func (c *Conn) SetClipboard(text string) error {
	cb := c.clip
	text = strings.ToValidUTF8(text, "\uFFFD")
	if len(text) > cb.maxOut {
		n := cb.maxOut
		for n > 0 && !utf8.RuneStart(text[n]) {
			n--
		}
		text = text[:n]
	}
	cb.mu.Lock()
	cb.text, cb.last = text, text
	cb.mu.Unlock()
	for _, sel := range []xproto.Atom{cb.atoms.clipboard, xproto.AtomPrimary} {
		if err := xproto.SetSelectionOwnerChecked(c.xc, cb.win, sel, xproto.TimeCurrentTime).Check(); err != nil {
			return c.wrap("own selection", err)
		}
	}
	return nil
}

// Clipboard returns a channel that receives the text of the CLIPBOARD or PRIMARY selection
// each time another host application takes one over (XFIXES; without it, nothing comes).
// Only the newest text waits in it: a slow reader misses intermediate ones. Text the
// viewers sent, and repeats of the last text, are not reported.
func (c *Conn) Clipboard() <-chan string { return c.clip.out }

// handle processes the events that concern the selections.
func (cb *clipboard) handle(ev xgb.Event) {
	switch ev := ev.(type) {
	case xfixes.SelectionNotifyEvent:
		if ev.Window == cb.win && ev.Owner != cb.win && ev.Owner != 0 {
			cb.request(ev.Selection, cb.atoms.utf8, ev.Timestamp)
		}
	case xproto.SelectionRequestEvent:
		if ev.Owner == cb.win {
			cb.serve(ev)
		}
	case xproto.SelectionNotifyEvent:
		if ev.Requestor == cb.win {
			cb.received(ev)
		}
	case xproto.PropertyNotifyEvent:
		if ev.Window == cb.win && ev.State == xproto.PropertyNewValue {
			cb.piece(ev.Atom)
		}
	}
}

// request asks the selection's owner to convert it to target into our property.
func (cb *clipboard) request(sel, target xproto.Atom, t xproto.Timestamp) {
	prop := cb.atoms.propClipboard
	if sel == xproto.AtomPrimary {
		prop = cb.atoms.propPrimary
	}
	cb.in[sel] = &transfer{target: target, prop: prop}
	xproto.ConvertSelection(cb.xc, cb.win, sel, target, prop, t)
}

// received handles the owner's answer to request.
func (cb *clipboard) received(ev xproto.SelectionNotifyEvent) {
	t := cb.in[ev.Selection]
	if t == nil || t.target != ev.Target {
		return
	}
	if ev.Property == 0 {
		delete(cb.in, ev.Selection)
		if t.target == cb.atoms.utf8 {
			cb.request(ev.Selection, xproto.AtomString, ev.Time) // an older owner may know STRING
		}
		return
	}
	r, err := xproto.GetProperty(cb.xc, true, cb.win, t.prop, xproto.GetPropertyTypeAny, 0, uint32(cb.maxIn/4+1)).Reply()
	if err != nil {
		cb.log.Debug("read selection", "err", err)
		delete(cb.in, ev.Selection)
		return
	}
	if r.Type == cb.atoms.incr {
		t.incr = true // deleting the property told the owner to send the first piece
		return
	}
	if r.BytesAfter > 0 {
		xproto.DeleteProperty(cb.xc, cb.win, t.prop)
	}
	t.typ = r.Type
	t.add(r.Value, cb.maxIn)
	delete(cb.in, ev.Selection)
	cb.finish(t)
}

// piece reads the next piece of an incremental transfer into prop; an empty one ends it.
func (cb *clipboard) piece(prop xproto.Atom) {
	for sel, t := range cb.in {
		if !t.incr || t.prop != prop {
			continue
		}
		r, err := xproto.GetProperty(cb.xc, true, cb.win, prop, xproto.GetPropertyTypeAny, 0, uint32(cb.maxIn/4+1)).Reply()
		if err != nil {
			cb.log.Debug("read selection piece", "err", err)
			delete(cb.in, sel)
			return
		}
		if r.BytesAfter > 0 {
			xproto.DeleteProperty(cb.xc, cb.win, prop)
		}
		if len(r.Value) == 0 {
			delete(cb.in, sel)
			cb.finish(t)
			return
		}
		t.typ = r.Type
		t.add(r.Value, cb.maxIn)
		return
	}
}

// add appends b, keeping at most limit bytes.
func (t *transfer) add(b []byte, limit int) {
	room := limit - len(t.data)
	if len(b) > room {
		b, t.cut = b[:max(room, 0)], true
	}
	t.data = append(t.data, b...)
}

// finish decodes a transfer's text and reports it.
func (cb *clipboard) finish(t *transfer) {
	var text string
	if t.typ == xproto.AtomString {
		text = decodeLatin1(t.data)
	} else {
		text = strings.ToValidUTF8(string(t.data), "\uFFFD")
	}
	if t.cut {
		cb.log.Debug("host clipboard text cut", "limit", cb.maxIn)
	}
	cb.mu.Lock()
	same := text == cb.last
	cb.last = text
	cb.mu.Unlock()
	if same || text == "" {
		return
	}
	for {
		select {
		case cb.out <- text:
			return
		default:
		}
		select { // full: drop the older text
		case <-cb.out:
		default:
		}
	}
}

// serve answers another client's request for a selection we own. See ICCCM 2.2.
func (cb *clipboard) serve(ev xproto.SelectionRequestEvent) {
	prop := ev.Property
	if prop == 0 {
		prop = ev.Target // an obsolete client: ICCCM says to use the target's name
	}
	cb.mu.Lock()
	text := cb.text
	cb.mu.Unlock()
	switch ev.Target {
	case cb.atoms.targets:
		targets := []xproto.Atom{cb.atoms.targets, cb.atoms.utf8, cb.atoms.text, xproto.AtomString}
		b := make([]byte, 0, 4*len(targets))
		for _, a := range targets {
			b = binary.LittleEndian.AppendUint32(b, uint32(a)) // xgb speaks little-endian
		}
		xproto.ChangeProperty(cb.xc, xproto.PropModeReplace, ev.Requestor, prop, xproto.AtomAtom, 32, uint32(len(targets)), b)
	case cb.atoms.utf8, cb.atoms.text:
		xproto.ChangeProperty(cb.xc, xproto.PropModeReplace, ev.Requestor, prop, cb.atoms.utf8, 8, uint32(len(text)), []byte(text))
	case xproto.AtomString:
		b := encodeLatin1(text)
		xproto.ChangeProperty(cb.xc, xproto.PropModeReplace, ev.Requestor, prop, xproto.AtomString, 8, uint32(len(b)), b)
	default:
		prop = 0 // refused
	}
	reply := xproto.SelectionNotifyEvent{
		Time: ev.Time, Requestor: ev.Requestor, Selection: ev.Selection, Target: ev.Target, Property: prop,
	}
	xproto.SendEvent(cb.xc, false, ev.Requestor, xproto.EventMaskNoEvent, string(reply.Bytes()))
}

// encodeLatin1 returns s in ISO 8859-1, with '?' for characters it lacks.
func encodeLatin1(s string) []byte {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			r = '?'
		}
		b = append(b, byte(r))
	}
	return b
}

// decodeLatin1 returns the ISO 8859-1 bytes b as a string.
func decodeLatin1(b []byte) string {
	var s strings.Builder
	s.Grow(len(b))
	for _, c := range b {
		s.WriteRune(rune(c))
	}
	return s.String()
}
