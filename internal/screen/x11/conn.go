package x11

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/damage"
	"github.com/jezek/xgb/randr"
	"github.com/jezek/xgb/screensaver"
	"github.com/jezek/xgb/shm"
	"github.com/jezek/xgb/xfixes"
	"github.com/jezek/xgb/xproto"
	"github.com/jezek/xgb/xtest"
)

// ErrUnsupported means the display lacks the extension a call needs; the error wrapping it
// names the extension.
var ErrUnsupported = errors.New("x11: not supported by this display")

// ErrClosed is returned by calls on a Conn after Close, or after the X server went away.
var ErrClosed = errors.New("x11: connection closed")

// Options tune Open. The zero value connects the way any X client would.
type Options struct {
	// Authority is the Xauthority file holding the display's cookie. Empty means
	// $XAUTHORITY, then ~/.Xauthority; no file or no matching entry means no cookie.
	Authority string
	// NoSHM makes Capture use core GetImage even when MIT-SHM would work.
	NoSHM bool
	// MaxClipboard bounds the bytes read from a host selection; 0 means 1 MiB.
	MaxClipboard int
	// Logger receives Debug detail about X errors and fallbacks; nil discards.
	Logger *slog.Logger
}

// Conn is a connection to one screen of an X display. Its methods are safe for concurrent
// use. Close it to release the keys it holds down and the keycodes it borrowed.
type Conn struct {
	xc     *xgb.Conn
	root   xproto.Window
	addr   address
	log    *slog.Logger
	format pixelFormat
	has    extensions
	dmg    damage.Damage
	parts  xfixes.Region // where Damaged collects the damage the server accumulated
	wake   chan struct{} // capacity 1: "something may have changed"
	done   chan struct{} // closed when the event loop has ended
	clip   *clipboard

	cursorSerial atomic.Uint32
	lastFake     atomic.Int64 // when this Conn last injected input, in Unix nanoseconds
	stale        atomic.Bool  // the keyboard mapping changed since it was read

	sizeMu sync.Mutex // guards w and h
	w, h   int

	capMu sync.Mutex // guards seg, shmTried; one capture at a time
	seg   *shmSegment
	// shmTried is set once MIT-SHM has been set up or given up on.
	shmTried bool

	keyMu sync.Mutex // guards kb
	kb    keyboard

	ptrMu sync.Mutex // guards ptr
	ptr   pointerState

	closeOnce sync.Once
}

// extensions records which optional X extensions answered.
type extensions struct {
	shm, xtest, damage, xfixes, randr, saver bool
}

