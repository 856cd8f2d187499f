package ports

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Socket states as the kernel prints them in /proc/net/{tcp,udp}[6] (include/net/tcp_states.h).
const (
	stateListen = 0x0A // TCP_LISTEN
	stateClose  = 0x07 // TCP_CLOSE: for UDP, a bound socket that is not connected
)

// socket is one line of /proc/net/{tcp,tcp6,udp,udp6}: the fields buktu uses.
type socket struct {
	local  netip.AddrPort
	remote netip.AddrPort
	state  uint8
	uid    uint32 // the socket's owner (the creator's effective uid)
	inode  uint64 // matches "socket:[inode]" links under /proc/PID/fd
}

// listening reports whether the socket, read from a file of the given protocol ("tcp", "udp6"…),
// accepts traffic: a TCP socket in LISTEN, or an unconnected UDP socket.
func (s socket) listening(proto string) bool {
	if strings.HasPrefix(proto, "tcp") {
		return s.state == stateListen
	}
	return s.state == stateClose
}

// parseNetLine parses one socket line of /proc/net/{tcp,tcp6,udp,udp6}, for example
//
//	0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1145 1 …
//
// Fields are sl, local, remote, state, tx:rx queue, timer, retransmits, uid, timeout, inode; what
// follows differs between TCP and UDP and is ignored.
func parseNetLine(line string) (socket, error) {
	f := strings.Fields(line)
	if len(f) < 10 {
		return socket{}, fmt.Errorf("want at least 10 fields, got %d", len(f))
	}
	if !strings.HasSuffix(f[0], ":") {
		return socket{}, fmt.Errorf("bad slot %q", f[0])
	}
	var s socket
	var err error
	if s.local, err = parseHexAddrPort(f[1]); err != nil {
		return socket{}, fmt.Errorf("local address: %w", err)
	}
	if s.remote, err = parseHexAddrPort(f[2]); err != nil {
		return socket{}, fmt.Errorf("remote address: %w", err)
	}
	if s.local.Addr().Is4() != s.remote.Addr().Is4() {
		return socket{}, errors.New("local and remote address families differ")
	}
	state, err := parseHex(f[3], 8)
	if err != nil {
		return socket{}, fmt.Errorf("state: %w", err)
	}
	s.state = uint8(state)
	uid, err := strconv.ParseUint(f[7], 10, 32)
	if err != nil {
		return socket{}, fmt.Errorf("uid %q: not a 32-bit number", f[7])
	}
	s.uid = uint32(uid)
	if s.inode, err = strconv.ParseUint(f[9], 10, 64); err != nil {
		return socket{}, fmt.Errorf("inode %q: not a 64-bit number", f[9])
	}
	return s, nil
}

// appendLine formats s the way the kernel does, zeroing the fields buktu does not keep; the
// result parses back to s.
func (s socket) appendLine(b []byte) []byte {
	b = append(b, "   0: "...)
	b = appendHexAddrPort(b, s.local)
	b = append(b, ' ')
	b = appendHexAddrPort(b, s.remote)
	b = fmt.Appendf(b, " %02X 00000000:00000000 00:00000000 00000000 %5d        0 %d", s.state, s.uid, s.inode)
	return b
}

// parseHexAddrPort parses "0100007F:0016". The kernel prints an IPv4 address as one 32-bit word
// and an IPv6 address as four, each with %08X in host byte order, so the bytes of each word come
// out reversed on little-endian machines; the port is a plain number.
func parseHexAddrPort(s string) (netip.AddrPort, error) {
	addrText, portText, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("%q: no colon", s)
	}
	port, err := parseHex(portText, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("port: %w", err)
	}
	if len(addrText) != 8 && len(addrText) != 32 {
		return netip.AddrPort{}, fmt.Errorf("address %q: want 8 or 32 hex digits", addrText)
	}
	var raw [16]byte
	for i := 0; i < len(addrText)/8; i++ {
		word, err := parseHex(addrText[8*i:8*i+8], 32)
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("address: %w", err)
		}
		binary.NativeEndian.PutUint32(raw[4*i:], uint32(word))
	}
	var addr netip.Addr
	if len(addrText) == 8 {
		addr = netip.AddrFrom4([4]byte(raw[:4]))
	} else {
		addr = netip.AddrFrom16(raw)
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

func appendHexAddrPort(b []byte, ap netip.AddrPort) []byte {
	raw := ap.Addr().AsSlice()
	for i := 0; i+4 <= len(raw); i += 4 {
		b = fmt.Appendf(b, "%08X", binary.NativeEndian.Uint32(raw[i:]))
	}
	return fmt.Appendf(b, ":%04X", ap.Port())
}

// parseHex parses unsigned hex digits only: no sign, prefix or underscores.
func parseHex(s string, bits int) (uint64, error) {
	if s == "" || strings.TrimLeft(s, "0123456789abcdefABCDEF") != "" {
		return 0, fmt.Errorf("%q: not hex", s)
	}
	v, err := strconv.ParseUint(s, 16, bits)
	if err != nil {
		return 0, fmt.Errorf("%q: more than %d bits", s, bits)
	}
	return v, nil
}

// netProtos are the files under PROC/net that list sockets, named as Listener.Proto reports them.
var netProtos = [...]string{"tcp", "tcp6", "udp", "udp6"}

// protoSocket is a socket and the file it was listed in.
type protoSocket struct {
	proto string
	socket
}

// readListeners returns the listening sockets on the wanted ports, from PROC/net/{tcp,tcp6,udp,udp6}.
// A missing file (no IPv6 in the kernel) lists nothing.
func readListeners(proc string, wanted map[int]bool) ([]protoSocket, error) {
	var out []protoSocket
	for _, proto := range netProtos {
		name := filepath.Join(proc, "net", proto)
		data, err := os.ReadFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read socket table: %w", err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			if n == 1 || strings.TrimSpace(line) == "" {
				continue // the header
			}
			s, err := parseNetLine(line)
			if err != nil {
				return nil, fmt.Errorf("parse %s line %d: %w", name, n, err)
			}
			if wanted[int(s.local.Port())] && s.listening(proto) {
				out = append(out, protoSocket{proto, s})
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
	}
	return out, nil
}
