package wire

import (
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"slices"
)

// VeNCrypt version 0.2, the only one buktu speaks.
const (
	VeNCryptMajor = 0
	VeNCryptMinor = 2
)

// VeNCryptSubtype is a VeNCrypt sub-type number.
//
// VeNCrypt runs inside security type 19 (SecurityVeNCrypt). Version 0.2, the only one buktu
// speaks, goes:
//
//	server: version 0.2            AppendVeNCryptVersion     ReadVeNCryptVersion
//	client: version 0.2            AppendVeNCryptVersion     ReadVeNCryptVersion
//	server: version ack (0 = ok)   AppendVeNCryptVersionAck  ReadVeNCryptVersionAck
//	server: sub-type list          AppendVeNCryptSubtypes    ReadVeNCryptSubtypes
//	client: chosen sub-type        AppendVeNCryptSubtype     ReadVeNCryptChoice
//	server: TLS ack (1 = ok)       AppendVeNCryptTLSAck      ReadVeNCryptTLSAck   (TLS and X509 sub-types only)
//	        TLS handshake          (the session's job)
//	client: Plain credentials      PlainAuth.Append          ReadPlainAuth        (Plain sub-types only)
//	        VNC Authentication     (TLSVnc and X509Vnc)
//	server: SecurityResult
//
// See rfbproto, "VeNCrypt".
type VeNCryptSubtype uint32

// VeNCrypt sub-types. TLS* sub-types use anonymous TLS, X509* ones a certificate; the suffix
// names the authentication that follows the TLS handshake.
const (
	VeNCryptPlain     VeNCryptSubtype = 256
	VeNCryptTLSNone   VeNCryptSubtype = 257
	VeNCryptTLSVnc    VeNCryptSubtype = 258
	VeNCryptTLSPlain  VeNCryptSubtype = 259
	VeNCryptX509None  VeNCryptSubtype = 260
	VeNCryptX509Vnc   VeNCryptSubtype = 261
	VeNCryptX509Plain VeNCryptSubtype = 262
	VeNCryptTLSSASL   VeNCryptSubtype = 263
	VeNCryptX509SASL  VeNCryptSubtype = 264
)

// String names s for logs, such as "X509Plain".
func (s VeNCryptSubtype) String() string {
	switch s {
	case VeNCryptPlain:
		return "Plain"
	case VeNCryptTLSNone:
		return "TLSNone"
	case VeNCryptTLSVnc:
		return "TLSVnc"
	case VeNCryptTLSPlain:
		return "TLSPlain"
	case VeNCryptX509None:
		return "X509None"
	case VeNCryptX509Vnc:
		return "X509Vnc"
	case VeNCryptX509Plain:
		return "X509Plain"
	case VeNCryptTLSSASL:
		return "TLSSASL"
	case VeNCryptX509SASL:
		return "X509SASL"
	}
	return fmt.Sprintf("vencrypt(%d)", uint32(s))
}

// TLS reports whether s runs a TLS handshake (and so starts with the TLS ack).
func (s VeNCryptSubtype) TLS() bool { return s >= VeNCryptTLSNone && s <= VeNCryptX509SASL }

// X509 reports whether s wants a server certificate (the X509* sub-types).
func (s VeNCryptSubtype) X509() bool {
	return s >= VeNCryptX509None && s <= VeNCryptX509Plain || s == VeNCryptX509SASL
}

// Plain reports whether s authenticates with a username and password ([PlainAuth]).
func (s VeNCryptSubtype) Plain() bool {
	return s == VeNCryptPlain || s == VeNCryptTLSPlain || s == VeNCryptX509Plain
}

// AppendVeNCryptVersion appends VeNCrypt version 0.2; the server sends the highest version it
// speaks and the client answers with the version it chooses.
func AppendVeNCryptVersion(b []byte) []byte { return append(b, VeNCryptMajor, VeNCryptMinor) }

// ReadVeNCryptVersion reads a VeNCrypt version. It judges nothing: a server compares the
// client's choice with 0.2; a client answers 0.2 to a server offering 0.2 or more.
func ReadVeNCryptVersion(r io.Reader) (major, minor uint8, err error) {
	var b [2]byte
	if err := readFull(r, b[:]); err != nil {
		return 0, 0, fmt.Errorf("read vencrypt version: %w", err)
	}
	return b[0], b[1], nil
}

// AppendVeNCryptVersionAck appends the server's answer to the client's version: 0 when ok,
// 255 when not (and the server then closes the connection).
func AppendVeNCryptVersionAck(b []byte, ok bool) []byte {
	if ok {
		return append(b, 0)
	}
	return append(b, 255)
}

// ReadVeNCryptVersionAck reads the server's answer to the client's version; non-zero refuses.
func ReadVeNCryptVersionAck(r io.Reader) error {
	var b [1]byte
	if err := readFull(r, b[:]); err != nil {
		return fmt.Errorf("read vencrypt version ack: %w", err)
	}
	if b[0] != 0 {
		return &SecurityFailureError{Reason: "server refused the VeNCrypt version"}
	}
	return nil
}

