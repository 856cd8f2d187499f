package x11

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// address is a parsed display name: where to connect and which screen to use.
type address struct {
	host   string // "" for this machine over a Unix socket
	socket string // Unix socket directory prefix given as a path ("/tmp/launch/org.x"), or ""
	number int
	screen int
}

// parseDisplay parses an X display name: ":0", ":0.1", "unix:0", "host:0", "tcp/host:0",
// "[::1]:0" or "/path/to/socket:0".
func parseDisplay(s string) (address, error) {
	var a address
	colon := strings.LastIndexByte(s, ':')
	if colon < 0 {
		return a, fmt.Errorf("display %q has no ':'", s)
	}
	host, rest := s[:colon], s[colon+1:]
	switch {
	case strings.HasPrefix(host, "/"):
		a.socket = host
	default:
		host = strings.TrimPrefix(host, "tcp/")
		host = strings.TrimPrefix(host, "unix/")
		if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
			host = host[1 : len(host)-1]
		}
		if host != "unix" {
			a.host = host
		}
	}
	num, scr, hasScreen := strings.Cut(rest, ".")
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 || n > 65535-6000 || num != strconv.Itoa(n) {
		return a, fmt.Errorf("display %q has no valid number", s)
	}
	a.number = n
	if hasScreen {
		sn, err := strconv.Atoi(scr)
		if err != nil || sn < 0 || sn > 255 || scr != strconv.Itoa(sn) {
			return a, fmt.Errorf("display %q has no valid screen", s)
		}
		a.screen = sn
	}
	if strings.ContainsAny(a.host, "/[]") {
		return a, fmt.Errorf("display %q has an invalid host", s)
	}
	return a, nil
}

// String returns a in the form parseDisplay reads.
func (a address) String() string {
	var b strings.Builder
	switch {
	case a.socket != "":
		b.WriteString(a.socket)
	case strings.Contains(a.host, ":"):
		b.WriteString("[" + a.host + "]")
	default:
		b.WriteString(a.host)
	}
	fmt.Fprintf(&b, ":%d", a.number)
	if a.screen != 0 {
		fmt.Fprintf(&b, ".%d", a.screen)
	}
	return b.String()
}

// local reports whether a is reached over a Unix socket, so the server shares this
// machine's memory (what MIT-SHM needs).
func (a address) local() bool { return a.host == "" }

// dial connects to a's X server.
func (a address) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	switch {
	case a.socket != "":
		return d.DialContext(ctx, "unix", a.socket+":"+strconv.Itoa(a.number))
	case a.host != "":
		return d.DialContext(ctx, "tcp", net.JoinHostPort(a.host, strconv.Itoa(6000+a.number)))
	}
	path := "/tmp/.X11-unix/X" + strconv.Itoa(a.number)
	c, err := d.DialContext(ctx, "unix", path)
	if err == nil {
		return c, nil
	}
	// Servers started with the socket directory hidden (containers) still listen on
	// the abstract name.
	if c, err2 := d.DialContext(ctx, "unix", "@"+path); err2 == nil {
		return c, nil
	}
	return nil, err
}

// Families of entries in an Xauthority file, from X11/Xauth.h.
const (
	familyInternet  = 0
	familyInternet6 = 6
	familyLocal     = 256
	familyWild      = 65535
)

// xauthEntry is one record of an Xauthority file.
type xauthEntry struct {
	family uint16
	addr   []byte
	number string
	name   string
	data   []byte
}

