package web

import (
	"net"
	"sync"
	"time"
)

// tlsHandshake is the first byte of a TLS record carrying a handshake: a browser's
// ClientHello. An RFB client sends nothing until the server has spoken.
const tlsHandshake = 0x16

// Split divides the connections of ln by their first byte. Each accepted connection is given
// up to window to send one: a TLS handshake goes to httpsLn, anything else, or silence, to
// rfbLn. The byte is not lost: the connection reads it again. Waiting happens on a goroutine
// per connection, so a silent client delays only itself. Closing either listener closes ln;
// an error from ln's Accept is returned by both, and ends the split.
func Split(ln net.Listener, window time.Duration) (rfbLn, httpsLn net.Listener) {
	sp := &splitter{ln: ln, window: window, rfb: make(chan net.Conn), https: make(chan net.Conn),
		done: make(chan struct{}), peeking: map[net.Conn]struct{}{}}
	sp.wg.Go(sp.accept)
	return &half{sp, sp.rfb}, &half{sp, sp.https}
}

type splitter struct {
	ln         net.Listener
	window     time.Duration
	rfb, https chan net.Conn
	done       chan struct{} // closed by Close, or when ln's Accept failed
	wg         sync.WaitGroup

	mu      sync.Mutex            // guards the fields below
	err     error                 // why the split ended
	closed  bool                  // done is closed
	peeking map[net.Conn]struct{} // connections whose first byte is awaited
}

func (sp *splitter) accept() {
	for {
		c, err := sp.ln.Accept()
		if err != nil {
			sp.stop(err)
			return
		}
		sp.mu.Lock()
		if sp.closed {
			sp.mu.Unlock()
			c.Close()
			return
		}
		sp.peeking[c] = struct{}{}
		sp.wg.Go(func() { sp.route(c) })
		sp.mu.Unlock()
	}
}

// route waits for c's first byte and hands c to the listener it belongs to.
func (sp *splitter) route(c net.Conn) {
	c.SetReadDeadline(time.Now().Add(sp.window))
	var b [1]byte
	n, err := c.Read(b[:])
	sp.mu.Lock()
	delete(sp.peeking, c)
	sp.mu.Unlock()
	c.SetReadDeadline(time.Time{}) // after the delete, so that stop cannot set one again
	if ne, ok := err.(net.Error); err != nil && !(ok && ne.Timeout()) {
		c.Close() // gone before it said anything
		return
	}
	to := sp.rfb
	if n == 1 && b[0] == tlsHandshake {
		to = sp.https
	}
	if n == 1 {
		c = &peeked{Conn: c, first: b[0], has: true}
	}
	select {
	case to <- c:
	case <-sp.done:
		c.Close()
	}
}

// stop ends the split with err, once.
func (sp *splitter) stop(err error) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.closed {
		return
	}
	sp.closed, sp.err = true, err
	close(sp.done)
	for c := range sp.peeking {
		c.SetReadDeadline(time.Now()) // Close must not wait out their windows
	}
}

func (sp *splitter) close() error {
	sp.stop(net.ErrClosed)
	err := sp.ln.Close()
	sp.wg.Wait()
	return err
}

// half is one side of a split.
type half struct {
	sp *splitter
	ch chan net.Conn
}

func (h *half) Accept() (net.Conn, error) {
	select {
	case c := <-h.ch:
		return c, nil
	case <-h.sp.done:
		h.sp.mu.Lock()
		defer h.sp.mu.Unlock()
		return nil, h.sp.err
	}
}

func (h *half) Close() error   { return h.sp.close() }
func (h *half) Addr() net.Addr { return h.sp.ln.Addr() }

// peeked is a connection whose first byte was read to route it, and is read again first.
type peeked struct {
	net.Conn
	first byte
	has   bool
}

func (p *peeked) Read(b []byte) (int, error) {
	if p.has && len(b) > 0 {
		b[0] = p.first
		p.has = false
		return 1, nil
	}
	return p.Conn.Read(b)
}