// Open connects to display (":0", "host:1.0"; empty means $DISPLAY) and readies capture,
// input and the clipboard bridge. Only the core protocol is required: each missing
// extension disables what needs it, and those calls return ErrUnsupported.
func Open(ctx context.Context, display string, opts Options) (*Conn, error) {
	xc, a, err := connect(ctx, display, opts.Authority)
	if err != nil {
		return nil, err
	}
	c := &Conn{
		xc:   xc,
		addr: a,
		log:  opts.Logger,
		wake: make(chan struct{}, 1),
		done: make(chan struct{}),
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if err := c.setup(opts); err != nil {
		xc.Close()
		return nil, fmt.Errorf("open x display %s: %w", a, err)
	}
	go c.events()
	return c, nil
}

// connect opens an xgb connection to display with the cookie from authority.
func connect(ctx context.Context, display, authority string) (*xgb.Conn, address, error) {
	if display == "" {
		display = os.Getenv("DISPLAY")
	}
	a, err := parseDisplay(display)
	if err != nil {
		return nil, a, fmt.Errorf("open x display: %w", err)
	}
	cookie, err := readCookie(a, authority)
	if err != nil {
		return nil, a, fmt.Errorf("open x display %s: %w", a, err)
	}
	nc, err := a.dial(ctx)
	if err != nil {
		return nil, a, fmt.Errorf("open x display %s: %w", a, err)
	}
	// The setup handshake has no context of its own: cancelling ctx breaks it off.
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	xc, err := xgb.NewConnNet(&authConn{Conn: nc, cookie: cookie})
	if !stop() || err != nil {
		nc.Close()
		if err == nil {
			xc.Close()
			err = ctx.Err()
		}
		return nil, a, fmt.Errorf("open x display %s: %w", a, err)
	}
	nc.SetDeadline(time.Time{})
	return xc, a, nil
}

// setup reads the screen, checks its pixel format and turns on the extensions.
func (c *Conn) setup(opts Options) error {
	info := xproto.Setup(c.xc)
	if info == nil || c.addr.screen >= len(info.Roots) {
		return fmt.Errorf("no screen %d", c.addr.screen)
	}
	scr := info.Roots[c.addr.screen]
	c.root = scr.Root
	c.w, c.h = int(scr.WidthInPixels), int(scr.HeightInPixels)
	f, err := formatOf(info, &scr)
	if err != nil {
		return err
	}
	c.format = f
	c.kb.min, c.kb.max = info.MinKeycode, info.MaxKeycode
	maxReq := int(info.MaximumRequestLength) * 4

	c.has.xtest = xtest.Init(c.xc) == nil
	if c.has.xtest {
		_, err := xtest.GetVersion(c.xc, 2, 2).Reply()
		c.has.xtest = err == nil
	}
	c.has.shm = !opts.NoSHM && c.addr.local() && shm.Init(c.xc) == nil
	c.has.saver = screensaver.Init(c.xc) == nil
	if c.has.saver {
		_, err := screensaver.QueryVersion(c.xc, 1, 1).Reply()
		c.has.saver = err == nil
	}
	// XFIXES and DAMAGE insist on being told the client's version before anything else.
	c.has.xfixes = xfixes.Init(c.xc) == nil
	if c.has.xfixes {
		_, err := xfixes.QueryVersion(c.xc, 5, 0).Reply()
		c.has.xfixes = err == nil
	}
	if c.has.xfixes && damage.Init(c.xc) == nil {
		if _, err := damage.QueryVersion(c.xc, 1, 1).Reply(); err == nil {
			c.has.damage = c.watchDamage() == nil
		}
	}
	if c.has.xfixes {
		xfixes.SelectCursorInput(c.xc, c.root, xfixes.CursorNotifyMaskDisplayCursor)
		if r, err := xfixes.GetCursorImage(c.xc).Reply(); err == nil {
			c.cursorSerial.Store(r.CursorSerial)
		}
	}
	c.has.randr = randr.Init(c.xc) == nil
	if c.has.randr {
		_, err := randr.QueryVersion(c.xc, 1, 3).Reply()
		c.has.randr = err == nil
	}
	if c.has.randr {
		randr.SelectInput(c.xc, c.root, randr.NotifyMaskScreenChange)
	}
	c.clip, err = newClipboard(c.xc, c.root, c.has.xfixes, maxReq, opts.MaxClipboard, c.log)
	if err != nil {
		return err
	}
	c.log.Debug("x display opened", "display", c.addr.String(), "width", c.w, "height", c.h,
		"depth", c.format.depth, "shm", c.has.shm, "xtest", c.has.xtest, "damage", c.has.damage,
		"xfixes", c.has.xfixes, "randr", c.has.randr, "screensaver", c.has.saver)
	return nil
}

// watchDamage asks for one event each time the screen goes from unchanged to changed, and
// makes the region Damaged reads the accumulated damage into.
func (c *Conn) watchDamage() error {
	id, err := damage.NewDamageId(c.xc)
	if err != nil {
		return err
	}
	c.dmg = id
	if err := damage.CreateChecked(c.xc, id, xproto.Drawable(c.root), damage.ReportLevelNonEmpty).Check(); err != nil {
		return err
	}
	parts, err := xfixes.NewRegionId(c.xc)
	if err != nil {
		return err
	}
	c.parts = parts
	return xfixes.CreateRegionChecked(c.xc, parts, nil).Check()
}

// events reads what the X server sends until the connection ends. xgb queues events until
// someone reads them, so this loop must always run.
func (c *Conn) events() {
	defer close(c.done)
	for {
		ev, xerr := c.xc.WaitForEvent()
		if ev == nil && xerr == nil {
			return
		}
		if xerr != nil {
			c.log.Debug("x error", "err", xerr)
			continue
		}
		switch ev := ev.(type) {
		case damage.NotifyEvent:
			c.poke()
		case xfixes.CursorNotifyEvent:
			c.cursorSerial.Store(ev.CursorSerial)
			c.poke()
		case randr.ScreenChangeNotifyEvent:
			c.refreshSize()
			c.poke()
		case xproto.MappingNotifyEvent:
			c.stale.Store(true)
		default:
			c.clip.handle(ev)
		}
	}
}

// poke wakes whoever waits on Wake, without ever blocking.
func (c *Conn) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Wake returns a channel that receives after the screen contents, the cursor or the screen
// size may have changed (DAMAGE, XFIXES and RANDR events). It is nil when the display offers
// no DAMAGE: then only capturing and comparing finds changes.
func (c *Conn) Wake() <-chan struct{} {
	if !c.has.damage {
		return nil
	}
	return c.wake
}

// Size returns the screen's size in pixels as last seen.
func (c *Conn) Size() (w, h int) {
	c.sizeMu.Lock()
	defer c.sizeMu.Unlock()
	return c.w, c.h
}

// refreshSize asks the server for the root window's size.
func (c *Conn) refreshSize() (w, h int, err error) {
	g, err := xproto.GetGeometry(c.xc, xproto.Drawable(c.root)).Reply()
	if err != nil {
		return 0, 0, c.wrap("read screen size", err)
	}
	c.sizeMu.Lock()
	defer c.sizeMu.Unlock()
	c.w, c.h = int(g.Width), int(g.Height)
	return c.w, c.h, nil
}

// CursorSerial returns the serial number of the cursor shape on screen, as XFIXES last
// reported it: when it differs from the one Cursor returned, the shape changed.
func (c *Conn) CursorSerial() uint32 { return c.cursorSerial.Load() }

// IdleTime returns how long ago the user last pressed a key or moved the pointer, injected
// input included (MIT-SCREEN-SAVER).
func (c *Conn) IdleTime() (time.Duration, error) {
	if !c.has.saver {
		return 0, fmt.Errorf("read idle time: MIT-SCREEN-SAVER: %w", ErrUnsupported)
	}
	r, err := screensaver.QueryInfo(c.xc, xproto.Drawable(c.root)).Reply()
	if err != nil {
		return 0, c.wrap("read idle time", err)
	}
	return time.Duration(r.MsSinceUserInput) * time.Millisecond, nil
}

// ownInput is how close to an event this Conn injected the server's last input must be for
// it to count as that event rather than the user's.
const ownInput = 250 * time.Millisecond

// LocalInputSince reports whether someone used the display's keyboard or mouse after t,
// not counting the input this Conn injected for remote viewers (XTEST events count as
// input for the server's idle timer too). While viewers type or point without pause,
// the person at the display goes unnoticed.
func (c *Conn) LocalInputSince(t time.Time) (bool, error) {
	idle, err := c.IdleTime()
	if err != nil {
		return false, err
	}
	last := time.Now().Add(-idle)
	if !last.After(t) {
		return false, nil
	}
	fake := time.Unix(0, c.lastFake.Load())
	d := last.Sub(fake)
	return d > ownInput || d < -ownInput, nil
}

// Close releases the keys and buttons this Conn holds down, gives back the keycodes it
// borrowed, and disconnects. It waits for the event loop to end.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		c.ReleaseAll()
		c.keyMu.Lock()
		c.restoreKeymapLocked()
		c.keyMu.Unlock()
		c.capMu.Lock()
		if c.seg != nil {
			c.seg.detach(c.xc)
			c.seg = nil
		}
		c.shmTried = true
		c.capMu.Unlock()
		c.xc.Close()
		<-c.done
	})
	return nil
}

// wrap turns an error from xgb into ours: what we were doing, and ErrClosed once the
// connection is gone.
func (c *Conn) wrap(doing string, err error) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", doing, ErrClosed)
	}
	select {
	case <-c.done:
		return fmt.Errorf("%s: %w", doing, ErrClosed)
	default:
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// RedirectLibraryLog sends the lines xgb logs by itself (it prints "Could not get
// authority info" on every connection made without $XAUTHORITY, and read errors when a
// display goes away) to l at Debug level instead of stderr. xgb keeps its logger in a
// package variable, so this changes the whole process: call it once at start-up, before
// any Open.
func RedirectLibraryLog(l *slog.Logger) {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	xgb.Logger = slog.NewLogLogger(l.With("lib", "xgb").Handler(), slog.LevelDebug)
}
