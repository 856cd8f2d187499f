package auth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/crypto/ssh"
)

// recorder collects decisions.
type recorder struct {
	mu sync.Mutex
	ds []Decision
}

func (r *recorder) record(d Decision) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ds = append(r.ds, d)
}

// last returns the latest decision, or fails when there is none.
func (r *recorder) last(t *testing.T) Decision {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ds) == 0 {
		t.Fatal("no decision reported")
	}
	return r.ds[len(r.ds)-1]
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ds)
}

type fixture struct {
	store *Store
	auth  *Authenticator
	clock *clock
	log   *recorder
}

// newFixture returns an Authenticator over a store holding bob (password "pw", send) and
// keyonly (no password).
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{store: newStore(t), clock: newClock(), log: &recorder{}}
	f.auth = &Authenticator{
		Store:      f.store,
		Throttle:   &Throttle{Now: f.clock.Now},
		OnDecision: f.log.record,
	}
	if err := f.store.Add("bob", "pw", map[Privilege]Mode{PrivSend: Allow}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Add("keyonly", "", nil); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		name, account, password string
		setup                   func(*Store) error
		wantOK                  bool
		wantReason              string
	}{
		{"right", "bob", "pw", nil, true, ""},
		{"wrong", "bob", "nope", nil, false, ReasonBadPassword},
		{"empty", "bob", "", nil, false, ReasonBadPassword},
		{"unknown", "mallory", "pw", nil, false, ReasonNoAccount},
		{"invalid name", "../etc", "pw", nil, false, ReasonNoAccount},
		{"key only", "keyonly", "", nil, false, ReasonNoPassword},
		{"disabled", "bob", "pw", func(s *Store) error { return s.SetDisabled("bob", true) }, false, ReasonDisabled},
		{"guest off", GuestName, "", nil, false, ReasonGuestDisabled},
		{"guest on", GuestName, "anything", func(s *Store) error { return s.EnableGuest(map[Privilege]Mode{PrivSend: Allow}) }, true, ""},
		{"guest disabled", GuestName, "", func(s *Store) error {
			if err := s.EnableGuest(nil); err != nil {
				return err
			}
			return s.DisableGuest()
		}, false, ReasonGuestDisabled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.setup != nil {
				if err := tt.setup(f.store); err != nil {
					t.Fatal(err)
				}
			}
			acct, err := f.auth.CheckPassword(t.Context(), tt.account, tt.password, addr1)
			if tt.wantOK {
				if err != nil || acct.Name != tt.account {
					t.Errorf("CheckPassword(%q, %q) = %v, %v; want the account", tt.account, tt.password, acct.Name, err)
				}
			} else if !errors.Is(err, ErrDenied) || acct.Name != "" {
				t.Errorf("CheckPassword(%q, %q) = %v, %v; want ErrDenied", tt.account, tt.password, acct.Name, err)
			}
			want := Decision{Account: tt.account, Remote: addr1, Method: MethodPassword, OK: tt.wantOK, Reason: tt.wantReason}
			if got := f.log.last(t); got != want {
				t.Errorf("decision = %+v; want %+v", got, want)
			}
		})
	}
}

func TestCheckPasswordGuestNeverAdmin(t *testing.T) {
	f := newFixture(t)
	if err := f.store.EnableGuest(map[Privilege]Mode{PrivSend: Allow}); err != nil {
		t.Fatal(err)
	}
	acct, err := f.auth.CheckPassword(t.Context(), GuestName, "", addr1)
	if err != nil || acct.Mode(PrivAdmin) != Deny || acct.Mode(PrivControl) != Deny || acct.Mode(PrivSend) != Allow {
		t.Errorf("guest login = %+v, %v; want send only", acct, err)
	}
}

func TestGuestLoginsAreNotThrottled(t *testing.T) {
	f := newFixture(t)
	if err := f.store.EnableGuest(map[Privilege]Mode{PrivSend: Allow}); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := f.auth.CheckPassword(t.Context(), GuestName, "", addr1); err != nil {
			t.Fatalf("guest login %d = %v; want success", i+1, err)
		}
	}
}

