package rfb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/rfb/encoding"
	"github.com/buktu/buktu/internal/rfb/wire"
)

// session is one viewer's connection after the handshake. A reader goroutine takes the
// viewer's messages; the writer (run) sends updates when asked, waiting on the Display for
// changes, so a slow viewer only ever gets the newest state, coalesced.
type session struct {
	s      *Server
	conn   rw
	v      wire.Version
	access Access
	log    *slog.Logger

	mu      sync.Mutex // guards the fields below
	prefs   prefs
	request *wire.FramebufferUpdateRequest // the pending request, nil when none
	full    bool                           // the pending request (or a change) needs a full update
	asked   uint64                         // counts changes of request and full
	wake    chan struct{}                  // signalled when the fields above change
	cancel  context.CancelFunc             // cancels the writer's wait for a change
	out     [][]byte                       // small messages for the writer to send

	continuous bool // the viewer enabled continuous updates: every change goes out unasked
	announced  bool // continuous updates, fence, extended clipboard and QEMU keys were announced
	ackedKeys  bool // the QEMU extended key pseudo-rectangle is due (writer sends it)

	zrleStarted bool   // the connection's ZRLE zlib stream has its header (writer only)
	cursorSent  uint32 // serial of the cursor shape the viewer has (writer only)

	held          held // what this viewer holds down on the host (reader only, then run)
	resizeRefused bool // a refused resize request was logged at Info or Warn (reader only)
}

// held is what one viewer has pressed and not released: when it leaves, those go up, and
// nothing another viewer holds.
type held struct {
	keys    map[uint32]bool   // keysyms
	codes   map[uint32]uint32 // QEMU key numbers
	buttons uint8
	x, y    int
}

func (h *held) key(keysym uint32, down bool) {
	if h.keys == nil {
		h.keys = map[uint32]bool{}
	}
	if down {
		h.keys[keysym] = true
	} else {
		delete(h.keys, keysym)
	}
}

func (h *held) code(code uint32, down bool) {
	if h.codes == nil {
		h.codes = map[uint32]uint32{}
	}
	if down {
		h.codes[code] = code
	} else {
		delete(h.codes, code)
	}
}

// release lets go of what the viewer held.
func (ss *session) release() {
	d := ss.s.Display
	if sc, ok := d.(scancoder); ok {
		for code := range ss.held.codes {
			sc.KeyScancode(code, false)
		}
	}
	for keysym := range ss.held.keys {
		d.Key(keysym, false)
	}
	if ss.held.buttons != 0 {
		d.Pointer(0, ss.held.x, ss.held.y)
	}
	ss.held = held{}
}

// prefs is what the viewer asked for with SetPixelFormat and SetEncodings.
type prefs struct {
	format      wire.PixelFormat
	encoding    wire.Encoding // the best one we produce
	quality     int
	compress    int
	copyRect    bool
	desktopSize bool
	extDesktop  bool
	lastRect    bool
	desktopName bool
	extClip     bool
	cursor      bool
	qemuKey     bool
	continuous  bool // the viewer can use continuous updates
	fence       bool
}

func newSession(s *Server, conn rw, v wire.Version, access Access, log *slog.Logger) *session {
	return &session{s: s, conn: conn, v: v, access: access, log: log,
		prefs: prefs{format: wire.BGRX(), encoding: wire.EncodingRaw, quality: -1, compress: -1},
		wake:  make(chan struct{}, 1)}
}

func (ss *session) signal() {
	select {
	case ss.wake <- struct{}{}:
	default:
	}
}

// run serves the session until the viewer leaves or ctx ends.
func (ss *session) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { ss.conn.Close() })
	defer stop()
	readErr := make(chan error, 1)
	go func() {
		err := ss.read(ctx)
		readErr <- err
		cancel()
	}()
	werr := ss.write(ctx)
	ss.conn.Close()
	rerr := <-readErr
	ss.release() // the reader has ended: held is ours now
	if rerr != nil {
		return rerr
	}
	return werr
}

