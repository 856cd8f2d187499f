package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// ErrDenied is returned for every refused login that is not throttled: the caller learns no
// more than the remote peer should. The reason goes to [Decision].
var ErrDenied = errors.New("auth: access denied")

// Login methods, as SSH names them.
const (
	MethodPassword  = "password"
	MethodPublicKey = "publickey"
	MethodNone      = "none"
)

// Reasons a login is refused.
const (
	ReasonBadPassword   = "bad password"
	ReasonNoPassword    = "no password" // a key-only account tried a password
	ReasonUnknownKey    = "unknown key"
	ReasonNoAccount     = "no such account"
	ReasonThrottled     = "throttled" // the source must wait after its failures
	ReasonBanned        = "banned"    // the source is banned for a while
	ReasonDisabled      = "disabled"
	ReasonGuestDisabled = "guest disabled"
	ReasonError         = "error" // the accounts could not be read
)

// Decision is one login decision, for the activity log.
type Decision struct {
	Account string
	Remote  netip.Addr
	Method  string // MethodPassword, MethodPublicKey or MethodNone
	OK      bool
	Reason  string // one of the Reason constants when !OK
}

// Authenticator checks logins against a Store, throttles failures and reports each decision.
// Set Store before use and change no field after; the other fields may stay zero.
type Authenticator struct {
	Store *Store
	// Throttle limits failed logins; nil means a Throttle with its defaults.
	Throttle *Throttle
	// OnDecision, if set, is called with every decision before the Check method returns. It
	// must not block; the host turns it into activity-log events.
	OnDecision func(Decision)
	// MaxHashing bounds password hashes computed at once, each holding the hash's memory
	// (19 MiB by default); 0 means GOMAXPROCS. Further checks wait their turn.
	MaxHashing int

	once     sync.Once
	throttle *Throttle     // Throttle, or our own
	sem      chan struct{} // one token per running hash
	dummy    string        // a hash to check when there is no real one, so that all checks cost the same
	dummyErr error
}

func (a *Authenticator) init() {
	a.once.Do(func() {
		a.throttle = a.Throttle
		if a.throttle == nil {
			a.throttle = &Throttle{}
		}
		n := a.MaxHashing
		if n <= 0 {
			n = runtime.GOMAXPROCS(0)
		}
		a.sem = make(chan struct{}, n)
		var params HashParams
		if a.Store != nil {
			params = a.Store.Hash
		}
		a.dummy, a.dummyErr = HashPassword(rand.Text(), params)
	})
}

// CheckPassword logs name in with password from remote. It returns the account, or
// [ErrDenied], a [*ThrottledError] (nothing was checked; try again after RetryAfter), the
// context's error, or an error reading the accounts. Unknown accounts cost the same time as
// known ones. When guest access is enabled, any password logs in as [GuestName].
func (a *Authenticator) CheckPassword(ctx context.Context, name, password string, remote netip.Addr) (Account, error) {
	a.init()
	if err := ctx.Err(); err != nil {
		return Account{}, err
	}
	d := Decision{Account: name, Remote: remote, Method: MethodPassword}
	acct, err := a.Store.Get(name)
	if err != nil && !errors.Is(err, ErrNoAccount) {
		return Account{}, a.refuse(d, ReasonError, err)
	}
	exists := err == nil
	if exists && acct.IsGuest() && !acct.Disabled {
		return a.guest(d, acct)
	}
	release, err := a.throttle.takeTurn(ctx, remote)
	if err != nil {
		return Account{}, err // abandoned, not decided
	}
	defer release()
	wait, err := a.throttle.begin(name, remote)
	if err != nil {
		return Account{}, a.refuse(d, throttleReason(err), err)
	}
	if err := sleep(ctx, wait); err != nil {
		return Account{}, err
	}
	hash := acct.PasswordHash
	if !exists || acct.IsGuest() || hash == "" {
		hash = a.dummy
	}
	ok, err := a.verify(ctx, password, hash)
	switch {
	case ctx.Err() != nil:
		return Account{}, ctx.Err() // abandoned, not decided
	case err != nil:
		return Account{}, a.refuse(d, ReasonError, err)
	}
	if !exists || !ok || name == GuestName || acct.PasswordHash == "" || acct.Disabled {
		a.throttle.fail(name, remote)
	}
	switch {
	case name == GuestName:
		return Account{}, a.refuse(d, ReasonGuestDisabled, ErrDenied)
	case !exists:
		return Account{}, a.refuse(d, ReasonNoAccount, ErrDenied)
	case acct.PasswordHash == "":
		return Account{}, a.refuse(d, ReasonNoPassword, ErrDenied)
	case !ok:
		return Account{}, a.refuse(d, ReasonBadPassword, ErrDenied)
	case acct.Disabled:
		return Account{}, a.refuse(d, ReasonDisabled, ErrDenied)
	}
	a.throttle.succeed(name, remote)
	a.report(d, true, "")
	return acct, nil
}