func TestCheckPasswordThrottles(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	for i := range 6 {
		if _, err := f.auth.CheckPassword(ctx, "bob", "wrong", addr1); !errors.Is(err, ErrDenied) {
			t.Fatalf("failure %d = %v; want ErrDenied", i+1, err)
		}
	}
	// Now even the right password from that address is not checked until a second has passed.
	_, err := f.auth.CheckPassword(ctx, "bob", "pw", addr1)
	if d, _ := retryAfter(t, err); d != time.Second {
		t.Fatalf("right password after 6 failures = %v; want throttled for 1s", err)
	}
	if got := f.log.last(t); got.OK || got.Reason != ReasonThrottled {
		t.Errorf("decision = %+v; want throttled", got)
	}
	// From another address, bob gets in: the source is throttled, never the account.
	if _, err := f.auth.CheckPassword(ctx, "bob", "pw", addr2); err != nil {
		t.Errorf("bob from another address = %v; want success", err)
	}
	f.clock.Advance(time.Second)
	if _, err := f.auth.CheckPassword(ctx, "bob", "pw", addr1); err != nil {
		t.Fatalf("right password after the delay = %v; want success", err)
	}
	// The success cleared what the address failed for bob.
	for i := range 5 {
		if _, err := f.auth.CheckPassword(ctx, "bob", "wrong", addr1); !errors.Is(err, ErrDenied) {
			t.Fatalf("failure %d after success = %v; want ErrDenied, not throttled", i+1, err)
		}
	}
}

func TestCheckPasswordBans(t *testing.T) {
	f := newFixture(t)
	f.auth = &Authenticator{
		Store:      f.store,
		Throttle:   &Throttle{Now: f.clock.Now, SourceFree: 1, SourceBanAfter: 3, BanFor: time.Hour},
		OnDecision: f.log.record,
	}
	for i := range 3 {
		if _, err := f.auth.CheckPassword(t.Context(), "mallory", "x", addr1); !errors.Is(err, ErrDenied) {
			t.Fatalf("failure %d = %v; want ErrDenied", i+1, err)
		}
		f.clock.Advance(time.Minute)
	}
	_, err := f.auth.CheckPassword(t.Context(), "bob", "pw", addr1)
	if d, banned := retryAfter(t, err); !banned || d != 59*time.Minute {
		t.Errorf("bob from the banned address = %v; want banned for 59m", err)
	}
	if got := f.log.last(t); got.Reason != ReasonBanned {
		t.Errorf("decision = %+v; want banned", got)
	}
	if _, err := f.auth.CheckPassword(t.Context(), "bob", "pw", addr2); err != nil {
		t.Errorf("bob from another address during the ban = %v; want success", err)
	}
	f.clock.Advance(time.Hour)
	if _, err := f.auth.CheckPassword(t.Context(), "bob", "pw", addr1); err != nil {
		t.Errorf("bob after the ban ran out = %v; want success", err)
	}
}

// TestOwnerNotLockedOut hammers admin from one address as fast as it goes, through many
// delays and bans, while the owner logs in from another: the owner gets in every time, and
// waits at most the account's short slowdown (time is synctest's, so the test takes none).
func TestOwnerNotLockedOut(t *testing.T) {
	f := newFixture(t)
	synctest.Test(t, func(t *testing.T) {
		a := &Authenticator{Store: f.store, Throttle: &Throttle{}, MaxHashing: 2}
		owner := netip.MustParseAddr("2001:db8:1::7")
		attacker := netip.MustParseAddr("2001:db8:2::66")
		checked := 0
		for i := range 200 {
			_, err := a.CheckPassword(t.Context(), "bob", fmt.Sprint("guess", i), attacker)
			if errors.Is(err, ErrDenied) {
				checked++
			}
			if te, ok := errors.AsType[*ThrottledError](err); ok {
				time.Sleep(te.RetryAfter / 2)
			}
			start := time.Now()
			if _, err := a.CheckPassword(t.Context(), "bob", "pw", owner); err != nil {
				t.Fatalf("owner after %d attempts of the attacker = %v; want success", i+1, err)
			}
			if d := time.Since(start); d > 250*time.Millisecond {
				t.Fatalf("owner waited %v after %d attempts of the attacker; want at most 250ms", d, i+1)
			}
		}
		if checked > 20 {
			t.Errorf("the attacker had %d guesses checked; want at most 20 (the first hour's budget)", checked)
		}
	})
}

func TestCheckPasswordParallel(t *testing.T) {
	f := newFixture(t)
	f.auth = &Authenticator{Store: f.store, Throttle: &Throttle{Now: f.clock.Now}, MaxHashing: 2,
		OnDecision: f.log.record}
	const n = 8
	run := func(password string) (ok, throttled int) {
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				_, err := f.auth.CheckPassword(t.Context(), "bob", password, addr1)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrThrottled):
				throttled++
			}
		}
		return ok, throttled
	}
	// Right passwords arriving together (a connection pool) never throttle each other.
	if ok, _ := run("pw"); ok != n {
		t.Errorf("%d of %d parallel right passwords logged in; want all", ok, n)
	}
	// Wrong ones from one address are checked one at a time, each counted before the next:
	// the free five and the one after them are checked, the rest wait.
	if _, throttled := run("wrong"); throttled != n-6 {
		t.Errorf("%d of %d parallel wrong passwords were throttled; want %d", throttled, n, n-6)
	}
	if _, err := f.auth.CheckPassword(t.Context(), "bob", "pw", addr1); !errors.Is(err, ErrThrottled) {
		t.Errorf("right password after %d parallel wrong ones = %v; want throttled", n, err)
	}
}