// read takes the viewer's messages until the connection ends.
func (ss *session) read(ctx context.Context) error {
	limits := wire.Limits{MaxCutText: or(ss.s.MaxCutText, 1<<20)}
	warned := false
	for {
		m, err := wire.ReadClientMessage(ss.conn, limits)
		if errors.Is(err, wire.ErrTooLong) {
			ss.log.Warn("viewer message over the limit skipped", "err", err)
			continue
		}
		if err != nil {
			return err
		}
		if err := ss.handle(ctx, m, &warned); err != nil {
			return err
		}
	}
}

func (ss *session) handle(ctx context.Context, m wire.ClientMessage, warned *bool) error {
	input := func() bool {
		if !ss.access.Input && !*warned {
			*warned = true
			ss.log.Info("input from a view-only viewer ignored", "account", ss.access.Account)
		}
		return ss.access.Input
	}
	switch m := m.(type) {
	case wire.SetPixelFormat:
		if _, err := encoding.NewEncoder(encoding.Params{Encoding: wire.EncodingRaw, Format: m.Format, Quality: -1, Compress: -1}, nil); err != nil {
			return fmt.Errorf("viewer's pixel format %v: %w", m.Format, err)
		}
		ss.mu.Lock()
		ss.prefs.format = m.Format
		ss.full = true
		ss.asked++
		ss.interruptLocked()
		ss.mu.Unlock()
	case wire.SetEncodings:
		ss.mu.Lock()
		ss.prefs = choose(ss.prefs, m.Encodings)
		p, first := ss.prefs, !ss.announced
		ss.announced = true
		if p.qemuKey {
			ss.ackedKeys = true
		}
		ss.interruptLocked()
		ss.mu.Unlock()
		if first {
			ss.announce(p)
		}
	case wire.FramebufferUpdateRequest:
		ss.mu.Lock()
		req := m
		ss.request = &req
		ss.asked++
		if !m.Incremental {
			ss.full = true
			ss.interruptLocked()
		}
		ss.mu.Unlock()
		ss.signal()
	case wire.KeyEvent:
		if input() {
			ss.held.key(m.Keysym, m.Down)
			return ignoreDisplay(ss.s.Display.Key(m.Keysym, m.Down), ss.log)
		}
	case wire.QEMUKeyEvent:
		if input() {
			if sc, ok := ss.s.Display.(scancoder); ok && m.Keycode != 0 {
				if err := sc.KeyScancode(m.Keycode, m.Down); err == nil {
					ss.held.code(m.Keycode, m.Down)
					return nil
				}
			}
			ss.held.key(m.Keysym, m.Down)
			return ignoreDisplay(ss.s.Display.Key(m.Keysym, m.Down), ss.log)
		}
	case wire.PointerEvent:
		if input() {
			ss.held.buttons, ss.held.x, ss.held.y = m.Buttons, int(m.X), int(m.Y)
			return ignoreDisplay(ss.s.Display.Pointer(m.Buttons, int(m.X), int(m.Y)), ss.log)
		}
	case wire.ClientCutText:
		if input() {
			return ignoreDisplay(ss.s.Display.SetClipboard(wire.DecodeLatin1(m.Text)), ss.log)
		}
	case wire.ClientClipboard:
		if m.Clipboard.Flags.Action() == wire.ClipboardProvide && input() {
			text, err := m.Clipboard.Text(or(ss.s.MaxCutText, 1<<20))
			if err == nil {
				return ignoreDisplay(ss.s.Display.SetClipboard(text), ss.log)
			}
		}
	case wire.EnableContinuousUpdates:
		ss.mu.Lock()
		was := ss.continuous
		ss.continuous = m.Enable
		ss.interruptLocked()
		ss.mu.Unlock()
		if was && !m.Enable {
			ss.send(wire.EndOfContinuousUpdates{}.Append(nil))
		}
		ss.signal()
	case wire.ClientFence:
		if m.Flags&wire.FenceRequest != 0 {
			ss.send(wire.ServerFence{Flags: m.Flags.Answer(), Payload: m.Payload}.Append(nil))
		}
	case wire.SetDesktopSize:
		ss.refuseResize(ctx, m)
	}
	return nil
}

