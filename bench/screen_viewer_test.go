package bench

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/rfb"
)

// scrViewer is one measuring viewer: an rfb.Client that asks for an incremental update as
// soon as it has decoded the last, counting what it gets, on a goroutine of its own (Run).
//
// Its copy of the screen is guarded by mu, which Run holds except while it waits for the
// network: a comparison taken under mu never sees a rectangle half drawn by the decoder.
type scrViewer struct {
	c    *rfb.Client
	conn *scrGateConn

	mu sync.Mutex // guards c's frame while Run runs

	updates atomic.Int64 // FramebufferUpdates decoded
	bytes   atomic.Int64 // bytes received when the last was decoded (within a read buffer)
	frames  atomic.Int64 // changes of the frame stamp seen: drawn frames shown
	updated chan struct{}
	done    chan struct{} // closed when Run returns
	err     error         // why Run returned; set before done is closed
}

// scrDial connects a viewer to addr and logs in with o.
func scrDial(ctx context.Context, addr string, o rfb.ClientOptions) (*scrViewer, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	v := &scrViewer{updated: make(chan struct{}, 1), done: make(chan struct{})}
	v.conn = &scrGateConn{Conn: nc, mu: &v.mu}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	if v.c, err = rfb.NewClient(ctx, v.conn, o); err != nil {
		nc.Close()
		return nil, fmt.Errorf("log in at %s: %w", addr, err)
	}
	return v, nil
}

// Run asks for the whole screen, then for incremental updates one after the other, until
// the connection ends.
func (v *scrViewer) Run() {
	defer close(v.done)
	v.mu.Lock()
	defer v.mu.Unlock()
	v.conn.gated.Store(true)
	v.err = v.c.Request(false)
	stamp := -1
	for v.err == nil {
		if v.err = v.c.ReadUpdate(nil); v.err != nil {
			return
		}
		v.updates.Add(1)
		v.bytes.Store(v.conn.read.Load())
		if s := scrReadStamp(v.c.Frame()); s != stamp {
			stamp = s
			v.frames.Add(1)
		}
		select {
		case v.updated <- struct{}{}:
		default:
		}
		v.err = v.c.Request(true)
	}
}

// Close ends the connection and waits for Run, if it runs.
func (v *scrViewer) Close(running bool) {
	v.c.Close()
	if running {
		<-v.done
	}
}

// scrCounts is what a viewer counted so far: updates, bytes received up to the end of the
// last update (everything the server sent, as it crossed the network, to within the client's
// read buffer) and changes of the frame stamp.
type scrCounts struct{ updates, bytes, frames int64 }

func (v *scrViewer) counts() scrCounts {
	return scrCounts{v.updates.Load(), v.bytes.Load(), v.frames.Load()}
}

// scrGateConn releases its viewer's mutex while a read waits for the network, once gated,
// and counts the bytes read.
type scrGateConn struct {
	net.Conn
	mu    *sync.Mutex
	gated atomic.Bool
	read  atomic.Int64
}

func (g *scrGateConn) Read(b []byte) (int, error) {
	if g.gated.Load() {
		g.mu.Unlock()
		defer g.mu.Lock()
	}
	n, err := g.Conn.Read(b)
	g.read.Add(int64(n))
	return n, err
}

// scrCheck is how a viewer's copy must match the truth: exactly, or (lossy encodings) with
// at least minPSNR dB.
type scrCheck struct{ minPSNR float64 }

// scrVerdict is how the viewers' copies compared with the truth at the end of a run.
type scrVerdict struct {
	Matched, Viewers int
	Worst            string // the first mismatch, described
	PSNR             float64
}

// OK reports whether every viewer matched.
func (v scrVerdict) OK() bool { return v.Matched == v.Viewers }

// scrSettle waits until every viewer's copy of the screen matches truth, or until limit
// has passed; viewers keep asking for incremental updates meanwhile, as a real viewer would.
func scrSettle(viewers []*scrViewer, truth *frame.Frame, check scrCheck, limit time.Duration) scrVerdict {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	verdict := scrVerdict{Viewers: len(viewers), PSNR: math.Inf(1)}
	for i, v := range viewers {
		for {
			v.mu.Lock()
			ok, why, psnr := scrCompare(v.c.Frame(), truth, check)
			v.mu.Unlock()
			if ok {
				verdict.Matched++
				verdict.PSNR = min(verdict.PSNR, psnr)
				break
			}
			wait := true
			select {
			case <-v.updated:
			case <-v.done:
				wait = false
				why += fmt.Sprintf(" (viewer ended: %v)", v.err)
			case <-deadline.C:
				wait = false
				deadline.Reset(0) // the others get one more look each
			}
			if !wait {
				if verdict.Worst == "" {
					verdict.Worst = fmt.Sprintf("viewer %d: %s", i+1, why)
				}
				verdict.PSNR = min(verdict.PSNR, psnr)
				break
			}
		}
	}
	return verdict
}

// scrCompare compares a viewer's copy with the truth.
func scrCompare(got, want *frame.Frame, check scrCheck) (bool, string, float64) {
	if got.W != want.W || got.H != want.H {
		return false, fmt.Sprintf("size %dx%d, want %dx%d", got.W, got.H, want.W, want.H), 0
	}
	if check.minPSNR > 0 {
		p := scrPSNR(got, want)
		return p >= check.minPSNR, fmt.Sprintf("PSNR %.1f dB, want %.0f", p, check.minPSNR), p
	}
	n, first, box := 0, "", frame.Rect{}
	for y := range want.H {
		g, w := got.Row(0, y, got.W), want.Row(0, y, want.W)
		if bytes.Equal(g, w) {
			continue
		}
		for x := range want.W {
			gp, wp := got.Pixel(x, y)&0xffffff, want.Pixel(x, y)&0xffffff
			if gp == wp {
				continue
			}
			if n == 0 {
				first = fmt.Sprintf("at %d,%d %06x, want %06x", x, y, gp, wp)
			}
			n++
			box = box.Union(frame.Rect{X: x, Y: y, W: 1, H: 1})
		}
	}
	if n == 0 {
		return true, "", math.Inf(1)
	}
	return false, fmt.Sprintf("%d pixels differ within %v, first %s", n, box, first), scrPSNR(got, want)
}

// scrPSNR is the peak signal-to-noise ratio of got against want over R, G and B, in dB.
func scrPSNR(got, want *frame.Frame) float64 {
	var sum int64
	for y := range want.H {
		g, w := got.Row(0, y, got.W), want.Row(0, y, want.W)
		for i := 0; i < len(w); i += 4 {
			for c := range 3 {
				d := int64(g[i+c]) - int64(w[i+c])
				sum += d * d
			}
		}
	}
	if sum == 0 {
		return math.Inf(1)
	}
	mse := float64(sum) / float64(3*want.W*want.H)
	return 10 * math.Log10(255*255/mse)
}