func TestCheckPasswordCancelled(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := f.auth.CheckPassword(ctx, "bob", "pw", addr1); !errors.Is(err, context.Canceled) {
		t.Errorf("CheckPassword with a cancelled context = %v; want context.Canceled", err)
	}
	if n := f.log.count(); n != 0 {
		t.Errorf("%d decisions reported for an abandoned check; want none", n)
	}
}

func TestCheckPasswordBrokenFile(t *testing.T) {
	f := newFixture(t)
	if err := os.WriteFile(f.store.Path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := f.auth.CheckPassword(t.Context(), "bob", "pw", addr1)
	if err == nil || errors.Is(err, ErrDenied) {
		t.Errorf("CheckPassword on a broken file = %v; want a read error", err)
	}
	if got := f.log.last(t); got.OK || got.Reason != ReasonError {
		t.Errorf("decision = %+v; want error", got)
	}
}

func TestCheckPasswordBrokenHash(t *testing.T) {
	f := newFixture(t)
	edit := `{"version": 1, "accounts": [{"name": "bob", "password_hash": "$argon2id$junk", "created": "2025-01-02T03:04:05Z"}]}`
	if err := os.WriteFile(f.store.Path, []byte(edit), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.auth.CheckPassword(t.Context(), "bob", "", addr1); !errors.Is(err, ErrDenied) {
		t.Errorf("CheckPassword against a broken hash = %v; want ErrDenied", err)
	}
}

func TestCheckPasswordSeesNewAccounts(t *testing.T) {
	f := newFixture(t)
	cli := &Store{Path: f.store.Path, Hash: cheap}
	if err := cli.Add("carol", "secret", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.auth.CheckPassword(t.Context(), "carol", "secret", addr1); err != nil {
		t.Errorf("carol, added by another Store = %v; want success", err)
	}
	if err := cli.SetPassword("carol", "changed"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.auth.CheckPassword(t.Context(), "carol", "secret", addr1); !errors.Is(err, ErrDenied) {
		t.Errorf("carol's old password after a change = %v; want ErrDenied", err)
	}
}

func TestCheckKey(t *testing.T) {
	f := newFixture(t)
	bobKey, bobLine := newKey(t, "bob@laptop")
	otherKey, _ := newKey(t, "stranger")
	if err := f.store.AddKey("bob", bobLine); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Add("sleepy", "", nil); err != nil {
		t.Fatal(err)
	}
	if err := f.store.AddKey("sleepy", bobLine); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetDisabled("sleepy", true); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, account string
		key           string // "bob", "other" or "nil"
		wantOK        bool
		wantReason    string
	}{
		{"right", "bob", "bob", true, ""},
		{"wrong key", "bob", "other", false, ReasonUnknownKey},
		{"nil key", "bob", "nil", false, ReasonUnknownKey},
		{"no keys", "keyonly", "bob", false, ReasonUnknownKey},
		{"unknown", "mallory", "bob", false, ReasonNoAccount},
		{"disabled", "sleepy", "bob", false, ReasonDisabled},
		{"guest off", GuestName, "bob", false, ReasonGuestDisabled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := map[string]ssh.PublicKey{"bob": bobKey, "other": otherKey, "nil": nil}[tt.key]
			before := f.log.count()
			acct, err := f.auth.CheckKey(t.Context(), tt.account, key, addr1)
			if tt.wantOK != (err == nil) || (err != nil && !errors.Is(err, ErrDenied)) {
				t.Fatalf("CheckKey(%q) = %v, %v; want ok %v", tt.account, acct.Name, err, tt.wantOK)
			}
			if tt.wantOK {
				if n := f.log.count(); n != before {
					t.Errorf("CheckKey reported a success before the key was verified")
				}
				if _, err := f.auth.CheckVerifiedKey(t.Context(), tt.account, key, addr1); err != nil {
					t.Fatalf("CheckVerifiedKey(%q) = %v; want success", tt.account, err)
				}
			}
			want := Decision{Account: tt.account, Remote: addr1, Method: MethodPublicKey, OK: tt.wantOK, Reason: tt.wantReason}
			if got := f.log.last(t); got != want {
				t.Errorf("decision = %+v; want %+v", got, want)
			}
		})
	}
}

func TestCheckKeyThrottling(t *testing.T) {
	f := newFixture(t)
	bobKey, bobLine := newKey(t, "bob@laptop")
	otherKey, _ := newKey(t, "stranger")
	if err := f.store.AddKey("bob", bobLine); err != nil {
		t.Fatal(err)
	}
	// Wrong keys cost nothing: clients offer several.
	for range 20 {
		if _, err := f.auth.CheckKey(t.Context(), "bob", otherKey, addr1); !errors.Is(err, ErrDenied) {
			t.Fatalf("wrong key = %v; want ErrDenied", err)
		}
	}
	if _, err := f.auth.CheckPassword(t.Context(), "bob", "pw", addr1); err != nil {
		t.Fatalf("password after wrong keys = %v; want success", err)
	}
	// Someone guessing passwords from bob's own address (behind the same NAT) does not shut
	// bob's key out: a key is not a guess.
	auth := &Authenticator{Store: f.store, Throttle: &Throttle{Now: f.clock.Now, SourceFree: 1, SourceBanAfter: 2}}
	for range 2 {
		auth.CheckPassword(t.Context(), "bob", "guess", addr1)
	}
	if _, err := auth.CheckPassword(t.Context(), "bob", "pw", addr1); !errors.Is(err, ErrThrottled) {
		t.Fatalf("bob's password from the banned address = %v; want throttled", err)
	}
	if _, err := auth.CheckKey(t.Context(), "bob", bobKey, addr1); err != nil {
		t.Errorf("bob's key offered from the banned address = %v; want accepted", err)
	}
	if _, err := auth.CheckVerifiedKey(t.Context(), "bob", bobKey, addr1); err != nil {
		t.Errorf("bob's key from the banned address = %v; want success", err)
	}
}

func TestGuestKeyAndNone(t *testing.T) {
	f := newFixture(t)
	key, _ := newKey(t, "anyone")
	if _, err := f.auth.CheckNone(t.Context(), GuestName, addr1); !errors.Is(err, ErrDenied) {
		t.Errorf("CheckNone(guest) while off = %v; want ErrDenied", err)
	}
	if got := f.log.last(t); got.Reason != ReasonGuestDisabled || got.Method != MethodNone {
		t.Errorf("decision = %+v; want guest disabled via none", got)
	}
	before := f.log.count()
	if _, err := f.auth.CheckNone(t.Context(), "bob", addr1); !errors.Is(err, ErrDenied) {
		t.Errorf("CheckNone(bob) = %v; want ErrDenied", err)
	}
	if f.log.count() != before {
		t.Errorf("CheckNone(bob) reported a decision; want the probe ignored")
	}
	if err := f.store.EnableGuest(map[Privilege]Mode{PrivSend: Allow}); err != nil {
		t.Fatal(err)
	}
	if acct, err := f.auth.CheckNone(t.Context(), GuestName, addr1); err != nil || !acct.IsGuest() {
		t.Errorf("CheckNone(guest) while on = %v, %v; want the guest account", acct.Name, err)
	}
	if got := f.log.last(t); !got.OK || got.Method != MethodNone {
		t.Errorf("decision = %+v; want ok via none", got)
	}
	if _, err := f.auth.CheckKey(t.Context(), GuestName, key, addr1); err != nil {
		t.Errorf("CheckKey(guest, any key) = %v; want success", err)
	}
	if _, err := f.auth.CheckVerifiedKey(t.Context(), GuestName, key, addr1); err != nil {
		t.Errorf("CheckVerifiedKey(guest, any key) = %v; want success", err)
	}
}

func TestAuthenticatorDefaults(t *testing.T) {
	s := &Store{Path: filepath.Join(t.TempDir(), "accounts.json"), Hash: cheap}
	if err := s.Add("bob", "pw", nil); err != nil {
		t.Fatal(err)
	}
	a := &Authenticator{Store: s} // no throttle, no callback
	if _, err := a.CheckPassword(t.Context(), "bob", "pw", netip.Addr{}); err != nil {
		t.Errorf("CheckPassword with defaults = %v; want success", err)
	}
	if _, err := a.CheckPassword(t.Context(), "nobody", "pw", netip.Addr{}); !errors.Is(err, ErrDenied) {
		t.Errorf("CheckPassword(nobody) with defaults = %v; want ErrDenied", err)
	}
}
