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

var (
	addr1 = netip.MustParseAddr("192.0.2.1")
	addr2 = netip.MustParseAddr("198.51.100.9")
)

// retryAfter returns how long err says to wait and whether it is a ban, 0 for nil, or fails.
func retryAfter(t *testing.T, err error) (time.Duration, bool) {
	t.Helper()
	if err == nil {
		return 0, false
	}
	te, ok := errors.AsType[*ThrottledError](err)
	if !ok || !errors.Is(err, ErrThrottled) {
		t.Fatalf("error %v is not a *ThrottledError matching ErrThrottled", err)
	}
	return te.RetryAfter, te.Banned
}

// peek checks remote as begin does, without counting an attempt.
func peek(th *Throttle, name string, remote netip.Addr) error {
	_, err := th.begin(name, remote)
	return err
}

// failAttempt is a login attempt that fails as soon as it is allowed.
func failAttempt(th *Throttle, name string, remote netip.Addr) error {
	if _, err := th.begin(name, remote); err != nil {
		return err
	}
	th.fail(name, remote)
	return nil
}

func TestThrottleGrowthAndBan(t *testing.T) {
	c := newClock()
	th := &Throttle{Now: c.Now}
	// Each attempt fails as soon as it is allowed. want is the wait imposed after it.
	type wait struct {
		d      time.Duration
		banned bool
	}
	free := wait{}
	wants := []wait{
		free, free, free, free, free,
		{time.Second, false}, {2 * time.Second, false}, {4 * time.Second, false}, {8 * time.Second, false},
		{15 * time.Minute, true},
		// After the ban no failure is free, and the next ban is twice as long.
		{time.Second, false}, {2 * time.Second, false}, {4 * time.Second, false}, {8 * time.Second, false},
		{30 * time.Minute, true},
	}
	for i, want := range wants {
		if err := failAttempt(th, "bob", addr1); err != nil {
			t.Fatalf("attempt %d: begin = %v; want allowed", i+1, err)
		}
		got, banned := retryAfter(t, peek(th, "bob", addr1))
		if got != want.d || banned != want.banned {
			t.Fatalf("after failure %d: wait %v, banned %v; want %v, %v", i+1, got, banned, want.d, want.banned)
		}
		c.Advance(want.d)
	}
}

// TestThrottlePolicy measures the policy the README states: an attacker who guesses from one
// source as fast as the throttle lets it, at one account or at many, and the owner of the
// account guessed at, who logs in from elsewhere.
func TestThrottlePolicy(t *testing.T) {
	for _, spread := range []bool{false, true} {
		t.Run(fmt.Sprintf("many accounts %v", spread), func(t *testing.T) {
			c := newClock()
			start := c.Now()
			th := &Throttle{Now: c.Now}
			var at []time.Duration // when each checked guess was made
			for i := 0; c.Now().Sub(start) < 24*time.Hour; i++ {
				name := "admin"
				if spread {
					name = fmt.Sprintf("user%d", i)
				}
				wait, err := th.begin(name, addr1)
				if err != nil {
					d, _ := retryAfter(t, err)
					c.Advance(d)
					continue
				}
				at = append(at, c.Now().Sub(start)+wait)
				th.fail(name, addr1)
				c.Advance(wait)
				if wait, err := th.begin("admin", addr2); err != nil || wait > 250*time.Millisecond {
					t.Fatalf("the owner from another source after %d guesses: wait %v, %v; want in within 250ms", len(at), wait, err)
				}
			}
			within := func(d time.Duration) int {
				n := 0
				for _, a := range at {
					if a < d {
						n++
					}
				}
				return n
			}
			for _, tt := range []struct {
				window time.Duration
				want   int
			}{
				{time.Minute, 10}, {15 * time.Minute, 10}, {time.Hour, 20}, {24 * time.Hour, 40},
			} {
				if got := within(tt.window); got != tt.want {
					t.Errorf("checked guesses from one source within %v = %d; want %d", tt.window, got, tt.want)
				}
			}
		})
	}
}

func TestThrottleSources(t *testing.T) {
	tests := []struct {
		name               string
		acct1, acct2       string
		addr1, addr2       string
		wantSharedThrottle bool
	}{
		{"same account, other address", "bob", "bob", "192.0.2.1", "198.51.100.7", false},
		{"same address, other account", "bob", "carol", "192.0.2.1", "192.0.2.1", true},
		{"loopback is not exempt", "bob", "carol", "127.0.0.1", "127.0.0.1", true},
		{"v4-mapped is v4", "bob", "carol", "192.0.2.1", "::ffff:192.0.2.1", true},
		{"same /64", "bob", "carol", "2001:db8::1", "2001:db8::ffff:2", true},
		{"zone ignored", "bob", "carol", "fe80::1%eth0", "fe80::2%eth1", true},
		{"other /64", "bob", "carol", "2001:db8::1", "2001:db8:0:1::1", false},
		{"other everything", "bob", "carol", "192.0.2.1", "192.0.2.2", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			th := &Throttle{Now: c.Now, SourceFree: 2}
			a1, a2 := netip.MustParseAddr(tt.addr1), netip.MustParseAddr(tt.addr2)
			for range 3 {
				if err := failAttempt(th, tt.acct1, a1); err != nil {
					t.Fatal(err)
				}
			}
			err := peek(th, tt.acct2, a2)
			if got := err != nil; got != tt.wantSharedThrottle {
				t.Errorf("begin(%q, %v) after 3 failures of (%q, %v) = %v; want throttled %v",
					tt.acct2, a2, tt.acct1, a1, err, tt.wantSharedThrottle)
			}
		})
	}
}

