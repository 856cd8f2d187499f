package wire

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strings"
	"unicode/utf8"
)

// ClipboardFlags are the flags that start every extended clipboard message: the formats it is
// about in the low 16 bits and the action in the high 8.
// See rfbproto, "Extended Clipboard Pseudo-Encoding".
type ClipboardFlags uint32

// Clipboard formats.
const (
	ClipboardText  ClipboardFlags = 1 << 0 // UTF-8 text, CRLF line ends, NUL terminated
	ClipboardRTF   ClipboardFlags = 1 << 1 // Microsoft Rich Text Format
	ClipboardHTML  ClipboardFlags = 1 << 2 // Microsoft HTML clipboard fragments
	ClipboardDIB   ClipboardFlags = 1 << 3 // Microsoft Device Independent Bitmap v5
	ClipboardFiles ClipboardFlags = 1 << 4 // reserved
)

// Clipboard actions. A caps message may combine them (the actions its sender accepts); any
// other message has exactly one.
const (
	ClipboardCaps    ClipboardFlags = 1 << 24 // the formats and actions the sender accepts, with Sizes
	ClipboardRequest ClipboardFlags = 1 << 25 // send me a provide for these formats
	ClipboardPeek    ClipboardFlags = 1 << 26 // send me a notify
	ClipboardNotify  ClipboardFlags = 1 << 27 // these formats are available
	ClipboardProvide ClipboardFlags = 1 << 28 // here is the data, in Data
)

// Formats returns the format bits of f.
func (f ClipboardFlags) Formats() ClipboardFlags { return f & 0xFFFF }

// Actions returns the action bits of f.
func (f ClipboardFlags) Actions() ClipboardFlags { return f & 0xFF000000 }

// Action says what a message does, for a switch: ClipboardCaps for a caps message (whose other
// action bits list what its sender accepts), otherwise its action bits (one, in a well-formed
// message).
func (f ClipboardFlags) Action() ClipboardFlags {
	if f&ClipboardCaps != 0 {
		return ClipboardCaps
	}
	return f.Actions()
}

// String lists the flags for logs, such as "text|provide".
func (f ClipboardFlags) String() string {
	names := []string{"text", "rtf", "html", "dib", "files"}
	actions := []string{"caps", "request", "peek", "notify", "provide"}
	var parts []string
	for i := range 32 {
		bit := ClipboardFlags(1) << i
		switch {
		case f&bit == 0:
		case i < len(names):
			parts = append(parts, names[i])
		case i >= 24 && i-24 < len(actions):
			parts = append(parts, actions[i-24])
		default:
			parts = append(parts, fmt.Sprintf("%#x", uint32(bit)))
		}
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "|")
}

// Clipboard is an extended clipboard message, the body of a [ClientClipboard] or
// [ServerClipboard]. A peer that listed [EncodingExtendedClipboard] but sent no caps is assumed
// to accept text, RTF and HTML with request, notify and provide, and unsolicited text up to
// 20 MiB.
// See rfbproto, "Extended Clipboard Pseudo-Encoding".
type Clipboard struct {
	Flags ClipboardFlags
	// Sizes, in a caps message only, gives the largest unsolicited provide the sender accepts
	// for each format bit set in Flags, lowest bit first (see [Clipboard.MaxSize]).
	Sizes []uint32
	// Data is what follows the flags (and sizes): in a provide message, a zlib stream holding a
	// U32 size and the data of each format in Flags, lowest bit first (see
	// [Clipboard.Text] and [ProvideText]); empty otherwise.
	Data []byte
}

// TextCaps returns the caps a server sends when a client lists [EncodingExtendedClipboard]:
// text only, with the request, peek, notify and provide actions, and unsolicited text up to
// maxText bytes (the spec recommends 0, which makes the peer notify and wait for a request).
func TextCaps(maxText uint32) Clipboard {
	return Clipboard{
		Flags: ClipboardCaps | ClipboardRequest | ClipboardPeek | ClipboardNotify | ClipboardProvide | ClipboardText,
		Sizes: []uint32{maxText},
	}
}

// ProvideText returns a provide message holding text: each LF becomes CRLF and a NUL is
// added, as the spec asks, and the whole is zlib compressed. [Clipboard.Text] undoes exactly
// this, so text without NULs and in valid UTF-8 comes back unchanged.
func ProvideText(text string) Clipboard {
	t := strings.ReplaceAll(text, "\n", "\r\n")
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	// Writes to a bytes.Buffer cannot fail.
	zw.Write(binary.BigEndian.AppendUint32(nil, uint32(len(t)+1)))
	io.WriteString(zw, t)
	zw.Write([]byte{0})
	zw.Close()
	return Clipboard{Flags: ClipboardProvide | ClipboardText, Data: z.Bytes()}
}

// MaxSize returns the size a caps message gives for format (one format bit), and false when
// c is not a caps message or does not list the format.
func (c Clipboard) MaxSize(format ClipboardFlags) (uint32, bool) {
	if c.Flags&ClipboardCaps == 0 || bits.OnesCount32(uint32(format)) != 1 || c.Flags.Formats()&format == 0 {
		return 0, false
	}
	i := bits.OnesCount32(uint32(c.Flags.Formats() & (format - 1)))
	if i >= len(c.Sizes) {
		return 0, false
	}
	return c.Sizes[i], true
}

// ErrNoText reports a clipboard message that holds no text.
var ErrNoText = errors.New("wire: clipboard message holds no text")

