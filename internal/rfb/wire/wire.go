package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Default limits, used where a [Limits] field is zero.
const (
	// DefaultMaxCutText is the default for [Limits.MaxCutText]: 1 MiB.
	DefaultMaxCutText = 1 << 20
	// DefaultMaxEncodings is the default for [Limits.MaxEncodings].
	DefaultMaxEncodings = 1024
)

// Fixed bounds of the protocol and of this package.
const (
	// MaxReasonLength bounds a failure reason read from a server (security failures).
	MaxReasonLength = 4096
	// MaxNameLength bounds a desktop name read from a server (ServerInit, DesktopName).
	MaxNameLength = 4096
	// MaxPlainLength bounds each of the username and password of VeNCrypt Plain.
	MaxPlainLength = 1024
	// MaxFencePayload is the largest fence payload the protocol allows.
	MaxFencePayload = 64
)

// Limits bounds what [ReadClientMessage] and [ReadServerMessage] accept from a peer. The zero
// value means the defaults.
type Limits struct {
	// MaxCutText is the largest cut-text payload accepted, in bytes: the Latin-1 text of the
	// original form, or the whole extended-clipboard message (flags plus compressed data) of
	// the extended form. Zero or less means DefaultMaxCutText.
	MaxCutText int
	// MaxEncodings is the largest number of encodings accepted in one SetEncodings message.
	// Zero or less means DefaultMaxEncodings.
	MaxEncodings int
}

func (l Limits) maxCutText() int {
	if l.MaxCutText <= 0 {
		return DefaultMaxCutText
	}
	return l.MaxCutText
}

func (l Limits) maxEncodings() int {
	if l.MaxEncodings <= 0 {
		return DefaultMaxEncodings
	}
	return l.MaxEncodings
}

// ErrTooLong reports a length field over a limit. Where [ReadClientMessage] or
// [ReadServerMessage] return it, they have consumed the whole message first, so the stream is
// still in step and the caller may drop that one message and carry on.
var ErrTooLong = errors.New("wire: length over limit")

// ErrUnknownMessage reports a message type this package does not know. Its length is unknown
// too, so the stream cannot be resynchronised: the session must end the connection. The error
// is an [*UnknownMessageError], which carries the type byte.
var ErrUnknownMessage = errors.New("wire: unknown message type")

// UnknownMessageError reports a message type byte this package does not know.
type UnknownMessageError struct {
	// Type is the message-type byte.
	Type uint8
	// SubType is the sub-message type of a QEMU message (Type 255); zero otherwise.
	SubType uint8
	// FromServer says the message came from a server (false: from a client).
	FromServer bool
}

func (e *UnknownMessageError) Error() string {
	from := "client"
	if e.FromServer {
		from = "server"
	}
	if e.Type == msgQEMU && !e.FromServer {
		return fmt.Sprintf("wire: unknown %s message type %d, sub-type %d", from, e.Type, e.SubType)
	}
	return fmt.Sprintf("wire: unknown %s message type %d", from, e.Type)
}

// Unwrap makes errors.Is(err, ErrUnknownMessage) true.
func (e *UnknownMessageError) Unwrap() error { return ErrUnknownMessage }

// chunk is how much a reader allocates ahead of the bytes it has received.
const chunk = 64 << 10

// readFull fills b; running out of input at any point is io.ErrUnexpectedEOF.
func readFull(r io.Reader, b []byte) error {
	_, err := io.ReadFull(r, b)
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readN reads n bytes, growing the buffer at most one chunk ahead of the input, so a peer that
// announces a large length and sends little costs little. n must be within a checked limit.
// Zero bytes read as nil.
func readN(r io.Reader, n int) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	if n <= chunk {
		b := make([]byte, n)
		return b, readFull(r, b)
	}
	b := make([]byte, 0, chunk)
	for len(b) < n {
		step := min(n-len(b), chunk)
		b = slices.Grow(b, step)
		if err := readFull(r, b[len(b):len(b)+step]); err != nil {
			return nil, err
		}
		b = b[:len(b)+step]
	}
	return b, nil
}

// discard skips n bytes of input.
func discard(r io.Reader, n int64) error {
	got, err := io.CopyN(io.Discard, r, n)
	if got < n && (err == nil || err == io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readString reads a U32 length and that many bytes, refusing lengths over max.
func readString(r io.Reader, max int) (string, error) {
	var h [4]byte
	if err := readFull(r, h[:]); err != nil {
		return "", err
	}
	n := binary.BigEndian.Uint32(h[:])
	if n > uint32(max) {
		return "", fmt.Errorf("%d bytes, limit %d: %w", n, max, ErrTooLong)
	}
	b, err := readN(r, int(n))
	return string(b), err
}

// appendString appends a U32 length and s.
func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}
