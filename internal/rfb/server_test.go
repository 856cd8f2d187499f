package rfb

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/quota"
)

// TestPendingViewers fills the pool of viewers logging in with silent ones: a newcomer gets
// in, and the oldest of the busiest address makes room.
func TestPendingViewers(t *testing.T) {
	pool := &quota.Pending{Max: 2}
	s := &Server{Pending: pool}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	var conns []net.Conn
	for _, src := range []string{"127.0.0.2", "127.0.0.2", "127.0.0.3"} {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
		c, err := d.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		// The version greets each viewer that has a place: the next one is admitted after.
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(c, make([]byte, 12)); err != nil {
			t.Fatalf("read the version from %s: %v", src, err)
		}
		conns = append(conns, c)
	}
	conns[0].SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := conns[0].Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("the oldest viewer of the busiest address: Read = %d, %v; want EOF, dropped to make room", n, err)
	}
	if n := pool.Waiting(); n != 2 {
		t.Errorf("Waiting() = %d; want 2", n)
	}
}