// refuseResize answers a viewer's SetDesktopSize. Viewers never resize the host's screen: the
// person at the host and every other viewer share it. rfbproto asks for the refusal in an
// ExtendedDesktopSize rectangle of its own update, at once, with the status code: invalid
// screen layout when the request breaks the screen model, else resize prohibited. Only a
// viewer that listed ExtendedDesktopSize can read that rectangle; one that did not should
// never have asked, and gets no answer. The first refusal is logged at Info (Warn for a bogus
// layout or a viewer that cannot hear the answer), later ones at Debug, so a viewer that asks
// again and again cannot flood the log.
func (ss *session) refuseResize(ctx context.Context, m wire.SetDesktopSize) {
	status, level, why := wire.ResizeProhibited, slog.LevelInfo, "viewers may not resize the host's screen"
	if err := m.Validate(); err != nil {
		status, level, why = wire.ResizeInvalidLayout, slog.LevelWarn, err.Error()
	}
	ss.mu.Lock()
	ext := ss.prefs.extDesktop
	ss.mu.Unlock()
	msg := "viewer's resize request refused"
	if !ext {
		level, msg = slog.LevelWarn, "viewer's resize request refused unanswered: it did not list ExtendedDesktopSize"
	}
	if ss.resizeRefused {
		level = slog.LevelDebug
	}
	ss.resizeRefused = true
	ss.log.Log(ctx, level, msg, "width", m.Width, "height", m.Height, "screens", len(m.Screens),
		"status", status, "reason", why)
	if !ext {
		return
	}
	// The rest of the rectangle is undefined on a refusal; it tells the current layout.
	f, _, _, err := ss.s.Display.Update(ctx, 0)
	if err != nil {
		ss.log.Warn("answer a viewer's resize request", "err", err)
		return
	}
	w, h := f.W, f.H
	if r, ok := ss.s.Display.(releaser); ok {
		r.Release(f)
	}
	ss.send(extendedDesktopSize(wire.FramebufferUpdate{Rects: 1}.Append(nil), wire.ResizeByThisClient, status, w, h))
}

// extendedDesktopSize appends an ExtendedDesktopSize rectangle saying why (reason) and how
// (status) the framebuffer is w×h: one screen, the whole of it, as buktu has.
// See rfbproto, "ExtendedDesktopSize Pseudo-encoding".
func extendedDesktopSize(b []byte, reason, status uint16, w, h int) []byte {
	b = wire.RectHeader{X: reason, Y: status, Width: uint16(w), Height: uint16(h), Encoding: wire.EncodingExtendedDesktopSize}.Append(b)
	return wire.AppendExtendedDesktopSize(b, []wire.Screen{{Width: uint16(w), Height: uint16(h)}})
}

// releaser is a Display that can reuse a frame's memory once the viewers it went to are done
// with it.
type releaser interface {
	Release(f *frame.Frame)
}

// scancoder is a Display that takes QEMU's key numbers, which carry the physical key.
type scancoder interface {
	KeyScancode(scancode uint32, down bool) error
}

// scroller is a Display that finds content that moved (text scrolling), so it can be sent as
// a CopyRect from what the viewer already has.
type scroller interface {
	Scroll(from, to uint64) (frame.Scroll, bool)
}

// cursorSource is a Display that knows the pointer's shape.
type cursorSource interface {
	CursorSerial() uint32
	Cursor() (img *frame.Frame, serial uint32, hotX, hotY int, err error)
}

// announce tells the viewer which of the extensions it listed the server takes part in, as
// rfbproto asks: EndOfContinuousUpdates for continuous updates, a fence request for fences,
// and the clipboard's capabilities.
func (ss *session) announce(p prefs) {
	if p.continuous {
		ss.send(wire.EndOfContinuousUpdates{}.Append(nil))
	}
	if p.fence {
		ss.send(wire.ServerFence{Flags: wire.FenceRequest}.Append(nil))
	}
	if p.extClip {
		ss.send(wire.ServerClipboard{Clipboard: wire.TextCaps(uint32(or(ss.s.MaxCutText, 1<<20)))}.Append(nil))
	}
}

// clipboard sends the host's clipboard text to a viewer that may use it.
func (ss *session) clipboard(text string) {
	if !ss.access.Input {
		return // the host's clipboard is not part of the screen an observer sees
	}
	ss.mu.Lock()
	ext := ss.prefs.extClip
	ss.mu.Unlock()
	if ext {
		ss.send(wire.ServerClipboard{Clipboard: wire.ProvideText(text)}.Append(nil))
		return
	}
	ss.send(wire.ServerCutText{Text: wire.EncodeLatin1(text)}.Append(nil))
}

