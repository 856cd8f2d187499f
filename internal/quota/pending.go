package quota

import (
	"net/netip"
	"sync"
)

// Defaults of the zero Pending.
const (
	DefaultMaxPending        = 128
	DefaultMaxPendingPerAddr = 8
)

// Pending holds the connections of a port that have not authenticated yet, apart from its
// sessions, so that sockets that never log in cannot take the places of those that do.
//
// When every place is taken, a newcomer still gets one: the longest-waiting connection of the
// source that holds the most places is dropped. A flood pays for its newcomers with its own
// connections, and a real user's one login is the last to go: to push it out, a flood must
// come from as many sources as there are places and open a place's worth of connections
// faster than the user logs in. (OpenSSH's MaxStartups drops newcomers at random instead,
// which lets a flood that keeps the pool full shut everyone out.) A source that already
// holds MaxPerAddr places is refused: it can crowd out only itself.
//
// A source is an address; IPv6 addresses count per /64, since one host usually holds a whole
// /64. The zero value is ready, with the defaults; it is safe for concurrent use.
type Pending struct {
	Max        int // places in all; 0 means DefaultMaxPending
	MaxPerAddr int // places one source may hold; 0 means DefaultMaxPendingPerAddr

	mu    sync.Mutex                 // guards the fields below and each Ticket's held
	n     int                        // places held
	seq   uint64                     // the order of admission
	bySrc map[netip.Prefix][]*Ticket // the places of each source, oldest first
}

// Ticket is one waiting connection's place in a Pending pool.
type Ticket struct {
	p    *Pending
	src  netip.Prefix
	seq  uint64
	drop func()
	held bool // guarded by p.mu
}

// Admit gives a place to a connection from ip, and reports whether it did: false means ip's
// source already holds MaxPerAddr places, and the caller should close the newcomer. When the
// pool is full it makes room first: it takes the place of another connection and calls that
// one's drop, which must end it (close its socket), after the pool's lock is released.
func (p *Pending) Admit(ip netip.Addr, drop func()) (*Ticket, bool) {
	src := source(ip)
	p.mu.Lock()
	if len(p.bySrc[src]) >= or(p.MaxPerAddr, DefaultMaxPendingPerAddr) {
		p.mu.Unlock()
		return nil, false
	}
	if p.bySrc == nil {
		p.bySrc = map[netip.Prefix][]*Ticket{}
	}
	p.seq++
	t := &Ticket{p: p, src: src, seq: p.seq, drop: drop, held: true}
	p.bySrc[src] = append(p.bySrc[src], t)
	p.n++
	var victim *Ticket
	if p.n > or(p.Max, DefaultMaxPending) {
		victim = p.victimLocked()
		p.removeLocked(victim)
	}
	p.mu.Unlock()
	if victim != nil && victim.drop != nil {
		victim.drop()
	}
	return t, true
}

// victimLocked picks the place to free: the oldest of the source holding the most places.
// The newcomer is never the oldest of its source unless it is alone there, and then another
// source holds as many, longer.
func (p *Pending) victimLocked() *Ticket {
	var victim *Ticket
	most := 0
	for _, ts := range p.bySrc {
		if len(ts) > most || len(ts) == most && ts[0].seq < victim.seq {
			victim, most = ts[0], len(ts)
		}
	}
	return victim
}

func (p *Pending) removeLocked(t *Ticket) {
	if !t.held {
		return
	}
	t.held = false
	p.n--
	ts := p.bySrc[t.src]
	for i, o := range ts {
		if o == t {
			ts = append(ts[:i], ts[i+1:]...)
			break
		}
	}
	if len(ts) == 0 {
		delete(p.bySrc, t.src)
	} else {
		p.bySrc[t.src] = ts
	}
}

// Done gives the place back: the connection has authenticated, or ended. It may be called
// more than once, on a ticket whose connection was dropped, and on nil.
func (t *Ticket) Done() {
	if t == nil {
		return
	}
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	t.p.removeLocked(t)
}

// Waiting returns how many places are held.
func (p *Pending) Waiting() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

// source is where a connection from ip counts: the address, or its /64 for IPv6.
func source(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap().WithZone("")
	if !ip.IsValid() {
		return netip.Prefix{} // not an IP connection (a pipe in a test): one source
	}
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return p
}

func or(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}
