package auth

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// clock is a fake time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var addr1 = netip.MustParseAddr("192.0.2.1")

// peek checks account and remote as begin does, without counting an attempt.
func peek(th *Throttle, account string, remote netip.Addr) error {
	th.mu.Lock()
	defer th.mu.Unlock()
	if err := th.checkLocked(&th.accounts, accountKey(account), th.now()); err != nil {
		return err
	}
	return th.checkLocked(&th.addrs, addrKey(remote), th.now())
}

// retryAfter returns how long err says to wait, 0 for nil, or fails.
func retryAfter(t *testing.T, err error) (time.Duration, bool) {
	t.Helper()
	if err == nil {
		return 0, false
	}
	te, ok := errors.AsType[*ThrottledError](err)
	if !ok || !errors.Is(err, ErrThrottled) {
		t.Fatalf("error %v is not a *ThrottledError matching ErrThrottled", err)
	}
	return te.RetryAfter, te.Locked
}

func TestThrottleGrowthAndLock(t *testing.T) {
	c := newClock()
	th := &Throttle{Now: c.Now}
	// Each attempt fails as soon as it is allowed. want is the wait imposed after it.
	wants := []struct {
		wait   time.Duration
		locked bool
	}{
		{0, false}, {0, false}, {0, false},
		{time.Second, false}, {2 * time.Second, false}, {4 * time.Second, false},
		{8 * time.Second, false}, {16 * time.Second, false}, {32 * time.Second, false},
		{15 * time.Minute, true},
	}
	for i, want := range wants {
		if err := failAttempt(th, "bob", addr1); err != nil {
			t.Fatalf("attempt %d: begin = %v; want allowed", i+1, err)
		}
		got, locked := retryAfter(t, peek(th, "bob", addr1))
		if got != want.wait || locked != want.locked {
			t.Fatalf("after failure %d: wait %v, locked %v; want %v, %v", i+1, got, locked, want.wait, want.locked)
		}
		c.Advance(want.wait)
	}
	// The lock has run out, and so have the failures.
	for i := range 3 {
		if err := failAttempt(th, "bob", addr1); err != nil {
			t.Fatalf("after the lock, attempt %d = %v; want allowed", i+1, err)
		}
	}
}

func TestThrottleMaxDelay(t *testing.T) {
	c := newClock()
	th := &Throttle{Now: c.Now, Free: 1, BaseDelay: time.Minute, MaxDelay: 3 * time.Minute, LockAfter: 100}
	var got []time.Duration
	for range 5 {
		if err := failAttempt(th, "bob", addr1); err != nil {
			t.Fatal(err)
		}
		d, _ := retryAfter(t, peek(th, "bob", addr1))
		got = append(got, d)
		c.Advance(d)
	}
	want := []time.Duration{0, time.Minute, 2 * time.Minute, 3 * time.Minute, 3 * time.Minute}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("waits = %v; want %v", got, want)
	}
}

func TestThrottleKeys(t *testing.T) {
	tests := []struct {
		name               string
		acct1, acct2       string
		addr1, addr2       string
		wantSharedThrottle bool
	}{
		{"same account, other address", "bob", "bob", "192.0.2.1", "198.51.100.7", true},
		{"same address, other account", "bob", "carol", "192.0.2.1", "192.0.2.1", true},
		{"loopback is not exempt", "bob", "carol", "127.0.0.1", "127.0.0.1", true},
		{"v4-mapped is v4", "bob", "carol", "192.0.2.1", "::ffff:192.0.2.1", true},
		{"same /64", "bob", "carol", "2001:db8::1", "2001:db8::ffff:2", true},
		{"zone ignored", "bob", "carol", "fe80::1%eth0", "fe80::2%eth1", true},
		{"other /64", "bob", "carol", "2001:db8::1", "2001:db8:0:1::1", false},
		{"other everything", "bob", "carol", "192.0.2.1", "192.0.2.2", false},
		{"long names share", "x" + string(make([]byte, 40)), "x" + string(make([]byte, 50)), "192.0.2.1", "192.0.2.2", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			th := &Throttle{Now: c.Now, Free: 2}
			a1, a2 := netip.MustParseAddr(tt.addr1), netip.MustParseAddr(tt.addr2)
			for range 3 {
				if err := failAttempt(th, tt.acct1, a1); err != nil {
					t.Fatal(err)
				}
			}
			err := th.begin(tt.acct2, a2)
			if got := err != nil; got != tt.wantSharedThrottle {
				t.Errorf("begin(%q, %v) after 3 failures of (%q, %v) = %v; want throttled %v",
					tt.acct2, a2, tt.acct1, a1, err, tt.wantSharedThrottle)
			}
		})
	}
}

