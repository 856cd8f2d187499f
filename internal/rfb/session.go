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
	wake    chan struct{}                  // signalled when the fields above change
	cancel  context.CancelFunc             // cancels the writer's wait for a change
	out     [][]byte                       // small messages for the writer to send

	zrleStarted bool // the connection's ZRLE zlib stream has its header (writer only)
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
		ss.interruptLocked()
		ss.mu.Unlock()
	case wire.SetEncodings:
		ss.mu.Lock()
		ss.prefs = choose(ss.prefs, m.Encodings)
		ss.interruptLocked()
		ss.mu.Unlock()
	case wire.FramebufferUpdateRequest:
		ss.mu.Lock()
		req := m
		ss.request = &req
		if !m.Incremental {
			ss.full = true
			ss.interruptLocked()
		}
		ss.mu.Unlock()
		ss.signal()
	case wire.KeyEvent:
		if input() {
			return ignoreDisplay(ss.s.Display.Key(m.Keysym, m.Down), ss.log)
		}
	case wire.QEMUKeyEvent:
		if input() {
			return ignoreDisplay(ss.s.Display.Key(m.Keysym, m.Down), ss.log)
		}
	case wire.PointerEvent:
		if input() {
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
	case wire.ClientFence:
		if m.Flags&wire.FenceRequest != 0 {
			ss.send(wire.ServerFence{Flags: m.Flags &^ wire.FenceRequest, Payload: m.Payload}.Append(nil))
		}
	case wire.SetDesktopSize:
		// Viewers may not resize the host's screen; say so if they can hear it.
		ss.mu.Lock()
		ext := ss.prefs.extDesktop
		ss.mu.Unlock()
		if ext {
			f, _, _, err := ss.s.Display.Update(ctx, 0)
			if err == nil {
				b := wire.FramebufferUpdate{Rects: 1}.Append(nil)
				b = wire.RectHeader{X: uint16(wire.ResizeByThisClient), Y: uint16(wire.ResizeProhibited), Width: uint16(f.W), Height: uint16(f.H), Encoding: wire.EncodingExtendedDesktopSize}.Append(b)
				b = wire.AppendExtendedDesktopSize(b, []wire.Screen{{Width: uint16(f.W), Height: uint16(f.H)}})
				ss.send(b)
			}
		}
	}
	return nil
}

// ignoreDisplay logs a failure to pass input on: the session goes on.
func ignoreDisplay(err error, log *slog.Logger) error {
	if err != nil {
		log.Warn("pass viewer input to the screen", "err", err)
	}
	return nil
}

// send queues a small message for the writer.
func (ss *session) send(b []byte) {
	ss.mu.Lock()
	ss.out = append(ss.out, b)
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
	p.encoding, p.copyRect = wire.EncodingRaw, false
	p.desktopSize, p.extDesktop, p.lastRect, p.desktopName, p.extClip = false, false, false, false, false
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
		ss.mu.Lock()
		out := ss.out
		ss.out = nil
		req, full, p := ss.request, ss.full, ss.prefs
		ss.mu.Unlock()
		for _, b := range out {
			if _, err := ss.conn.Write(b); err != nil {
				return err
			}
		}
		if req == nil {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-ss.wake:
			}
			continue
		}
		wctx, cancel := context.WithCancel(ctx)
		ss.mu.Lock()
		ss.cancel = cancel
		ss.mu.Unlock()
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
		ss.request, ss.full = nil, false
		ss.mu.Unlock()
		resized := w != 0 && (f.W != w || f.H != h)
		if from == 0 || resized {
			region = frame.RegionOf(f.Bounds())
		}
		if err := ss.update(f, region, from, seq, p, resized); err != nil {
			return err
		}
		since, w, h = seq, f.W, f.H
	}
}

// update sends one FramebufferUpdate of region of f.
func (ss *session) update(f *frame.Frame, region frame.Region, from, seq uint64, p prefs, resized bool) error {
	params := encoding.Params{Encoding: p.encoding, Format: p.format, Quality: p.quality, Compress: p.compress}
	body, n, err := ss.s.cache.encode(params, f, region, from, seq)
	if err != nil {
		return err
	}
	var pseudo []byte
	npseudo := 0
	if resized {
		switch {
		case p.extDesktop:
			pseudo = wire.RectHeader{X: uint16(wire.ResizeByServer), Width: uint16(f.W), Height: uint16(f.H), Encoding: wire.EncodingExtendedDesktopSize}.Append(pseudo)
			pseudo = wire.AppendExtendedDesktopSize(pseudo, []wire.Screen{{Width: uint16(f.W), Height: uint16(f.H)}})
			npseudo++
		case p.desktopSize:
			pseudo = wire.RectHeader{Width: uint16(f.W), Height: uint16(f.H), Encoding: wire.EncodingDesktopSize}.Append(pseudo)
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
