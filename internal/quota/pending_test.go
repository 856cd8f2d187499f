package quota

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
)

// conn is a connection of the tests: it knows whether the pool dropped it.
type conn struct {
	t       *Ticket
	dropped bool
}

func admit(t *testing.T, p *Pending, ip string) *conn {
	t.Helper()
	c := &conn{}
	tk, ok := p.Admit(netip.MustParseAddr(ip), func() { c.dropped = true })
	if !ok {
		t.Fatalf("Admit(%s) = false; want a place", ip)
	}
	c.t = tk
	return c
}

func TestPendingFullDropsOldestOfBusiestSource(t *testing.T) {
	p := &Pending{Max: 4, MaxPerAddr: 3}
	a1 := admit(t, p, "192.0.2.1")
	b1 := admit(t, p, "192.0.2.2")
	a2 := admit(t, p, "192.0.2.1")
	b2 := admit(t, p, "192.0.2.2")
	// Full. Both sources hold two: the oldest of all goes, a1.
	c1 := admit(t, p, "192.0.2.3")
	if !a1.dropped || b1.dropped || a2.dropped || b2.dropped {
		t.Errorf("pool full, sources tied: dropped a1 %v b1 %v a2 %v b2 %v; want only a1", a1.dropped, b1.dropped, a2.dropped, b2.dropped)
	}
	// b holds two, a and c one: b's oldest goes, though a2 is older.
	admit(t, p, "192.0.2.4")
	if !b1.dropped || a2.dropped || c1.dropped {
		t.Errorf("pool full, b busiest: dropped b1 %v a2 %v c1 %v; want only b1", b1.dropped, a2.dropped, c1.dropped)
	}
	if n := p.Waiting(); n != 4 {
		t.Errorf("Waiting() = %d; want 4, the pool's size", n)
	}
	// A dropped connection's Done gives nothing back twice.
	a1.t.Done()
	if n := p.Waiting(); n != 4 {
		t.Errorf("Waiting() after a dropped ticket's Done = %d; want 4", n)
	}
	c1.t.Done()
	c1.t.Done()
	var nilTicket *Ticket
	nilTicket.Done()
	if n := p.Waiting(); n != 3 {
		t.Errorf("Waiting() after one Done, twice = %d; want 3", n)
	}
}

func TestPendingPerSource(t *testing.T) {
	tests := []struct {
		name, held, next string
		want             bool
	}{
		{"same IPv4 address", "192.0.2.1", "192.0.2.1", false},
		{"another IPv4 address", "192.0.2.1", "192.0.2.2", true},
		{"IPv4-mapped IPv6 is IPv4", "192.0.2.1", "::ffff:192.0.2.1", false},
		{"same IPv6 /64", "2001:db8:1:2::1", "2001:db8:1:2:ffff::9", false},
		{"same IPv6 /64, with a zone", "fe80::1", "fe80::2%eth0", false},
		{"another IPv6 /64", "2001:db8:1:2::1", "2001:db8:1:3::1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Pending{Max: 100, MaxPerAddr: 2}
			admit(t, p, tt.held)
			admit(t, p, tt.held)
			_, got := p.Admit(netip.MustParseAddr(tt.next), nil)
			if got != tt.want {
				t.Errorf("Admit(%s) with %s holding 2 of 2 = %v; want %v", tt.next, tt.held, got, tt.want)
			}
		})
	}
}

// TestPendingFlood is the point of the pool: a real user's one login survives a flood from
// many sources that goes on for as long as the login takes.
func TestPendingFlood(t *testing.T) {
	p := &Pending{} // the defaults
	flood := func(n, sources int) {
		for i := range n {
			admit(t, p, fmt.Sprintf("198.51.100.%d", 1+i%sources))
		}
	}
	flood(DefaultMaxPending, 50)
	user := admit(t, p, "192.0.2.1")
	flood(100*DefaultMaxPending, 50)
	if user.dropped {
		t.Errorf("a flood from 50 sources dropped the one login of another")
	}
	if n := p.Waiting(); n != DefaultMaxPending {
		t.Errorf("Waiting() = %d; want %d", n, DefaultMaxPending)
	}
	user.t.Done()

	// From a new source each time, the oldest goes first: the user is safe for as many
	// newcomers as the pool has places.
	p = &Pending{Max: 16}
	next := 0
	fresh := func(n int) {
		for range n {
			next++
			admit(t, p, fmt.Sprintf("2001:db8:%x::1", next))
		}
	}
	fresh(16)
	user = admit(t, p, "192.0.2.1")
	fresh(15)
	if user.dropped {
		t.Errorf("15 newcomers from new sources dropped a login of a pool of 16")
	}
	fresh(1)
	if !user.dropped {
		t.Errorf("the 16th newcomer from a new source did not drop the oldest login of a pool of 16")
	}
}

func TestPendingConcurrent(t *testing.T) {
	p := &Pending{Max: 10, MaxPerAddr: 100}
	var wg sync.WaitGroup
	var mu sync.Mutex
	dropped := 0
	for i := range 50 {
		wg.Go(func() {
			tk, ok := p.Admit(netip.AddrFrom4([4]byte{192, 0, 2, byte(i % 5)}), func() {
				mu.Lock()
				dropped++
				mu.Unlock()
			})
			if !ok {
				t.Error("Admit = false below the per-source limit")
			}
			if i%2 == 0 {
				tk.Done()
			}
		})
	}
	wg.Wait()
	if n := p.Waiting(); n > 10 || n+dropped != 25 {
		t.Errorf("after 50 racing Admits, 25 Done: Waiting() = %d, %d dropped; want at most 10, adding up to 25", n, dropped)
	}
}