// sleep waits for d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// CheckKey tells whether key may log in as name from remote. For SSH it answers the public
// key query (ssh.ServerConfig.PublicKeyCallback): the client has not yet shown that it holds
// the key, so only refusals are reported and nothing is cleared; call [CheckVerifiedKey] once
// the signature is verified. Keys cannot be guessed, so key attempts are never counted and
// never throttled: someone guessing passwords from the same address (behind the same NAT)
// does not shut key logins out. When guest access is enabled, any key logs in as [GuestName].
func (a *Authenticator) CheckKey(ctx context.Context, name string, key ssh.PublicKey, remote netip.Addr) (Account, error) {
	return a.checkKey(ctx, name, key, remote, false)
}

// CheckVerifiedKey is [CheckKey] for a client that has proven it holds key (for SSH,
// ssh.ServerConfig.VerifiedPublicKeyCallback). It reports success too, clears the password
// failures the address earned for the account, and makes the address known to the account.
func (a *Authenticator) CheckVerifiedKey(ctx context.Context, name string, key ssh.PublicKey, remote netip.Addr) (Account, error) {
	return a.checkKey(ctx, name, key, remote, true)
}

func (a *Authenticator) checkKey(ctx context.Context, name string, key ssh.PublicKey, remote netip.Addr, verified bool) (Account, error) {
	a.init()
	d := Decision{Account: name, Remote: remote, Method: MethodPublicKey}
	if err := ctx.Err(); err != nil {
		return Account{}, err
	}
	acct, err := a.Store.Get(name)
	if err != nil && !errors.Is(err, ErrNoAccount) {
		return Account{}, a.refuse(d, ReasonError, err)
	}
	exists := err == nil
	switch {
	case name == GuestName && (!exists || acct.Disabled):
		return Account{}, a.refuse(d, ReasonGuestDisabled, ErrDenied)
	case acct.IsGuest():
		if !verified {
			return acct, nil
		}
		return a.guest(d, acct)
	case !exists:
		return Account{}, a.refuse(d, ReasonNoAccount, ErrDenied)
	case acct.Disabled:
		return Account{}, a.refuse(d, ReasonDisabled, ErrDenied)
	}
	if !slices.ContainsFunc(acct.Keys, func(line string) bool { return keyMatches(line, key) }) {
		return Account{}, a.refuse(d, ReasonUnknownKey, ErrDenied)
	}
	if verified {
		a.throttle.succeed(name, remote)
		a.report(d, true, "")
	}
	return acct, nil
}

// CheckNone logs name in without credentials (SSH's "none" method), which only the enabled
// guest account allows. Every SSH client tries "none" first, so for any other name this
// refuses silently: no decision is reported and nothing is counted.
func (a *Authenticator) CheckNone(ctx context.Context, name string, remote netip.Addr) (Account, error) {
	a.init()
	if err := ctx.Err(); err != nil {
		return Account{}, err
	}
	if name != GuestName {
		return Account{}, ErrDenied
	}
	d := Decision{Account: name, Remote: remote, Method: MethodNone}
	acct, err := a.Store.Get(name)
	switch {
	case errors.Is(err, ErrNoAccount) || (err == nil && acct.Disabled):
		return Account{}, a.refuse(d, ReasonGuestDisabled, ErrDenied)
	case err != nil:
		return Account{}, a.refuse(d, ReasonError, err)
	}
	return a.guest(d, acct)
}

// guest admits the enabled guest account. A guest login is no guess, so it is not throttled,
// and it proves nothing, so it clears no failures.
func (a *Authenticator) guest(d Decision, acct Account) (Account, error) {
	a.report(d, true, "")
	return acct, nil
}

// verify checks password against hash, waiting for a hashing slot.
func (a *Authenticator) verify(ctx context.Context, password, hash string) (bool, error) {
	if a.dummyErr != nil {
		return false, fmt.Errorf("check password: %w", a.dummyErr)
	}
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-a.sem }()
	ok, err := VerifyPassword(password, hash)
	if err != nil {
		// A broken hash in the file: spend the usual time, then refuse.
		VerifyPassword(password, a.dummy)
		return false, nil
	}
	return ok, nil
}

func (a *Authenticator) refuse(d Decision, reason string, err error) error {
	a.report(d, false, reason)
	return err
}

func (a *Authenticator) report(d Decision, ok bool, reason string) {
	if a.OnDecision != nil {
		d.OK, d.Reason = ok, reason
		a.OnDecision(d)
	}
}

func throttleReason(err error) string {
	if te, ok := errors.AsType[*ThrottledError](err); ok && te.Banned {
		return ReasonBanned
	}
	return ReasonThrottled
}
