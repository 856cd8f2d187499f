package wire

import (
	"crypto/des"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"
)

// VersionLength is the size of a ProtocolVersion message.
const VersionLength = 12

// Version is a protocol version that buktu speaks: V33, V37 or V38.
// See RFC 6143, section 7.1.1.
type Version uint8

// The published protocol versions, valued by their minor number.
const (
	V33 Version = 3
	V37 Version = 7
	V38 Version = 8
)

// String returns "3.3", "3.7" or "3.8".
func (v Version) String() string { return fmt.Sprintf("3.%d", uint8(v)) }

// Append appends the ProtocolVersion message for v, such as "RFB 003.008\n".
// See RFC 6143, section 7.1.1.
func (v Version) Append(b []byte) []byte {
	return fmt.Appendf(b, "RFB 003.%03d\n", uint8(v))
}

// ParseVersion parses a 12-byte ProtocolVersion message. Versions other than the published
// ones map as peers expect: 3.4 to 3.6 (3.5 was reported by old clients) are 3.3, anything
// from 3.8 up (Apple's 3.889, RealVNC's 4.x and 5.x) is 3.8, and below 3.3 is refused.
// See RFC 6143, section 7.1.1.
func ParseVersion(b []byte) (Version, error) {
	if len(b) != VersionLength || string(b[:4]) != "RFB " || b[7] != '.' || b[11] != '\n' {
		return 0, fmt.Errorf("parse protocol version %q: not an RFB version", b)
	}
	major, ok1 := decimal3(b[4:7])
	minor, ok2 := decimal3(b[8:11])
	if !ok1 || !ok2 {
		return 0, fmt.Errorf("parse protocol version %q: not an RFB version", b)
	}
	switch {
	case major > 3 || major == 3 && minor >= 8:
		return V38, nil
	case major == 3 && minor == 7:
		return V37, nil
	case major == 3 && minor >= 3:
		return V33, nil
	}
	return 0, fmt.Errorf("parse protocol version %q: version %d.%d is too old", b, major, minor)
}

func decimal3(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// ReadVersion reads and parses a ProtocolVersion message.
func ReadVersion(r io.Reader) (Version, error) {
	var b [VersionLength]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, fmt.Errorf("read protocol version: %w", err)
	}
	return ParseVersion(b[:])
}

// SecurityType is a security type number.
// See RFC 6143, sections 7.1.2 and 8.1.2.
type SecurityType uint8

// Security types buktu knows.
const (
	SecurityInvalid  SecurityType = 0
	SecurityNone     SecurityType = 1  // RFC 6143, section 7.2.1
	SecurityVNCAuth  SecurityType = 2  // RFC 6143, section 7.2.2
	SecurityTight    SecurityType = 16 // rfbproto, "Tight Security Type"
	SecurityVeNCrypt SecurityType = 19 // rfbproto, "VeNCrypt"
)

// String names t for logs.
func (t SecurityType) String() string {
	switch t {
	case SecurityInvalid:
		return "invalid"
	case SecurityNone:
		return "none"
	case SecurityVNCAuth:
		return "vnc-auth"
	case SecurityTight:
		return "tight"
	case SecurityVeNCrypt:
		return "vencrypt"
	}
	return fmt.Sprintf("security(%d)", uint8(t))
}

// ErrNotOffered reports a peer choosing a security type or VeNCrypt sub-type that was not
// offered to it.
var ErrNotOffered = errors.New("wire: security type not offered")

// SecurityFailureError is a failure the server reported during the security handshake, with
// its reason when the protocol version carries one.
type SecurityFailureError struct {
	Reason string
}

func (e *SecurityFailureError) Error() string {
	if e.Reason == "" {
		return "wire: server refused the connection"
	}
	return fmt.Sprintf("wire: server refused the connection: %q", e.Reason)
}

// AppendSecurityTypes appends a server's list of security types for versions 3.7 and 3.8. It
// panics if types is empty (send [AppendSecurityFailure] instead) or longer than 255.
// See RFC 6143, section 7.1.2.
func AppendSecurityTypes(b []byte, types []SecurityType) []byte {
	if len(types) == 0 || len(types) > 255 {
		panic(fmt.Sprintf("wire: AppendSecurityTypes with %d types", len(types)))
	}
	b = append(b, uint8(len(types)))
	for _, t := range types {
		b = append(b, uint8(t))
	}
	return b
}