func TestThrottleSuccessClears(t *testing.T) {
	c := newClock()
	th := &Throttle{Now: c.Now, Free: 2}
	for range 3 {
		if err := failAttempt(th, "bob", addr1); err != nil {
			t.Fatal(err)
		}
	}
	if err := peek(th, "bob", addr1); err == nil {
		t.Fatal("attempt after 3 failures was allowed; want throttled")
	}
	th.succeed("bob", addr1, true)
	if err := failAttempt(th, "bob", addr1); err != nil {
		t.Errorf("begin after a success = %v; want allowed", err)
	}
}

func TestThrottleSuccessKeepsAddress(t *testing.T) {
	c := newClock()
	th := &Throttle{Now: c.Now, Free: 2}
	for range 3 {
		if err := failAttempt(th, "bob", addr1); err != nil {
			t.Fatal(err)
		}
	}
	th.succeed(GuestName, addr1, false)
	if err := th.checkAddr(addr1); err == nil {
		t.Errorf("checkAddr after a guest login was allowed; want the address still throttled")
	}
}

func TestThrottleWindowForgets(t *testing.T) {
	c := newClock()
	th := &Throttle{Now: c.Now, Free: 2, Window: time.Minute}
	for range 3 {
		if err := failAttempt(th, "bob", addr1); err != nil {
			t.Fatal(err)
		}
	}
	c.Advance(time.Minute + time.Nanosecond)
	for i := range 3 {
		if err := failAttempt(th, "bob", addr1); err != nil {
			t.Fatalf("attempt %d after a quiet window = %v; want allowed", i+1, err)
		}
	}
}

func TestThrottleEviction(t *testing.T) {
	c := newClock()
	th := &Throttle{Now: c.Now, MaxEntries: 5}
	for i := range 50 {
		a := netip.AddrFrom4([4]byte{10, 0, 0, byte(i)})
		if err := failAttempt(th, fmt.Sprintf("user%d", i), a); err != nil {
			t.Fatal(err)
		}
	}
	if got, got2 := th.accounts.len(), th.addrs.len(); got != 5 || got2 != 5 {
		t.Errorf("tracked %d accounts, %d addresses; want 5 each", got, got2)
	}
	if len(th.accounts.index) != 5 || len(th.addrs.index) != 5 {
		t.Errorf("index sizes %d, %d; want 5 each", len(th.accounts.index), len(th.addrs.index))
	}
	if _, ok := th.accounts.index[accountKey("user49")]; !ok {
		t.Errorf("the newest account was evicted; want the oldest")
	}
}

func TestThrottlePrunesForgotten(t *testing.T) {
	c := newClock()
	th := &Throttle{Now: c.Now, Window: time.Minute}
	for i := range 10 {
		if err := failAttempt(th, fmt.Sprintf("user%d", i), netip.AddrFrom4([4]byte{10, 0, 0, byte(i)})); err != nil {
			t.Fatal(err)
		}
	}
	c.Advance(2 * time.Minute)
	if err := failAttempt(th, "new", addr1); err != nil {
		t.Fatal(err)
	}
	if got, got2 := th.accounts.len(), th.addrs.len(); got != 1 || got2 != 1 {
		t.Errorf("tracked %d accounts, %d addresses after a quiet window; want 1 each", got, got2)
	}
}

func TestThrottledErrorText(t *testing.T) {
	err := &ThrottledError{Key: "account bob", RetryAfter: 1500 * time.Millisecond, Locked: true}
	if got, want := err.Error(), "auth: too many failed logins: account bob locked for 2s"; got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
}

// failAttempt is a login attempt that fails as soon as it is allowed.
func failAttempt(th *Throttle, account string, remote netip.Addr) error {
	if err := th.begin(account, remote); err != nil {
		return err
	}
	th.fail(account, remote)
	return nil
}