func TestThrottleSuccessClearsOnlyItsAccount(t *testing.T) {
	c := newClock()
	th := &Throttle{Now: c.Now, SourceFree: 3}
	for range 3 {
		if err := failAttempt(th, "admin", addr1); err != nil {
			t.Fatal(err)
		}
	}
	if err := failAttempt(th, "mallory", addr1); err != nil {
		t.Fatal(err)
	}
	if err := peek(th, "admin", addr1); err == nil {
		t.Fatal("attempt after 4 failures was allowed; want throttled")
	}
	// The attacker logs into an account of its own: that clears its one failure there, and
	// not the three it made at admin.
	c.Advance(time.Second)
	th.succeed("mallory", addr1)
	if err := failAttempt(th, "admin", addr1); err != nil {
		t.Fatalf("guess after the success = %v; want allowed", err)
	}
	if err := peek(th, "admin", addr1); err == nil {
		t.Error("the fifth guess at admin was allowed at once; a success at another account must not clear admin's failures")
	}
	// The owner who mistyped logs in: their own failures are forgotten.
	c.Advance(time.Hour)
	for range 4 {
		if err := failAttempt(th, "bob", addr2); err != nil {
			t.Fatal(err)
		}
	}
	c.Advance(time.Second)
	th.succeed("bob", addr2)
	for i := range 4 {
		if err := failAttempt(th, "bob", addr2); err != nil {
			t.Fatalf("failure %d after bob's success = %v; want allowed, bob's failures forgotten", i+1, err)
		}
	}
}

func TestThrottleAccountSlowdown(t *testing.T) {
	c := newClock()
	th := &Throttle{Now: c.Now}
	th.succeed("bob", addr1) // bob logged in from addr1 before
	for i := range 10 {
		th.fail("bob", netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}))
	}
	tests := []struct {
		name   string
		acct   string
		remote netip.Addr
		want   time.Duration
	}{
		{"unknown source", "bob", addr2, 250 * time.Millisecond},
		{"known source", "bob", addr1, 0},
		{"known source of another account", "carol", addr1, 0},
		{"a source that failed", "bob", netip.AddrFrom4([4]byte{10, 0, 0, 3}), 250 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := th.begin(tt.acct, tt.remote)
			if err != nil || got != tt.want {
				t.Errorf("begin(%q, %v) = %v, %v; want %v, nil", tt.acct, tt.remote, got, err, tt.want)
			}
		})
	}
	c.Advance(15*time.Minute + time.Nanosecond)
	if got, err := th.begin("bob", addr2); got != 0 || err != nil {
		t.Errorf("begin after a quiet window = %v, %v; want no wait", got, err)
	}
}

func TestThrottleWindowForgets(t *testing.T) {
	c := newClock()
	th := &Throttle{Now: c.Now, SourceFree: 2, Window: time.Minute}
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
		th.succeed(fmt.Sprintf("known%d", i), a) // another account: the failure stays
	}
	if a, s, k := th.accounts.len(), th.sources.len(), th.known.len(); a != 5 || s != 5 || k != 5 {
		t.Errorf("tracked %d accounts, %d sources, %d known pairs; want 5 each", a, s, k)
	}
	if len(th.accounts.index) != 5 || len(th.sources.index) != 5 || len(th.known.index) != 5 {
		t.Errorf("index sizes %d, %d, %d; want 5 each", len(th.accounts.index), len(th.sources.index), len(th.known.index))
	}
	if th.accounts.get(accountKey("user49")) == nil {
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
	if got, got2 := th.accounts.len(), th.sources.len(); got != 1 || got2 != 1 {
		t.Errorf("tracked %d accounts, %d sources after a quiet window; want 1 each", got, got2)
	}
}

func TestThrottleLongNamesShareAKey(t *testing.T) {
	long1, long2 := "x"+string(make([]byte, 40)), "x"+string(make([]byte, 50))
	if accountKey(long1) != accountKey(long2) {
		t.Errorf("accountKey of two over-long names differ; want one key, so made-up names cost no memory")
	}
}

func TestThrottledErrorText(t *testing.T) {
	tests := []struct {
		name          string
		err           ThrottledError
		text, message string
	}{
		{"banned", ThrottledError{Key: "address 192.0.2.1", RetryAfter: 1500 * time.Millisecond, Banned: true},
			"auth: too many failed logins: address 192.0.2.1 banned for 2s",
			"too many failed logins from your address: it is blocked; try again in 2 s"},
		{"delay", ThrottledError{Key: "address 192.0.2.1", RetryAfter: 3 * time.Second},
			"auth: too many failed logins: address 192.0.2.1 throttled for 3s",
			"too many failed logins from your address; try again in 3 s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.text {
				t.Errorf("Error() = %q; want %q", got, tt.text)
			}
			if got := tt.err.Message(); got != tt.message {
				t.Errorf("Message() = %q; want %q", got, tt.message)
			}
		})
	}
}