// AppendSecurityType33 appends the security type a version 3.3 server decides on (a U32).
// See RFC 6143, section 7.1.2.
func AppendSecurityType33(b []byte, t SecurityType) []byte {
	return binary.BigEndian.AppendUint32(b, uint32(t))
}

// AppendSecurityFailure appends a server's refusal at the security step: no security types,
// then the reason. It takes the 3.3 form (a U32 zero) when v is V33.
// See RFC 6143, section 7.1.2.
func AppendSecurityFailure(b []byte, v Version, reason string) []byte {
	if v == V33 {
		b = binary.BigEndian.AppendUint32(b, 0)
	} else {
		b = append(b, 0)
	}
	return appendString(b, reason)
}

// ReadSecurityTypes reads what a server offers at the security step: for 3.7 and 3.8 the list
// of types, for 3.3 the single type the server decided on. A refusal with its reason is a
// [*SecurityFailureError]. The list may hold types the caller does not know.
// See RFC 6143, section 7.1.2.
func ReadSecurityTypes(r io.Reader, v Version) ([]SecurityType, error) {
	var n int
	if v == V33 {
		var b [4]byte
		if err := readFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("read security type: %w", err)
		}
		switch t := binary.BigEndian.Uint32(b[:]); t {
		case 0:
		case uint32(SecurityNone), uint32(SecurityVNCAuth):
			return []SecurityType{SecurityType(t)}, nil
		default:
			return nil, fmt.Errorf("read security type: %d is not valid in version 3.3", t)
		}
	} else {
		var b [1]byte
		if err := readFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("read security types: %w", err)
		}
		n = int(b[0])
	}
	if n == 0 {
		reason, err := readString(r, MaxReasonLength)
		if err != nil {
			return nil, fmt.Errorf("read security failure reason: %w", err)
		}
		return nil, &SecurityFailureError{Reason: reason}
	}
	b := make([]byte, n)
	if err := readFull(r, b); err != nil {
		return nil, fmt.Errorf("read security types: %w", err)
	}
	types := make([]SecurityType, n)
	for i, t := range b {
		types[i] = SecurityType(t)
	}
	return types, nil
}

// AppendSecurityChoice appends the security type a 3.7 or 3.8 client chooses.
// See RFC 6143, section 7.1.2.
func AppendSecurityChoice(b []byte, t SecurityType) []byte { return append(b, uint8(t)) }

// ReadSecurityChoice reads the security type a 3.7 or 3.8 client chooses, and refuses one not
// in offered with an error matching [ErrNotOffered].
// See RFC 6143, section 7.1.2.
func ReadSecurityChoice(r io.Reader, offered []SecurityType) (SecurityType, error) {
	var b [1]byte
	if err := readFull(r, b[:]); err != nil {
		return 0, fmt.Errorf("read security choice: %w", err)
	}
	t := SecurityType(b[0])
	if !slices.Contains(offered, t) {
		return t, fmt.Errorf("read security choice: %v: %w", t, ErrNotOffered)
	}
	return t, nil
}

// SecurityResult status values.
const (
	securityOK     = 0
	securityFailed = 1
)

// AppendSecurityResultOK appends a SecurityResult saying the security handshake succeeded.
// See RFC 6143, section 7.1.3.
func AppendSecurityResultOK(b []byte) []byte {
	return binary.BigEndian.AppendUint32(b, securityOK)
}

// AppendSecurityResultFailed appends a SecurityResult saying the security handshake failed,
// with the reason when v is V38 (earlier versions carry none).
// See RFC 6143, section 7.1.3.
func AppendSecurityResultFailed(b []byte, v Version, reason string) []byte {
	b = binary.BigEndian.AppendUint32(b, securityFailed)
	if v == V38 {
		b = appendString(b, reason)
	}
	return b
}