// ignoreDisplay logs a failure to pass input on: the session goes on.
func ignoreDisplay(err error, log *slog.Logger) error {
	if err != nil {
		log.Warn("pass viewer input to the screen", "err", err)
	}
	return nil
}

// send queues a small message for the writer, which sends it at once, even while it waits
// for the screen to change (a fence's answer must not wait for the screen).
func (ss *session) send(b []byte) {
	ss.mu.Lock()
	ss.out = append(ss.out, b)
	ss.interruptLocked()
	ss.mu.Unlock()
	ss.signal()
}

// interruptLocked stops the writer's wait for a change, so it acts on what changed now.
func (ss *session) interruptLocked() {
	if ss.cancel != nil {
		ss.cancel()
	}
}

// choose picks, from the viewer's list in its order of preference, the encoding we produce
// and notes the pseudo-encodings it understands.
func choose(p prefs, encs []wire.Encoding) prefs {
	p = prefs{format: p.format, encoding: wire.EncodingRaw} // each SetEncodings replaces the last
	picked := false
	for _, e := range encs {
		switch e {
		case wire.EncodingTight, wire.EncodingZRLE, wire.EncodingHextile, wire.EncodingRaw:
			if !picked {
				p.encoding, picked = e, true
			}
		case wire.EncodingCopyRect:
			p.copyRect = true
		case wire.EncodingDesktopSize:
			p.desktopSize = true
		case wire.EncodingExtendedDesktopSize:
			p.extDesktop = true
		case wire.EncodingLastRect:
			p.lastRect = true
		case wire.EncodingDesktopName:
			p.desktopName = true
		case wire.EncodingExtendedClipboard:
			p.extClip = true
		case wire.EncodingCursor:
			p.cursor = true
		case wire.EncodingQEMUExtendedKey:
			p.qemuKey = true
		case wire.EncodingContinuousUpdates:
			p.continuous = true
		case wire.EncodingFence:
			p.fence = true
		}
	}
	p.quality, p.compress = -1, -1
	if q, ok := wire.QualityLevel(encs); ok {
		p.quality = q
	}
	if c, ok := wire.CompressLevel(encs); ok {
		p.compress = c
	}
	return p
}

// write sends updates as the viewer asks for them.
func (ss *session) write(ctx context.Context) error {
	var since uint64
	var w, h int
	for {
		// The wait for a change is cancellable from the moment the writer looks at what the
		// viewer wants, so nothing that changes after that look waits behind it.
		wctx, cancel := context.WithCancel(ctx)
		ss.mu.Lock()
		ss.cancel = cancel
		out := ss.out
		ss.out = nil
		req, full, p, asked := ss.request, ss.full, ss.prefs, ss.asked
		if ss.continuous && req == nil {
			req = &wire.FramebufferUpdateRequest{Incremental: true}
		}
		ackKeys := ss.ackedKeys
		ss.ackedKeys = false
		ss.mu.Unlock()
		if ackKeys {
			// The QEMU extended key pseudo-rectangle says the server takes key numbers.
			b := wire.FramebufferUpdate{Rects: 1}.Append(nil)
			out = append(out, wire.RectHeader{Encoding: wire.EncodingQEMUExtendedKey}.Append(b))
		}
		for _, b := range out {
			if _, err := ss.conn.Write(b); err != nil {
				cancel()
				return err
			}
		}
		if req == nil {
			select {
			case <-ctx.Done():
			case <-ss.wake:
			}
			cancel()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		from := since
		if full {
			from = 0
		}
		f, region, seq, err := ss.s.Display.Update(wctx, from)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if wctx.Err() != nil {
				continue // interrupted: look again at what the viewer wants now
			}
			return fmt.Errorf("get the screen: %w", err)
		}
		ss.mu.Lock()
		if ss.asked == asked { // else a request came meanwhile: the next turn answers it
			ss.request, ss.full = nil, false
		}
		ss.mu.Unlock()
		resized := w != 0 && (f.W != w || f.H != h)
		if from == 0 || resized {
			region = frame.RegionOf(f.Bounds())
		}
		fw, fh := f.W, f.H
		if err := ss.update(f, region, from, seq, p, resized); err != nil {
			return err
		}
		since, w, h = seq, fw, fh
	}
}