// Text returns the text of a provide message, refusing text of more than max bytes (as sent,
// NUL included) with an error matching [ErrTooLong]. It inflates no more than that, whatever
// the stream claims, and needs no end to the stream (peers flush it without finishing it).
// Line ends become LF, the text ends at the first NUL, and invalid UTF-8 becomes U+FFFD. A
// message that is not a provide or holds no text is an error matching [ErrNoText].
func (c Clipboard) Text(max int) (string, error) {
	if c.Flags.Action() != ClipboardProvide || c.Flags&ClipboardText == 0 {
		return "", fmt.Errorf("read clipboard text from %v: %w", c.Flags, ErrNoText)
	}
	zr, err := zlib.NewReader(bytes.NewReader(c.Data))
	if err != nil {
		return "", fmt.Errorf("read clipboard text: %w", err)
	}
	var h [4]byte
	if err := readFull(zr, h[:]); err != nil {
		return "", fmt.Errorf("read clipboard text: %w", err)
	}
	n := binary.BigEndian.Uint32(h[:])
	if int64(n) > int64(max) {
		return "", fmt.Errorf("read clipboard text: %d bytes, limit %d: %w", n, max, ErrTooLong)
	}
	b, err := readN(zr, int(n))
	if err != nil {
		return "", fmt.Errorf("read clipboard text: %w", err)
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	t := strings.ReplaceAll(string(b), "\r\n", "\n")
	return strings.ToValidUTF8(t, "\uFFFD"), nil
}

// DecodeLatin1 returns the ISO 8859-1 text of an original-form cut-text message as UTF-8.
func DecodeLatin1(b []byte) string {
	var s strings.Builder
	s.Grow(len(b))
	for _, c := range b {
		s.WriteRune(rune(c))
	}
	return s.String()
}

// EncodeLatin1 returns s as ISO 8859-1 for an original-form cut-text message; characters
// outside ISO 8859-1 become '?'.
func EncodeLatin1(s string) []byte {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xFF || r == utf8.RuneError {
			r = '?'
		}
		b = append(b, byte(r))
	}
	return b
}

// appendCutText appends a cut-text message of the original form.
func appendCutText(b []byte, typ uint8, text []byte) []byte {
	if len(text) > math.MaxInt32 {
		panic(fmt.Sprintf("wire: cut text of %d bytes", len(text)))
	}
	b = append(b, typ, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(len(text)))
	return append(b, text...)
}

// appendClipboard appends a cut-text message of the extended form. It panics when Sizes does
// not match the caps flag and formats, or when the message would reach 2 GiB.
func appendClipboard(b []byte, typ uint8, c Clipboard) []byte {
	want := 0
	if c.Flags&ClipboardCaps != 0 {
		want = bits.OnesCount32(uint32(c.Flags.Formats()))
	}
	if len(c.Sizes) != want {
		panic(fmt.Sprintf("wire: clipboard message %v with %d sizes, want %d", c.Flags, len(c.Sizes), want))
	}
	n := 4 + 4*len(c.Sizes) + len(c.Data)
	if n > math.MaxInt32 {
		panic(fmt.Sprintf("wire: clipboard message of %d bytes", n))
	}
	b = append(b, typ, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(-int32(n)))
	b = binary.BigEndian.AppendUint32(b, uint32(c.Flags))
	for _, s := range c.Sizes {
		b = binary.BigEndian.AppendUint32(b, s)
	}
	return append(b, c.Data...)
}

// readCutText reads a cut-text message after its type byte, in either form. A length over the
// limit, or an extended message too short for its flags and sizes, is skipped and refused.
func readCutText(r io.Reader, limits Limits) (text []byte, clip Clipboard, extended bool, err error) {
	var h [7]byte
	if err := readFull(r, h[:]); err != nil {
		return nil, Clipboard{}, false, err
	}
	length := int32(binary.BigEndian.Uint32(h[3:]))
	extended = length < 0
	n := int64(length)
	if extended {
		n = -n
	}
	if max := int64(limits.maxCutText()); n > max {
		if err := discard(r, n); err != nil {
			return nil, Clipboard{}, false, err
		}
		return nil, Clipboard{}, false, fmt.Errorf("%d bytes, limit %d: %w", n, max, ErrTooLong)
	}
	b, err := readN(r, int(n))
	if err != nil || !extended {
		return b, Clipboard{}, false, err
	}
	clip, err = parseClipboard(b)
	return nil, clip, true, err
}

// parseClipboard parses the body of an extended cut-text message. Empty Sizes and Data are nil.
func parseClipboard(b []byte) (Clipboard, error) {
	if len(b) < 4 {
		return Clipboard{}, fmt.Errorf("extended clipboard message of %d bytes, shorter than its flags", len(b))
	}
	c := Clipboard{Flags: ClipboardFlags(binary.BigEndian.Uint32(b))}
	b = b[4:]
	if c.Flags&ClipboardCaps != 0 {
		n := bits.OnesCount32(uint32(c.Flags.Formats()))
		if len(b) < 4*n {
			return Clipboard{}, fmt.Errorf("extended clipboard caps for %d formats in %d bytes", n, len(b))
		}
		if n > 0 {
			c.Sizes = make([]uint32, n)
		}
		for i := range c.Sizes {
			c.Sizes[i] = binary.BigEndian.Uint32(b[4*i:])
		}
		b = b[4*n:]
	}
	if len(b) > 0 {
		c.Data = b
	}
	return c, nil
}