// parseXauthority reads the records of an Xauthority file: a big-endian family, then the
// address, display number, auth name and auth data, each as a big-endian length and bytes.
func parseXauthority(b []byte) ([]xauthEntry, error) {
	var out []xauthEntry
	field := func() ([]byte, error) {
		if len(b) < 2 {
			return nil, errors.New("xauthority record cut short")
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+n {
			return nil, errors.New("xauthority field cut short")
		}
		f := b[2 : 2+n : 2+n]
		b = b[2+n:]
		return f, nil
	}
	for len(b) > 0 {
		if len(b) < 2 {
			return out, errors.New("xauthority record cut short")
		}
		e := xauthEntry{family: binary.BigEndian.Uint16(b)}
		b = b[2:]
		var f [4][]byte
		for i := range f {
			v, err := field()
			if err != nil {
				return out, err
			}
			f[i] = v
		}
		e.addr, e.number, e.name, e.data = f[0], string(f[1]), string(f[2]), f[3]
		out = append(out, e)
	}
	return out, nil
}

// appendXauthority appends e in the Xauthority file format.
func appendXauthority(b []byte, e xauthEntry) []byte {
	b = binary.BigEndian.AppendUint16(b, e.family)
	for _, f := range [][]byte{e.addr, []byte(e.number), []byte(e.name), e.data} {
		b = binary.BigEndian.AppendUint16(b, uint16(len(f)))
		b = append(b, f...)
	}
	return b
}

// cookie finds the MIT-MAGIC-COOKIE-1 for a among entries; ok is false when there is none.
func (a address) cookie(entries []xauthEntry, hostname string) (data []byte, ok bool) {
	num := strconv.Itoa(a.number)
	ip := net.ParseIP(a.host)
	for _, e := range entries {
		if e.name != "MIT-MAGIC-COOKIE-1" || (e.number != num && e.number != "") {
			continue
		}
		var match bool
		switch e.family {
		case familyWild:
			match = true
		case familyLocal:
			match = string(e.addr) == hostname &&
				(a.host == "" || a.host == "localhost" || a.host == hostname)
		case familyInternet, familyInternet6:
			match = ip != nil && net.IP(e.addr).Equal(ip)
		}
		if match {
			return e.data, true
		}
	}
	return nil, false
}

// readCookie reads the cookie for a from the Xauthority file at path, or from $XAUTHORITY
// or ~/.Xauthority when path is "". A missing file means no cookie.
func readCookie(a address, path string) ([]byte, error) {
	if path == "" {
		path = os.Getenv("XAUTHORITY")
	}
	if path == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, nil
		}
		path = filepath.Join(home, ".Xauthority")
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read xauthority: %w", err)
	}
	entries, err := parseXauthority(b)
	if err != nil && len(entries) == 0 {
		return nil, fmt.Errorf("parse xauthority %s: %w", path, err)
	}
	hostname, _ := os.Hostname()
	data, _ := a.cookie(entries, hostname)
	return data, nil
}

// authConn sends the connection setup request with our own authorization instead of the
// one xgb chose: xgb only reads $XAUTHORITY, and a display we started has a cookie of its
// own that must not leak into the environment of the whole process.
type authConn struct {
	net.Conn
	cookie []byte // MIT-MAGIC-COOKIE-1 data, or nil for none

	once sync.Once
}

func (c *authConn) Write(b []byte) (int, error) {
	first := false
	c.once.Do(func() { first = true })
	if !first {
		return c.Conn.Write(b)
	}
	req, err := setupRequest(b, c.cookie)
	if err != nil {
		return 0, err
	}
	if _, err := c.Conn.Write(req); err != nil {
		return 0, err
	}
	return len(b), nil
}

// setupRequest rewrites the X connection setup request in b to carry cookie (none if nil).
// See the X11 protocol, "Connection Setup".
func setupRequest(b, cookie []byte) ([]byte, error) {
	if len(b) < 12 {
		return nil, errors.New("connection setup request too short")
	}
	var order binary.AppendByteOrder = binary.LittleEndian
	if b[0] == 'B' {
		order = binary.BigEndian
	}
	name := ""
	if cookie != nil {
		name = "MIT-MAGIC-COOKIE-1"
	}
	var req bytes.Buffer
	req.Write(b[:6]) // byte order, unused, protocol major and minor
	req.Write(order.AppendUint16(nil, uint16(len(name))))
	req.Write(order.AppendUint16(nil, uint16(len(cookie))))
	req.Write([]byte{0, 0})
	req.WriteString(name)
	req.Write(make([]byte, pad(len(name))))
	req.Write(cookie)
	req.Write(make([]byte, pad(len(cookie))))
	return req.Bytes(), nil
}

// pad returns the bytes needed to bring n to a multiple of 4.
func pad(n int) int { return (4 - n%4) % 4 }
