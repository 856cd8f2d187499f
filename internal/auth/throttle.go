package auth

import (
	"container/list"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"
)

// ErrThrottled matches every [*ThrottledError] with errors.Is.
var ErrThrottled = errors.New("auth: too many failed logins")

// ThrottledError says that a login was refused unchecked because of earlier failures.
type ThrottledError struct {
	Key        string        // what is throttled: "account NAME" or "address ADDR"
	RetryAfter time.Duration // how long until an attempt will be checked again
	Locked     bool          // whether this is the temporary lock rather than a delay
}

func (e *ThrottledError) Error() string {
	what := "throttled"
	if e.Locked {
		what = "locked"
	}
	return fmt.Sprintf("auth: too many failed logins: %s %s for %s", e.Key, what, e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// Throttle slows down, then locks out, failed logins per account name and per source
// address. It never sleeps: a refused attempt gets a [*ThrottledError] saying when to come
// back, and the service decides (SSH and RFB just reject it).
//
// The first Free failures within Window cost nothing; each further failure makes the next
// attempt wait BaseDelay, doubling up to MaxDelay; LockAfter failures lock the account or
// address for LockFor. A success clears the account and the address; an expired lock or a
// quiet Window forgets them. IPv6 addresses are counted per /64, since one host usually holds
// a whole /64. Loopback is not exempt. Memory is bounded by MaxEntries accounts plus
// MaxEntries addresses; past that the least recently failed entry is forgotten.
//
// The zero value uses the defaults given with each field.
type Throttle struct {
	Free       int           // failures without delay; 0 means 3
	BaseDelay  time.Duration // first delay; 0 means 1s
	MaxDelay   time.Duration // longest delay; 0 means 1 min
	LockAfter  int           // failures that lock; 0 means 10
	LockFor    time.Duration // length of a lock; 0 means 15 min
	Window     time.Duration // quiet time that forgets failures; 0 means 15 min
	MaxEntries int           // tracked accounts, and tracked addresses; 0 means 10000
	Now        func() time.Time

	mu       sync.Mutex // guards accounts and addrs
	accounts table
	addrs    table
}

// table tracks failures per key, most recently failed first.
type table struct {
	index map[string]*list.Element // of *entry
	order list.List
}

type entry struct {
	key         string
	failures    int
	last        time.Time // of the latest failure
	lockedUntil time.Time // zero when not locked
}

func orDefault[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

func (t *Throttle) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// begin checks that account and remote may try to log in now; fail counts the attempt once it
// has failed.
func (t *Throttle) begin(account string, remote netip.Addr) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if err := t.checkLocked(&t.accounts, accountKey(account), now); err != nil {
		return err
	}
	return t.checkLocked(&t.addrs, addrKey(remote), now)
}

// fail counts a failed attempt against account and remote. Attempts are counted once they
// fail, not when they start: right passwords that arrive together (a client's connection pool,
// people behind one NAT) must not throttle each other. Guesses in flight at once stay bounded
// by the hashing limit, the connections per address and the tries per connection.
func (t *Throttle) fail(account string, remote netip.Addr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.failLocked(&t.accounts, accountKey(account), now)
	t.failLocked(&t.addrs, addrKey(remote), now)
}

// checkAddr checks remote without counting an attempt.
func (t *Throttle) checkAddr(remote netip.Addr) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.checkLocked(&t.addrs, addrKey(remote), t.now())
}

// succeed forgets the failures of account and, if clearAddr, of remote.
func (t *Throttle) succeed(account string, remote netip.Addr, clearAddr bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.accounts.remove(accountKey(account))
	if clearAddr {
		t.addrs.remove(addrKey(remote))
	}
}

// checkLocked returns a *ThrottledError when key must wait.
func (t *Throttle) checkLocked(tab *table, key string, now time.Time) error {
	el := tab.index[key]
	if el == nil {
		return nil
	}
	e := el.Value.(*entry)
	t.expireLocked(e, now)
	if !e.lockedUntil.IsZero() {
		return &ThrottledError{Key: key, RetryAfter: e.lockedUntil.Sub(now), Locked: true}
	}
	if next := e.last.Add(t.delay(e.failures)); now.Before(next) {
		return &ThrottledError{Key: key, RetryAfter: next.Sub(now)}
	}
	return nil
}

// expireLocked forgets e's failures when its lock ran out or it was quiet for a Window.
func (t *Throttle) expireLocked(e *entry, now time.Time) {
	if !e.lockedUntil.IsZero() {
		if now.Before(e.lockedUntil) {
			return
		}
		e.failures, e.lockedUntil = 0, time.Time{}
	}
	if now.Sub(e.last) > orDefault(t.Window, 15*time.Minute) {
		e.failures = 0
	}
}

// failLocked counts one failure for key.
func (t *Throttle) failLocked(tab *table, key string, now time.Time) {
	if tab.index == nil {
		tab.index = map[string]*list.Element{}
	}
	t.pruneLocked(tab, now)
	el := tab.index[key]
	if el == nil {
		el = tab.order.PushFront(&entry{key: key})
		tab.index[key] = el
	} else {
		tab.order.MoveToFront(el)
	}
	e := el.Value.(*entry)
	t.expireLocked(e, now)
	e.failures++
	e.last = now
	if e.failures >= orDefault(t.LockAfter, 10) {
		e.lockedUntil = now.Add(orDefault(t.LockFor, 15*time.Minute))
	}
	for tab.order.Len() > orDefault(t.MaxEntries, 10000) {
		tab.remove(tab.order.Back().Value.(*entry).key)
	}
}

// pruneLocked drops forgotten entries from the old end of tab.
func (t *Throttle) pruneLocked(tab *table, now time.Time) {
	for el := tab.order.Back(); el != nil; el = tab.order.Back() {
		e := el.Value.(*entry)
		t.expireLocked(e, now)
		if e.failures > 0 {
			return
		}
		tab.remove(e.key)
	}
}

// delay is how long to wait after the latest of n failures.
func (t *Throttle) delay(n int) time.Duration {
	over := n - orDefault(t.Free, 3)
	if over <= 0 {
		return 0
	}
	d, maxDelay := orDefault(t.BaseDelay, time.Second), orDefault(t.MaxDelay, time.Minute)
	for i := 1; i < over && d < maxDelay; i++ {
		d *= 2
	}
	return min(d, maxDelay)
}

func (tab *table) remove(key string) {
	if el := tab.index[key]; el != nil {
		tab.order.Remove(el)
		delete(tab.index, key)
	}
}

// len reports how many keys tab tracks.
func (tab *table) len() int { return tab.order.Len() }

// accountKey names an account in the throttle; names longer than any valid one share a key,
// so that made-up names cannot use much memory.
func accountKey(name string) string {
	if len(name) > 33 {
		name = name[:33]
	}
	return "account " + name
}

// addrKey names a source address in the throttle: IPv4 addresses alone, IPv6 by /64.
func addrKey(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case !a.IsValid():
		return "address unknown"
	case a.Is4():
		return "address " + a.String()
	}
	p, _ := a.WithZone("").Prefix(64)
	return "address " + p.String()
}