// AppendVeNCryptSubtypes appends the server's list of sub-types (a U8 count and U32 types). It
// panics if the list is empty or longer than 255.
func AppendVeNCryptSubtypes(b []byte, subtypes []VeNCryptSubtype) []byte {
	if len(subtypes) == 0 || len(subtypes) > 255 {
		panic(fmt.Sprintf("wire: AppendVeNCryptSubtypes with %d sub-types", len(subtypes)))
	}
	b = append(b, uint8(len(subtypes)))
	for _, s := range subtypes {
		b = binary.BigEndian.AppendUint32(b, uint32(s))
	}
	return b
}

// ReadVeNCryptSubtypes reads the server's list of sub-types. An empty list is an error: the
// client could only hang up.
func ReadVeNCryptSubtypes(r io.Reader) ([]VeNCryptSubtype, error) {
	var n [1]byte
	if err := readFull(r, n[:]); err != nil {
		return nil, fmt.Errorf("read vencrypt sub-types: %w", err)
	}
	if n[0] == 0 {
		return nil, &SecurityFailureError{Reason: "server offers no VeNCrypt sub-types"}
	}
	b := make([]byte, 4*int(n[0]))
	if err := readFull(r, b); err != nil {
		return nil, fmt.Errorf("read vencrypt sub-types: %w", err)
	}
	subtypes := make([]VeNCryptSubtype, n[0])
	for i := range subtypes {
		subtypes[i] = VeNCryptSubtype(binary.BigEndian.Uint32(b[4*i:]))
	}
	return subtypes, nil
}

// AppendVeNCryptSubtype appends the sub-type the client chooses (a U32).
func AppendVeNCryptSubtype(b []byte, s VeNCryptSubtype) []byte {
	return binary.BigEndian.AppendUint32(b, uint32(s))
}

// ReadVeNCryptChoice reads the sub-type the client chooses and refuses one not in offered with
// an error matching [ErrNotOffered].
func ReadVeNCryptChoice(r io.Reader, offered []VeNCryptSubtype) (VeNCryptSubtype, error) {
	var b [4]byte
	if err := readFull(r, b[:]); err != nil {
		return 0, fmt.Errorf("read vencrypt choice: %w", err)
	}
	s := VeNCryptSubtype(binary.BigEndian.Uint32(b[:]))
	if !slices.Contains(offered, s) {
		return s, fmt.Errorf("read vencrypt choice: %v: %w", s, ErrNotOffered)
	}
	return s, nil
}

// AppendVeNCryptTLSAck appends the server's go-ahead for the TLS handshake of a TLS or X509
// sub-type: 1 when ok, 0 when not.
func AppendVeNCryptTLSAck(b []byte, ok bool) []byte { return append(b, boolByte(ok)) }

// ReadVeNCryptTLSAck reads the server's go-ahead for the TLS handshake; anything but 1 refuses.
func ReadVeNCryptTLSAck(r io.Reader) error {
	var b [1]byte
	if err := readFull(r, b[:]); err != nil {
		return fmt.Errorf("read vencrypt tls ack: %w", err)
	}
	if b[0] != 1 {
		return &SecurityFailureError{Reason: "server refused to start TLS"}
	}
	return nil
}

// PlainAuth is the username and password of the VeNCrypt Plain authentication, sent inside TLS
// by the TLSPlain and X509Plain sub-types. It keeps the password out of logs and %v.
// See rfbproto, "Plain subtype".
type PlainAuth struct {
	Username string
	Password string
}

// Append appends the Plain message: the U32 lengths of the username and the password, then
// both. Lengths over [MaxPlainLength] are sent, but a reader refuses them.
func (p PlainAuth) Append(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(p.Username)))
	b = binary.BigEndian.AppendUint32(b, uint32(len(p.Password)))
	b = append(b, p.Username...)
	return append(b, p.Password...)
}

// String shows the username only.
func (p PlainAuth) String() string { return fmt.Sprintf("{%s REDACTED}", p.Username) }

// LogValue shows the username only.
func (p PlainAuth) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", p.Username), slog.String("password", "REDACTED"))
}

// ReadPlainAuth reads a Plain message, refusing a username or password longer than
// [MaxPlainLength] bytes before reading either.
func ReadPlainAuth(r io.Reader) (PlainAuth, error) {
	var h [8]byte
	if err := readFull(r, h[:]); err != nil {
		return PlainAuth{}, fmt.Errorf("read plain auth: %w", err)
	}
	ul, pl := binary.BigEndian.Uint32(h[0:]), binary.BigEndian.Uint32(h[4:])
	if ul > MaxPlainLength || pl > MaxPlainLength {
		return PlainAuth{}, fmt.Errorf("read plain auth: username %d and password %d bytes, limit %d each: %w", ul, pl, MaxPlainLength, ErrTooLong)
	}
	b := make([]byte, ul+pl)
	if err := readFull(r, b); err != nil {
		return PlainAuth{}, fmt.Errorf("read plain auth: %w", err)
	}
	return PlainAuth{Username: string(b[:ul]), Password: string(b[ul:])}, nil
}