// update sends one FramebufferUpdate of region of f.
// The frame is released (the Display may reuse it) once encoded, before the bytes go out: a
// slow viewer then holds bytes shared with every other viewer, not a frame of its own.
func (ss *session) update(f *frame.Frame, region frame.Region, from, seq uint64, p prefs, resized bool) error {
	released := false
	release := func() {
		if r, ok := ss.s.Display.(releaser); ok && !released {
			r.Release(f)
		}
		released = true
	}
	defer release()
	w, h := f.W, f.H
	params := encoding.Params{Encoding: p.encoding, Format: p.format, Quality: p.quality, Compress: p.compress}
	var scroll *frame.Scroll
	if sd, ok := ss.s.Display.(scroller); ok && p.copyRect && from != 0 && !resized {
		if sc, ok := sd.Scroll(from, seq); ok {
			scroll = &sc
		}
	}
	body, n, err := ss.s.cache.encode(params, f, region, seq, scroll)
	release()
	if err != nil {
		return err
	}
	var pseudo []byte
	npseudo := 0
	if p.cursor {
		if cs, ok := ss.s.Display.(cursorSource); ok && cs.CursorSerial() != ss.cursorSent {
			if b, serial, ok := ss.cursorRect(cs, params); ok {
				pseudo = append(pseudo, b...)
				npseudo++
				ss.cursorSent = serial
			}
		}
	}
	if resized {
		switch {
		case p.extDesktop:
			pseudo = extendedDesktopSize(pseudo, wire.ResizeByServer, wire.ResizeOK, w, h)
			npseudo++
		case p.desktopSize:
			pseudo = wire.RectHeader{Width: uint16(w), Height: uint16(h), Encoding: wire.EncodingDesktopSize}.Append(pseudo)
			npseudo++
		default:
			return errors.New("the screen changed size and the viewer cannot follow")
		}
	}
	if p.encoding == wire.EncodingZRLE && !ss.zrleStarted && n > 0 {
		body = startZRLE(body)
		ss.zrleStarted = true
	}
	count := n + npseudo
	if count > 0xFFFE {
		return fmt.Errorf("update of %d rectangles", count)
	}
	msg := wire.FramebufferUpdate{Rects: uint16(count)}.Append(make([]byte, 0, 4+len(pseudo)))
	msg = append(msg, pseudo...)
	if _, err := ss.conn.Write(msg); err != nil {
		return err
	}
	_, err = ss.conn.Write(body)
	return err
}

// cursorRect encodes the pointer's shape as a Cursor pseudo-rectangle: its pixels in the
// viewer's format, then a bitmask of the opaque ones. See RFC 6143, section 7.8.1.
func (ss *session) cursorRect(cs cursorSource, p encoding.Params) ([]byte, uint32, bool) {
	img, serial, hotX, hotY, err := cs.Cursor()
	if err != nil || img == nil || img.W == 0 || img.H == 0 || img.W > 256 || img.H > 256 {
		return nil, 0, false
	}
	raw := p
	raw.Encoding, raw.Quality, raw.Compress = wire.EncodingRaw, -1, -1
	enc, err := encoding.NewEncoder(raw, nil)
	if err != nil {
		return nil, 0, false
	}
	body, _ := enc.Encode(nil, img, img.Bounds())
	pixels := body[wire.RectHeaderLength:]
	b := wire.RectHeader{X: uint16(hotX), Y: uint16(hotY), Width: uint16(img.W), Height: uint16(img.H), Encoding: wire.EncodingCursor}.Append(nil)
	b = append(b, pixels...)
	stride := (img.W + 7) / 8
	mask := make([]byte, stride*img.H)
	for y := range img.H {
		for x := range img.W {
			if img.Pixel(x, y)>>24 >= 0x80 { // alpha is kept in the X byte
				mask[y*stride+x/8] |= 0x80 >> (x % 8)
			}
		}
	}
	return append(b, mask...), serial, true
}
