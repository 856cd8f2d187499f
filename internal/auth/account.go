package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"
)

// GuestName is the name of the guest account: no password, off unless the owner enables it.
const GuestName = "guest"

// AdminName is the account that [Store.Bootstrap] creates on the first run.
const AdminName = "admin"

// Errors that callers branch on.
var (
	ErrNoAccount = errors.New("auth: no such account")
	ErrExists    = errors.New("auth: account exists")
	ErrNoKey     = errors.New("auth: no such key")
	ErrKeyExists = errors.New("auth: key already added")
)

// Account is one login and what it may do.
type Account struct {
	Name string `json:"name"`
	// PasswordHash is an argon2id hash in PHC form; empty means the account cannot log in with
	// a password (keys only). It never appears in logs.
	PasswordHash string `json:"password_hash,omitempty"`
	// Keys holds authorized_keys lines ("ssh-ed25519 AAAA… comment"), without options.
	Keys []string `json:"keys,omitempty"`
	// Privileges gives each privilege a mode; a missing privilege is denied.
	Privileges map[Privilege]Mode `json:"privileges,omitempty"`
	Disabled   bool               `json:"disabled,omitempty"`
	Created    time.Time          `json:"created"`
}

// Mode returns what a holds for p: [Allow] for everything when it holds admin with Allow,
// [Deny] when p is missing. The guest account never holds admin.
func (a Account) Mode(p Privilege) Mode {
	if a.IsGuest() {
		if p == PrivAdmin {
			return Deny
		}
		return a.Privileges[p]
	}
	if a.Privileges[PrivAdmin] == Allow {
		return Allow
	}
	return a.Privileges[p]
}

// IsGuest reports whether a is the guest account.
func (a Account) IsGuest() bool { return a.Name == GuestName }

// LogValue describes a for logs, without its password hash or keys.
func (a Account) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", a.Name),
		slog.String("privileges", FormatPrivileges(a.Privileges)),
		slog.Int("keys", len(a.Keys)),
		slog.Bool("password", a.PasswordHash != ""),
		slog.Bool("disabled", a.Disabled),
	)
}

// FormatPrivileges writes privs as "observe=allow,send=ask" in the order of [Privileges],
// leaving out denied ones; it returns "none" when nothing is allowed or asked.
func FormatPrivileges(privs map[Privilege]Mode) string {
	var parts []string
	for _, p := range Privileges() {
		if m := privs[p]; m != Deny {
			parts = append(parts, string(p)+"="+m.String())
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}

// ValidateName checks an account name: 1 to 32 characters from a-z, 0-9, '.', '_' and '-',
// starting with a letter or digit.
func ValidateName(name string) error {
	if name == "" || len(name) > 32 {
		return fmt.Errorf("account name %q: want 1 to 32 characters", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0:
		default:
			return fmt.Errorf("account name %q: use a-z, 0-9, '.', '_', '-', starting with a letter or digit", name)
		}
	}
	return nil
}

// validatePrivileges checks that privs names only known privileges and modes, and that the
// guest account does not hold admin.
func validatePrivileges(name string, privs map[Privilege]Mode) error {
	for p, m := range privs {
		if _, err := ParsePrivilege(string(p)); err != nil {
			return err
		}
		if m > Ask {
			return fmt.Errorf("privilege %s: mode %d out of range", p, uint8(m))
		}
		if name == GuestName && p == PrivAdmin && m != Deny {
			return fmt.Errorf("the guest account cannot hold the admin privilege")
		}
	}
	return nil
}

// clone returns a copy of a that shares no slices or maps with it.
func (a Account) clone() Account {
	a.Keys = slices.Clone(a.Keys)
	a.Privileges = maps.Clone(a.Privileges)
	return a
}
