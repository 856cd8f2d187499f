package auth

import (
	"fmt"
	"strings"
)

// Privilege names one thing an account may do.
type Privilege string

// The privileges, as DESIGN.md lists them.
const (
	PrivObserve        Privilege = "observe"         // watch the screen
	PrivControl        Privilege = "control"         // watch, type and point
	PrivSend           Privilege = "send"            // drop files into the inbox
	PrivExchangeRead   Privilege = "exchange:read"   // list and download in the shared folder
	PrivExchangeWrite  Privilege = "exchange:write"  // upload to the shared folder
	PrivExchangeDelete Privilege = "exchange:delete" // delete and rename in the shared folder
	PrivChat           Privilege = "chat"            // chat with the person at the host
	PrivAdmin          Privilege = "admin"           // everything, including managing accounts
)

// Privileges returns every privilege, in a fixed order.
func Privileges() []Privilege {
	return []Privilege{
		PrivObserve, PrivControl, PrivSend, PrivExchangeRead, PrivExchangeWrite,
		PrivExchangeDelete, PrivChat, PrivAdmin,
	}
}

// Valid reports whether p is one of [Privileges].
func (p Privilege) Valid() bool {
	for _, q := range Privileges() {
		if p == q {
			return true
		}
	}
	return false
}

// ParsePrivilege returns the privilege named s.
func ParsePrivilege(s string) (Privilege, error) {
	if p := Privilege(s); p.Valid() {
		return p, nil
	}
	names := make([]string, 0, len(Privileges()))
	for _, p := range Privileges() {
		names = append(names, string(p))
	}
	return "", fmt.Errorf("unknown privilege %q (valid: %s)", s, strings.Join(names, ", "))
}

// Mode says whether an account holds a privilege. The zero Mode is [Deny].
type Mode uint8

// The modes.
const (
	Deny  Mode = iota // never
	Allow             // always
	Ask               // the person at the host approves each session; no answer in time means no
)

// String returns "deny", "allow" or "ask".
func (m Mode) String() string {
	switch m {
	case Deny:
		return "deny"
	case Allow:
		return "allow"
	case Ask:
		return "ask"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// ParseMode returns the mode named s: "allow", "ask" or "deny".
func ParseMode(s string) (Mode, error) {
	for _, m := range []Mode{Allow, Ask, Deny} {
		if s == m.String() {
			return m, nil
		}
	}
	return Deny, fmt.Errorf("unknown mode %q (valid: allow, ask, deny)", s)
}

// MarshalText encodes m as its name.
func (m Mode) MarshalText() ([]byte, error) {
	if m > Ask {
		return nil, fmt.Errorf("encode mode %d: out of range", uint8(m))
	}
	return []byte(m.String()), nil
}

// UnmarshalText decodes a mode name.
func (m *Mode) UnmarshalText(b []byte) error {
	got, err := ParseMode(string(b))
	if err != nil {
		return err
	}
	*m = got
	return nil
}
