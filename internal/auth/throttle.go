package auth

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"
)

// ErrThrottled matches every [*ThrottledError] with errors.Is.
var ErrThrottled = errors.New("auth: too many failed logins")

// ThrottledError says that a login was refused unchecked because of earlier failures from the
// same source.
type ThrottledError struct {
	Key        string        // the source: "address ADDR" (IPv6: "address PREFIX/64")
	RetryAfter time.Duration // how long until an attempt will be checked again
	Banned     bool          // whether this is the temporary ban rather than a delay
}

func (e *ThrottledError) Error() string {
	what := "throttled"
	if e.Banned {
		what = "banned"
	}
	return fmt.Sprintf("auth: too many failed logins: %s %s for %s", e.Key, what, e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// Message is what the person who tried to log in is told, on every protocol that carries a
// reason: what happened and when to try again, in whole seconds rounded up.
func (e *ThrottledError) Message() string {
	s := int((e.RetryAfter + time.Second - 1) / time.Second)
	if e.Banned {
		return fmt.Sprintf("too many failed logins from your address: it is blocked; try again in %d s", s)
	}
	return fmt.Sprintf("too many failed logins from your address; try again in %d s", s)
}

// Throttle limits password guessing. It throttles the source of the guesses, never the
// account guessed at, so that a stranger cannot lock the owner out:
//
//   - A source (an IPv4 address; an IPv6 /64, since one host usually holds a whole /64) may
//     fail SourceFree times. After that each attempt must wait for BaseDelay after its latest
//     failure, doubling with each further failure up to MaxDelay; an attempt within the wait
//     is refused unchecked. SourceBanAfter failures ban the source for BanFor, doubling with
//     each ban up to MaxBan. A ban that ends leaves no free failures: the next one waits.
//     A success forgets only the failures that source earned for the same account, so an
//     attacker's own account cannot reset the guesses it made at others. A source quiet for
//     Window after its latest failure (or its ban) is forgotten.
//   - An account is never refused. Once it has failed AccountFree times within Window (from
//     anywhere), each check for it from a source that has not logged into it before waits
//     AccountDelay first: a slowdown for whoever guesses, a short wait for the owner.
//   - A source that logged into an account stays known for Remember, and its logins into
//     that account skip the account's slowdown.
//   - One password check from a source runs at a time (the others wait their turn), so
//     each guess is counted before the next is checked, and one source never holds more
//     than one of the host's hashing slots.
//
// Only passwords are throttled: a key cannot be guessed and the guest proves nothing.
// Loopback is not exempt. Memory is bounded: at most MaxEntries sources, accounts and known
// pairs each; past that the least recently seen is forgotten.
//
// The zero value uses the defaults given with each field.
type Throttle struct {
	SourceFree     int           // failures without delay per source; 0 means 5
	BaseDelay      time.Duration // first delay; 0 means 1s
	MaxDelay       time.Duration // longest delay; 0 means 1 min
	SourceBanAfter int           // failures that ban a source; 0 means 10
	BanFor         time.Duration // the first ban; 0 means 15 min
	MaxBan         time.Duration // the longest ban; 0 means 24 h
	AccountFree    int           // failures of an account before it slows down; 0 means 10
	AccountDelay   time.Duration // the slowdown; 0 means 250 ms
	Window         time.Duration // quiet time that forgets failures; 0 means 15 min
	Remember       time.Duration // how long a source that logged in stays known; 0 means 30 days
	MaxEntries     int           // tracked sources, accounts and known pairs, each; 0 means 10000
	Now            func() time.Time

	mu       sync.Mutex // guards sources, accounts and known
	sources  lru[source]
	accounts lru[account]
	known    lru[time.Time] // when a source last logged into an account, by knownKey

	turnsMu sync.Mutex       // guards turns
	turns   map[string]*turn // by source (addrKey): the password check running from there
}

// turn lets one password check from a source run at a time.
type turn struct {
	ch    chan struct{} // holds a token while a check runs
	users int           // checks running or waiting; the turn is dropped at 0
}

// source is what one source address has failed.
type source struct {
	failures    int
	byAccount   map[string]int // failures per account key, for at most maxAccountsPerSource
	last        time.Time      // of the latest failure, or the end of the latest ban
	bannedUntil time.Time      // zero when not banned
	bans        int            // bans so far
}

// maxAccountsPerSource bounds the accounts a source's failures are kept apart for; failures
// at further accounts still count, but no success clears them.
const maxAccountsPerSource = 16

// account is what one account name has failed.
type account struct {
	failures int
	last     time.Time
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

func (t *Throttle) window() time.Duration { return orDefault(t.Window, 15*time.Minute) }
func (t *Throttle) max() int              { return orDefault(t.MaxEntries, 10000) }

// begin checks that remote may try a password for name now. It returns how long the check
// must wait first (the account's slowdown), or a *ThrottledError. Attempts are counted once
// they fail (fail), not when they begin: right passwords that arrive together (a client's
// connection pool, people behind one NAT) must not throttle each other.
func (t *Throttle) begin(name string, remote netip.Addr) (time.Duration, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if err := t.checkSourceLocked(remote, now); err != nil {
		return 0, err
	}
	a := t.accounts.get(accountKey(name))
	if a == nil || now.Sub(a.last) > t.window() || a.failures < orDefault(t.AccountFree, 10) {
		return 0, nil
	}
	if at := t.known.get(knownKey(name, remote)); at != nil && now.Sub(*at) <= t.remember() {
		return 0, nil
	}
	return orDefault(t.AccountDelay, 250*time.Millisecond), nil
}

// takeTurn waits until no other password check from remote's source runs, on any port that
// shares the Throttle, and returns the function that ends this one's turn. One source thus
// holds at most one hashing slot, so guesses from one address cannot keep everyone else
// waiting, and each guess is counted before the next one from there is checked.
func (t *Throttle) takeTurn(ctx context.Context, remote netip.Addr) (func(), error) {
	key := addrKey(remote)
	t.turnsMu.Lock()
	if t.turns == nil {
		t.turns = map[string]*turn{}
	}
	tu := t.turns[key]
	if tu == nil {
		tu = &turn{ch: make(chan struct{}, 1)}
		t.turns[key] = tu
	}
	tu.users++
	t.turnsMu.Unlock()
	leave := func() {
		t.turnsMu.Lock()
		defer t.turnsMu.Unlock()
		if tu.users--; tu.users == 0 {
			delete(t.turns, key)
		}
	}
	select {
	case tu.ch <- struct{}{}:
		return func() { <-tu.ch; leave() }, nil
	case <-ctx.Done():
		leave()
		return nil, ctx.Err()
	}
}

func (t *Throttle) remember() time.Duration { return orDefault(t.Remember, 30*24*time.Hour) }

// checkSourceLocked returns a *ThrottledError when remote must wait or is banned.
func (t *Throttle) checkSourceLocked(remote netip.Addr, now time.Time) error {
	key := addrKey(remote)
	s := t.sources.get(key)
	if s == nil {
		return nil
	}
	t.expireLocked(s, now)
	if !s.bannedUntil.IsZero() {
		return &ThrottledError{Key: key, RetryAfter: s.bannedUntil.Sub(now), Banned: true}
	}
	if next := s.last.Add(t.delay(s.failures)); now.Before(next) {
		return &ThrottledError{Key: key, RetryAfter: next.Sub(now)}
	}
	return nil
}

// expireLocked ends s's ban when it ran out, and forgets its failures after a quiet Window.
func (t *Throttle) expireLocked(s *source, now time.Time) {
	if !s.bannedUntil.IsZero() {
		if now.Before(s.bannedUntil) {
			return
		}
		// Out of the ban with no free failures left, and nothing any success may clear.
		s.failures = orDefault(t.SourceFree, 5)
		s.byAccount = nil
		s.last, s.bannedUntil = s.bannedUntil, time.Time{}
	}
	if now.Sub(s.last) > t.window() {
		*s = source{}
	}
}

// fail counts a failed password for name from remote.
func (t *Throttle) fail(name string, remote netip.Addr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	acctKey := accountKey(name)

	s := t.sources.touch(addrKey(remote), t.max(), t.sourceGone(now))
	t.expireLocked(s, now)
	s.failures++
	s.last = now
	if _, ok := s.byAccount[acctKey]; ok || len(s.byAccount) < maxAccountsPerSource {
		if s.byAccount == nil {
			s.byAccount = map[string]int{}
		}
		s.byAccount[acctKey]++
	}
	if s.bannedUntil.IsZero() && s.failures >= orDefault(t.SourceBanAfter, 10) {
		ban := orDefault(t.BanFor, 15*time.Minute)
		for range s.bans {
			ban *= 2
		}
		s.bans++
		s.bannedUntil = now.Add(min(ban, orDefault(t.MaxBan, 24*time.Hour)))
	}

	a := t.accounts.touch(acctKey, t.max(), func(a *account) bool { return now.Sub(a.last) > t.window() })
	if now.Sub(a.last) > t.window() {
		a.failures = 0
	}
	a.failures++
	a.last = now
}

// sourceGone tells the pruning of the sources table which entries hold nothing any more.
func (t *Throttle) sourceGone(now time.Time) func(*source) bool {
	return func(s *source) bool {
		t.expireLocked(s, now)
		return s.failures == 0
	}
}

// succeed forgets the failures remote earned for name, and remembers that remote logged
// into name.
func (t *Throttle) succeed(name string, remote netip.Addr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	acctKey := accountKey(name)
	if s := t.sources.get(addrKey(remote)); s != nil {
		if n, ok := s.byAccount[acctKey]; ok {
			s.failures -= n
			delete(s.byAccount, acctKey)
		}
	}
	*t.known.touch(knownKey(name, remote), t.max(), func(at *time.Time) bool {
		return now.Sub(*at) > t.remember()
	}) = now
}

// delay is how long to wait after the latest of n failures.
func (t *Throttle) delay(n int) time.Duration {
	over := n - orDefault(t.SourceFree, 5)
	if over <= 0 {
		return 0
	}
	d, maxDelay := orDefault(t.BaseDelay, time.Second), orDefault(t.MaxDelay, time.Minute)
	for i := 1; i < over && d < maxDelay; i++ {
		d *= 2
	}
	return min(d, maxDelay)
}

// lru maps keys to values, most recently touched first.
type lru[V any] struct {
	index map[string]*list.Element // of *item[V]
	order list.List
}

type item[V any] struct {
	key string
	v   V
}

// get returns key's value, or nil.
func (l *lru[V]) get(key string) *V {
	if el := l.index[key]; el != nil {
		return &el.Value.(*item[V]).v
	}
	return nil
}

// touch returns key's value, made first and added as the zero value when missing. Entries
// at the old end that gone reports empty are dropped first, and then the oldest beyond max.
func (l *lru[V]) touch(key string, max int, gone func(*V) bool) *V {
	if l.index == nil {
		l.index = map[string]*list.Element{}
	}
	for el := l.order.Back(); el != nil && el.Value.(*item[V]).key != key; el = l.order.Back() {
		if !gone(&el.Value.(*item[V]).v) {
			break
		}
		l.remove(el.Value.(*item[V]).key)
	}
	el := l.index[key]
	if el == nil {
		el = l.order.PushFront(&item[V]{key: key})
		l.index[key] = el
	} else {
		l.order.MoveToFront(el)
	}
	for l.order.Len() > max {
		l.remove(l.order.Back().Value.(*item[V]).key)
	}
	return &el.Value.(*item[V]).v
}

func (l *lru[V]) remove(key string) {
	if el := l.index[key]; el != nil {
		l.order.Remove(el)
		delete(l.index, key)
	}
}

// len reports how many keys l holds.
func (l *lru[V]) len() int { return l.order.Len() }

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

// knownKey names a pair of account and source.
func knownKey(name string, remote netip.Addr) string {
	return accountKey(name) + "\x00" + addrKey(remote)
}
