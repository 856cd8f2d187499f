package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/buktu/buktu/internal/frame"
)

// scrWorkload is what the benchmark's X client draws, frame after frame.
type scrWorkload int

const (
	scrIdle   scrWorkload = iota // nothing: the background and the latency markers
	scrVideo                     // the whole screen changes every frame, like a video
	scrText                      // a text region scrolls by one line every frame
	scrSquare                    // a small square moves over a still background
	scrNoise                     // the whole screen changes into new grain every frame: a stress test
)

func (w scrWorkload) String() string {
	return [...]string{"idle", "video", "scrolling text", "moving square", "noise"}[w]
}

// Colours of the drawing, 0xRRGGBB.
const (
	scrBackground = 0x3a6ea5
	scrPaper      = 0xffffff
	scrInk        = 0x000000
	scrSquareCol  = 0xf08020
	scrMarkerCol  = 0xff00ff
)

const (
	scrSquareSide = 64
	scrMarkerSide = 16
	scrLineHeight = 14 // the "fixed" font is 6×13
	scrStampBlock = 8  // the frame stamp is three blocks of this side at the top left
	scrVideoKinds = 12 // distinct video frames, shown in turn: one loop of the scene's motion
	scrNoiseKinds = 8  // distinct noise frames, shown in turn
)

// scrDrawer is an X client of the benchmark's own on the shared display: one full-screen
// window on which it draws a workload at a steady rate, and which paints a marker where a
// mouse button is pressed (the latency probe). Every X request goes out from its loop
// goroutine; other goroutines hand it work with do.
type scrDrawer struct {
	xc     *xgb.Conn
	win    xproto.Window
	gc     xproto.Gcontext
	w, h   int
	cmds   chan func()
	events chan xgb.Event
	drawn  atomic.Int64 // frames drawn since start
	clicks atomic.Int64 // markers painted since start

	// Owned by the loop goroutine.
	films   map[scrWorkload][]xproto.Pixmap // pre-drawn frames of the full-screen workloads, on the X server
	kind    scrWorkload
	ticker  *time.Ticker
	n       int // frames drawn of the present workload
	square  frame.Rect
	dx, dy  int
	markers []frame.Rect
	text    frame.Rect
}

// scrStartDrawer connects to display (XAUTHORITY must hold its cookie) and makes the window;
// the drawer stops when ctx ends.
func scrStartDrawer(ctx context.Context, display string) (*scrDrawer, func(), error) {
	xc, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to %s: %w", display, err)
	}
	scr := xproto.Setup(xc).Roots[0]
	d := &scrDrawer{xc: xc, w: int(scr.WidthInPixels), h: int(scr.HeightInPixels),
		cmds: make(chan func()), events: make(chan xgb.Event, 256), films: map[scrWorkload][]xproto.Pixmap{}}
	if err := d.setup(scr); err != nil {
		xc.Close()
		return nil, nil, err
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			ev, xerr := xc.WaitForEvent()
			if ev == nil && xerr == nil {
				return
			}
			if ev != nil {
				select {
				case d.events <- ev:
				default:
				}
			}
		}
	})
	ctx, cancel := context.WithCancel(ctx)
	wg.Go(func() { d.loop(ctx) })
	stop := func() {
		cancel()
		xc.Close()
		wg.Wait()
	}
	return d, stop, nil
}