// ReadSecurityResult reads a SecurityResult: nil for success, a [*SecurityFailureError] for
// failure (with the reason in 3.8). Any non-zero status is a failure.
// See RFC 6143, section 7.1.3.
func ReadSecurityResult(r io.Reader, v Version) error {
	var b [4]byte
	if err := readFull(r, b[:]); err != nil {
		return fmt.Errorf("read security result: %w", err)
	}
	if binary.BigEndian.Uint32(b[:]) == securityOK {
		return nil
	}
	if v != V38 {
		return &SecurityFailureError{}
	}
	reason, err := readString(r, MaxReasonLength)
	if err != nil {
		return fmt.Errorf("read security failure reason: %w", err)
	}
	return &SecurityFailureError{Reason: reason}
}

// VNCAuthLength is the size of the challenge and of the response of VNC Authentication.
const VNCAuthLength = 16

// NewVNCAuthChallenge returns a random challenge for VNC Authentication. The challenge and the
// client's response are each 16 raw bytes on the wire.
// See RFC 6143, section 7.2.2.
func NewVNCAuthChallenge() [VNCAuthLength]byte {
	var c [VNCAuthLength]byte
	rand.Read(c[:]) // never fails, per crypto/rand
	return c
}

// VNCAuthResponse returns the response to challenge for password: the challenge encrypted with
// DES in ECB mode, keyed by the password's first 8 bytes (zero padded) with the bits of each
// byte reversed, as every VNC implementation does.
// See RFC 6143, section 7.2.2.
func VNCAuthResponse(password string, challenge [VNCAuthLength]byte) [VNCAuthLength]byte {
	var key [8]byte
	copy(key[:], password)
	for i, c := range key {
		key[i] = bits.Reverse8(c)
	}
	block, err := des.NewCipher(key[:])
	if err != nil {
		panic(err) // only for a key that is not 8 bytes
	}
	var resp [VNCAuthLength]byte
	block.Encrypt(resp[:8], challenge[:8])
	block.Encrypt(resp[8:], challenge[8:])
	return resp
}

// VNCAuthCheck reports, in constant time, whether response answers challenge for password.
func VNCAuthCheck(password string, challenge, response [VNCAuthLength]byte) bool {
	want := VNCAuthResponse(password, challenge)
	return subtle.ConstantTimeCompare(want[:], response[:]) == 1
}

// AppendClientInit appends a ClientInit message: whether the client lets other clients stay
// connected.
// See RFC 6143, section 7.3.1.
func AppendClientInit(b []byte, shared bool) []byte { return append(b, boolByte(shared)) }

// ReadClientInit reads a ClientInit message.
// See RFC 6143, section 7.3.1.
func ReadClientInit(r io.Reader) (shared bool, err error) {
	var b [1]byte
	if err := readFull(r, b[:]); err != nil {
		return false, fmt.Errorf("read client init: %w", err)
	}
	return b[0] != 0, nil
}

// ServerInit tells the client the framebuffer's size, the server's pixel format and the
// desktop's name (UTF-8, at most [MaxNameLength] bytes for a reader to accept it).
// See RFC 6143, section 7.3.2.
type ServerInit struct {
	Width, Height uint16
	Format        PixelFormat
	Name          string
}

// Append appends the ServerInit message.
func (s ServerInit) Append(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, s.Width)
	b = binary.BigEndian.AppendUint16(b, s.Height)
	b = s.Format.Append(b)
	return appendString(b, s.Name)
}

// ReadServerInit reads a ServerInit message. It does not validate the pixel format: a client
// that cannot use it sends SetPixelFormat.
// See RFC 6143, section 7.3.2.
func ReadServerInit(r io.Reader) (ServerInit, error) {
	var b [4 + PixelFormatLength]byte
	if err := readFull(r, b[:]); err != nil {
		return ServerInit{}, fmt.Errorf("read server init: %w", err)
	}
	pf, err := ParsePixelFormat(b[4:])
	if err != nil {
		return ServerInit{}, fmt.Errorf("read server init: %w", err)
	}
	name, err := readString(r, MaxNameLength)
	if err != nil {
		return ServerInit{}, fmt.Errorf("read server init name: %w", err)
	}
	return ServerInit{
		Width:  binary.BigEndian.Uint16(b[0:]),
		Height: binary.BigEndian.Uint16(b[2:]),
		Format: pf,
		Name:   name,
	}, nil
}
