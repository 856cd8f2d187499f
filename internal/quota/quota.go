// Package quota counts what each source address holds against a limit — the connections to a
// port, so that one address cannot take them all — and holds the connections of a port that
// are still logging in, apart from its sessions, so that silent sockets cannot keep real
// users out. The limits themselves are its users'; it knows no protocol.
package quota

import (
	"net/netip"
	"sync"
)

// PerAddr counts, per address, what Take granted and Give has not returned yet. Its zero value
// is ready; it is safe for concurrent use.
type PerAddr struct {
	mu sync.Mutex // guards n
	n  map[netip.Addr]int
}

// Take counts one more for ip unless ip already holds max, and reports whether it did.
func (p *PerAddr) Take(ip netip.Addr, max int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n[ip] >= max {
		return false
	}
	if p.n == nil {
		p.n = map[netip.Addr]int{}
	}
	p.n[ip]++
	return true
}

// Give returns one that Take granted to ip.
func (p *PerAddr) Give(ip netip.Addr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n[ip]--; p.n[ip] <= 0 {
		delete(p.n, ip)
	}
}

// Held returns how many ip holds.
func (p *PerAddr) Held(ip netip.Addr) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n[ip]
}
