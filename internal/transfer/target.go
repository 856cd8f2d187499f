// Package transfer is the client side of buktu's file services: it connects to a host (trust
// on first use of its key, password or keys), sends into its inbox, and lists, gets, puts and
// removes in its exchange folder, many files in parallel, resuming what an interruption cut
// short and checking every file's SHA-256 against the host's. Printing progress is the
// caller's: it hears of bytes through a Meter.
package transfer

import (
	"fmt"
	"net"
	"os/user"
	"strconv"
	"strings"
)

// Target is a host and, for commands that name one, a path on it.
type Target struct {
	User string
	Host string
	Port int
	Path string
}

// Addr returns host:port.
func (t Target) Addr() string { return net.JoinHostPort(t.Host, strconv.Itoa(t.Port)) }

func (t Target) String() string {
	s := t.Addr()
	if t.User != "" {
		s = t.User + "@" + s
	}
	return s
}

// ParseTarget parses "[user@]host[:port]" and, when withPath, "[user@]host[:port]:path".
// An IPv6 host is written in brackets: "[::1]:1420:docs". A path may be empty (the top).
// Missing parts take the defaults: port defPort and the local user's name.
func ParseTarget(s string, defPort int, withPath bool) (Target, error) {
	var t Target
	if s == "" {
		return t, fmt.Errorf("empty host")
	}
	if at := strings.LastIndex(s, "@"); at >= 0 && !strings.Contains(s[:at], ":") {
		t.User, s = s[:at], s[at+1:]
		if t.User == "" {
			return t, fmt.Errorf("empty account name before @")
		}
	}
	var rest string
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 {
			return t, fmt.Errorf("%q: missing ] after an IPv6 address", s)
		}
		t.Host, rest = s[1:end], s[end+1:]
	} else if i := strings.Index(s, ":"); i >= 0 {
		t.Host, rest = s[:i], s[i:]
	} else {
		t.Host = s
	}
	if t.Host == "" {
		return t, fmt.Errorf("empty host name")
	}
	t.Port = defPort
	if rest != "" {
		if rest[0] != ':' {
			return t, fmt.Errorf("%q: expected : after the host", s)
		}
		rest = rest[1:]
		// A port is digits followed by the end (no path wanted) or by ":" (a path follows).
		portPart, after, hasMore := strings.Cut(rest, ":")
		if isDigits(portPart) && (hasMore || !withPath) {
			p, err := strconv.Atoi(portPart)
			if err != nil || p < 1 || p > 65535 {
				return t, fmt.Errorf("port %q is out of range 1 to 65535", portPart)
			}
			t.Port, rest = p, after
		} else if !withPath {
			return t, fmt.Errorf("%q: port %q is not a number", s, portPart)
		}
		t.Path = rest
	} else if withPath {
		return t, fmt.Errorf("%q: name a path as HOST:PATH (HOST:  alone means the top folder)", s)
	}
	if t.User == "" {
		if u, err := user.Current(); err == nil {
			t.User = u.Username
		}
	}
	return t, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