// setup makes the window (full screen, no window manager's say, an invisible pointer so that
// no server draws one into its pixels) and the GC with the "fixed" font.
func (d *scrDrawer) setup(scr xproto.ScreenInfo) error {
	check := func(what string, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	blank, err := xproto.NewPixmapId(d.xc)
	if err != nil {
		return err
	}
	cursor, _ := xproto.NewCursorId(d.xc)
	clear, _ := xproto.NewGcontextId(d.xc)
	xproto.CreatePixmap(d.xc, 1, blank, xproto.Drawable(scr.Root), 1, 1)
	xproto.CreateGC(d.xc, clear, xproto.Drawable(blank), xproto.GcForeground, []uint32{0})
	xproto.PolyFillRectangle(d.xc, xproto.Drawable(blank), clear, []xproto.Rectangle{{Width: 1, Height: 1}})
	xproto.CreateCursor(d.xc, cursor, blank, blank, 0, 0, 0, 0, 0, 0, 0, 0)

	d.win, _ = xproto.NewWindowId(d.xc)
	err = xproto.CreateWindowChecked(d.xc, scr.RootDepth, d.win, scr.Root, 0, 0, uint16(d.w), uint16(d.h), 0,
		xproto.WindowClassInputOutput, scr.RootVisual,
		xproto.CwBackPixel|xproto.CwOverrideRedirect|xproto.CwEventMask|xproto.CwCursor,
		[]uint32{scrBackground, 1, xproto.EventMaskButtonPress, uint32(cursor)}).Check()
	if err := check("create the window", err); err != nil {
		return err
	}
	if err := check("map the window", xproto.MapWindowChecked(d.xc, d.win).Check()); err != nil {
		return err
	}
	font, _ := xproto.NewFontId(d.xc)
	if err := check(`open the font "fixed"`, xproto.OpenFontChecked(d.xc, font, 5, "fixed").Check()); err != nil {
		return err
	}
	d.gc, _ = xproto.NewGcontextId(d.xc)
	xproto.CreateGC(d.xc, d.gc, xproto.Drawable(d.win),
		xproto.GcForeground|xproto.GcBackground|xproto.GcFont|xproto.GcGraphicsExposures,
		[]uint32{scrInk, scrPaper, uint32(font), 0})
	d.paintBackground()
	d.xc.Sync()
	return nil
}

// film returns the frames of full-screen workload w, shown in turn; the first call for w
// draws them and uploads them to the X server, so that showing one costs a CopyArea.
func (d *scrDrawer) film(w scrWorkload) ([]xproto.Pixmap, error) {
	if f, ok := d.films[w]; ok {
		return f, nil
	}
	var film []xproto.Pixmap
	var err error
	depth := xproto.Setup(d.xc).Roots[0].RootDepth
	upload := func(f *frame.Frame) {
		if err != nil {
			return
		}
		var p xproto.Pixmap
		if p, err = xproto.NewPixmapId(d.xc); err != nil {
			return
		}
		err = xproto.CreatePixmapChecked(d.xc, depth, p, xproto.Drawable(d.win), uint16(d.w), uint16(d.h)).Check()
		if err != nil {
			err = fmt.Errorf("create a frame of the %s: %w", w, err)
			return
		}
		d.put(xproto.Drawable(p), f)
		film = append(film, p)
	}
	switch w {
	case scrVideo:
		scrVideoFrames(d.w, d.h, scrVideoKinds, upload)
	case scrNoise:
		for k := range scrNoiseKinds {
			upload(scrNoiseFrame(d.w, d.h, k))
		}
	}
	if err != nil {
		return nil, err
	}
	d.films[w] = film
	return film, nil
}

// put uploads f to drawable in strips that fit the core protocol's request size.
func (d *scrDrawer) put(dst xproto.Drawable, f *frame.Frame) {
	const maxRequest = 1<<18 - 64
	rows := max(1, maxRequest/f.Stride)
	for y := 0; y < f.H; y += rows {
		n := min(rows, f.H-y)
		xproto.PutImage(d.xc, xproto.ImageFormatZPixmap, dst, d.gc, uint16(f.W), uint16(n), 0, int16(y), 0, 24,
			f.Pix[y*f.Stride:(y+n)*f.Stride])
	}
}

// do runs f on the loop goroutine and waits for it.
func (d *scrDrawer) do(f func()) {
	done := make(chan struct{})
	d.cmds <- func() { f(); close(done) }
	<-done
}

// Start begins drawing workload w at fps frames a second, from its first frame; the first
// start of a full-screen workload first draws and uploads its frames.
func (d *scrDrawer) Start(w scrWorkload, fps int) error {
	var err error
	d.do(func() {
		d.stopTicker()
		if w == scrVideo || w == scrNoise {
			if _, err = d.film(w); err != nil {
				return
			}
		}
		d.kind, d.n = w, 0
		d.paintBackground()
		d.ticker = time.NewTicker(time.Second / time.Duration(fps))
		d.xc.Sync()
	})
	return err
}

// Stop stops drawing and returns once the X server has drawn everything asked of it: the
// screen then stays as it is until the next Start or Reset.
func (d *scrDrawer) Stop() {
	d.do(func() {
		d.stopTicker()
		d.xc.Sync()
	})
}

// Reset stops drawing and paints the idle screen: the background, no markers.
func (d *scrDrawer) Reset() {
	d.do(func() {
		d.stopTicker()
		d.kind = scrIdle
		d.markers = nil
		d.paintBackground()
		d.xc.Sync()
	})
}

func (d *scrDrawer) stopTicker() {
	if d.ticker != nil {
		d.ticker.Stop()
		d.ticker = nil
	}
}

func (d *scrDrawer) loop(ctx context.Context) {
	defer d.stopTicker()
	for {
		var tick <-chan time.Time
		if d.ticker != nil {
			tick = d.ticker.C
		}
		select {
		case <-ctx.Done():
			return
		case f := <-d.cmds:
			f()
		case ev := <-d.events:
			if bp, ok := ev.(xproto.ButtonPressEvent); ok {
				m := frame.Rect{X: int(bp.EventX) - scrMarkerSide/2, Y: int(bp.EventY) - scrMarkerSide/2, W: scrMarkerSide, H: scrMarkerSide}
				d.markers = append(d.markers, m)
				d.fill(scrMarkerCol, m)
				d.clicks.Add(1)
			}
		case <-tick:
			d.step()
			d.xc.Sync() // one frame in flight at most: a slow X server lowers the rate we report
			d.drawn.Add(1)
		}
	}
}

// paintBackground paints the workload's first frame (the background alone when idle) and
// the markers.
func (d *scrDrawer) paintBackground() {
	d.fill(scrBackground, frame.Rect{W: d.w, H: d.h})
	switch d.kind {
	case scrText:
		d.text = frame.Rect{X: d.w / 8, Y: d.h / 8, W: d.w / 2, H: d.h * 2 / 3 / scrLineHeight * scrLineHeight}
		d.fill(scrPaper, d.text)
	case scrSquare:
		d.square = frame.Rect{X: d.w / 3, Y: d.h / 3, W: scrSquareSide, H: scrSquareSide}
		d.dx, d.dy = 7, 5
	}
	d.fill(scrMarkerCol, d.markers...)
}

// step draws the next frame of the workload, the markers on top and the frame's stamp.
func (d *scrDrawer) step() {
	d.n++
	switch d.kind {
	case scrVideo, scrNoise:
		// The stamp goes first and the frame around it: a screen read between two requests
		// sees the new stamp over part of the old frame, never the frame's own pixels where
		// the stamp belongs, which would count as frames never drawn.
		d.stamp()
		src, sw := xproto.Drawable(d.films[d.kind][d.n%len(d.films[d.kind])]), 3*scrStampBlock
		xproto.CopyArea(d.xc, src, xproto.Drawable(d.win), d.gc, int16(sw), 0, int16(sw), 0, uint16(d.w-sw), scrStampBlock)
		xproto.CopyArea(d.xc, src, xproto.Drawable(d.win), d.gc, 0, scrStampBlock, 0, scrStampBlock, uint16(d.w), uint16(d.h-scrStampBlock))
		d.fill(scrMarkerCol, d.markers...)
		return
	case scrText:
		t := d.text
		xproto.CopyArea(d.xc, xproto.Drawable(d.win), xproto.Drawable(d.win), d.gc,
			int16(t.X), int16(t.Y+scrLineHeight), int16(t.X), int16(t.Y), uint16(t.W), uint16(t.H-scrLineHeight))
		last := frame.Rect{X: t.X, Y: t.Bottom() - scrLineHeight, W: t.W, H: scrLineHeight}
		d.fill(scrPaper, last)
		line := scrTextLine(d.n, t.W/6)
		xproto.ImageText8(d.xc, byte(len(line)), xproto.Drawable(d.win), d.gc, int16(t.X), int16(last.Y+11), line)
	case scrSquare:
		d.fill(scrBackground, d.square)
		s := &d.square
		if s.X+d.dx < 0 || s.Right()+d.dx > d.w {
			d.dx = -d.dx
		}
		if s.Y+d.dy < scrStampBlock || s.Bottom()+d.dy > d.h {
			d.dy = -d.dy
		}
		s.X, s.Y = s.X+d.dx, s.Y+d.dy
		d.fill(scrSquareCol, *s)
	default:
		return
	}
	d.stamp()
}

// stamp paints the frame's number, modulo 512, in the top left corner; see scrReadStamp.
func (d *scrDrawer) stamp() {
	for i := range 3 {
		d.fill(scrStampColour(d.n>>(3*i)), frame.Rect{X: i * scrStampBlock, W: scrStampBlock, H: scrStampBlock})
	}
}

// scrStampColour is one of eight colours, each channel off or on, for the low three bits of v.
func scrStampColour(v int) uint32 {
	var c uint32
	for bit, ch := range []uint32{0xff0000, 0x00ff00, 0x0000ff} {
		if v>>bit&1 != 0 {
			c |= ch
		}
	}
	return c
}

// scrReadStamp reads the frame number (modulo 512) a frame's stamp shows; lossy encodings
// keep it, since each channel of each block is only off or on.
func scrReadStamp(f *frame.Frame) int {
	if f.W < 3*scrStampBlock || f.H < scrStampBlock {
		return 0
	}
	v := 0
	for i := range 3 {
		p := f.Pixel(i*scrStampBlock+scrStampBlock/2, scrStampBlock/2)
		for bit, shift := range []uint{16, 8, 0} {
			if p>>shift&0xff >= 0x80 {
				v |= 1 << (3*i + bit)
			}
		}
	}
	return v
}

// scrTextLine is line n of the scrolling text, up to cols characters.
func scrTextLine(n, cols int) string {
	words := []string{"remote", "screen", "buktu", "frame", "update", "viewer", "the", "of", "a",
		"tight", "zlib", "pixel", "rectangle", "server", "client", "damage", "scroll", "text"}
	var b strings.Builder
	fmt.Fprintf(&b, "%6d ", n)
	for i := 0; b.Len() < cols; i++ {
		b.WriteString(words[(n*7+i*i*3+i)%len(words)])
		b.WriteByte(' ')
	}
	s := b.String()
	return s[:min(len(s), cols, 255)]
}

// fill paints rects of the window in colour c (0xRRGGBB).
func (d *scrDrawer) fill(c uint32, rects ...frame.Rect) {
	if len(rects) == 0 {
		return
	}
	xr := make([]xproto.Rectangle, len(rects))
	for i, r := range rects {
		xr[i] = xproto.Rectangle{X: int16(r.X), Y: int16(r.Y), Width: uint16(r.W), Height: uint16(r.H)}
	}
	xproto.ChangeGC(d.xc, d.gc, xproto.GcForeground, []uint32{c})
	xproto.PolyFillRectangle(d.xc, xproto.Drawable(d.win), d.gc, xr)
	xproto.ChangeGC(d.xc, d.gc, xproto.GcForeground, []uint32{scrInk})
}
