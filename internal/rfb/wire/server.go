package wire

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Server-to-client message types.
// See RFC 6143, sections 7.6 and 8.1.2, and rfbproto, "Server to Client Messages".
const (
	msgFramebufferUpdate      = 0
	msgSetColourMapEntries    = 1
	msgBell                   = 2
	msgServerCutText          = 3
	msgEndOfContinuousUpdates = 150
	msgServerFence            = 248
)

// ServerMessage is a message from server to client, as [ReadServerMessage] returns it: one of
// [FramebufferUpdate] (its header only), [SetColourMapEntries], [Bell], [ServerCutText],
// [ServerClipboard], [EndOfContinuousUpdates] or [ServerFence].
type ServerMessage interface {
	// Append appends the whole message, type byte included; for a FramebufferUpdate, its
	// header.
	Append(b []byte) []byte
	serverMessage()
}

// RectsUntilLastRect is the rectangle count of a FramebufferUpdate that ends with a LastRect
// rectangle instead; only a client that listed [EncodingLastRect] may receive it.
// See rfbproto, "LastRect Pseudo-encoding".
const RectsUntilLastRect = 0xFFFF

// FramebufferUpdate is the header of a framebuffer update: Rects rectangles follow, each a
// [RectHeader] and a body in its encoding. [ReadServerMessage] reads only this header, so the
// client reads the rectangles one by one with [ReadRectHeader] and hands each body to a decoder.
// See RFC 6143, section 7.6.1.
type FramebufferUpdate struct {
	Rects uint16
}

// RectHeaderLength is the size of a RectHeader on the wire.
const RectHeaderLength = 12

// RectHeader starts each rectangle of a framebuffer update. For a pseudo-encoding, the fields
// mean what that pseudo-encoding says (a cursor's hotspot, a resize's reason and status).
// See RFC 6143, section 7.6.1.
type RectHeader struct {
	X, Y, Width, Height uint16
	Encoding            Encoding
}

// Append appends the 12-byte rectangle header.
func (h RectHeader) Append(b []byte) []byte {
	b = appendArea(b, h.X, h.Y, h.Width, h.Height)
	return binary.BigEndian.AppendUint32(b, uint32(h.Encoding))
}

// ReadRectHeader reads a rectangle header.
// See RFC 6143, section 7.6.1.
func ReadRectHeader(r io.Reader) (RectHeader, error) {
	var b [RectHeaderLength]byte
	if err := readFull(r, b[:]); err != nil {
		return RectHeader{}, fmt.Errorf("read rectangle header: %w", err)
	}
	x, y, w, h := parseArea(b[:])
	return RectHeader{X: x, Y: y, Width: w, Height: h, Encoding: Encoding(binary.BigEndian.Uint32(b[8:]))}, nil
}

// Colour is a colour-map entry, each channel from 0 to 65535.
type Colour struct {
	R, G, B uint16
}

// SetColourMapEntries sets colour-map entries from First on. buktu never sends it (it serves
// true colour only) but its client can read it.
// See RFC 6143, section 7.6.2.
type SetColourMapEntries struct {
	First   uint16
	Colours []Colour
}

// Bell rings the client's bell.
// See RFC 6143, section 7.6.3.
type Bell struct{}

// ServerCutText is the server's new clipboard text in the original form: ISO 8859-1 (see
// [EncodeLatin1]) with bare LF line ends.
// See RFC 6143, section 7.6.4.
type ServerCutText struct {
	Text []byte
}

// ServerClipboard is a ServerCutText message in the extended form, which a server may send
// only to a client that listed [EncodingExtendedClipboard].
// See rfbproto, "Extended Clipboard Pseudo-Encoding".
type ServerClipboard struct {
	Clipboard
}

// EndOfContinuousUpdates tells the client that continuous updates have stopped; a server also
// sends it once to say it supports them.
// See rfbproto, "EndOfContinuousUpdates".
type EndOfContinuousUpdates struct{}

// ServerFence asks the client to synchronise (FenceRequest set) or answers a ClientFence.
// Payload holds at most [MaxFencePayload] bytes; Append panics on more.
// See rfbproto, "ServerFence".
type ServerFence struct {
	Flags   FenceFlags
	Payload []byte
}

func (FramebufferUpdate) serverMessage()      {}
func (SetColourMapEntries) serverMessage()    {}
func (Bell) serverMessage()                   {}
func (ServerCutText) serverMessage()          {}
func (ServerClipboard) serverMessage()        {}
func (EndOfContinuousUpdates) serverMessage() {}
func (ServerFence) serverMessage()            {}

// Append appends the 4-byte header.
func (m FramebufferUpdate) Append(b []byte) []byte {
	return binary.BigEndian.AppendUint16(append(b, msgFramebufferUpdate, 0), m.Rects)
}

// Append appends the message. It panics on more than 65535 colours.
func (m SetColourMapEntries) Append(b []byte) []byte {
	if len(m.Colours) > math.MaxUint16 {
		panic(fmt.Sprintf("wire: SetColourMapEntries with %d colours", len(m.Colours)))
	}
	b = append(b, msgSetColourMapEntries, 0)
	b = binary.BigEndian.AppendUint16(b, m.First)
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Colours)))
	for _, c := range m.Colours {
		b = binary.BigEndian.AppendUint16(b, c.R)
		b = binary.BigEndian.AppendUint16(b, c.G)
		b = binary.BigEndian.AppendUint16(b, c.B)
	}
	return b
}

// Append appends the message.
func (Bell) Append(b []byte) []byte { return append(b, msgBell) }

// Append appends the message. It panics on text of 2 GiB or more, which the original form
// cannot carry.
func (m ServerCutText) Append(b []byte) []byte {
	return appendCutText(b, msgServerCutText, m.Text)
}

// Append appends the message.
func (m ServerClipboard) Append(b []byte) []byte {
	return appendClipboard(b, msgServerCutText, m.Clipboard)
}

// Append appends the message.
func (EndOfContinuousUpdates) Append(b []byte) []byte { return append(b, msgEndOfContinuousUpdates) }

// Append appends the message.
func (m ServerFence) Append(b []byte) []byte {
	return appendFence(b, msgServerFence, m.Flags, m.Payload)
}

// ReadServerMessage reads one message from a server; for a [FramebufferUpdate], only its
// header. It returns [io.EOF] if the stream ends before the message starts. An unknown message
// type is an error matching [ErrUnknownMessage], after which the client must end the
// connection; so is a fence over 64 bytes ([ErrFenceTooLong]). A length over limits is an error matching [ErrTooLong] after the message has been
// skipped, so the client may carry on. r should be buffered: the message is read in small
// pieces.
// See RFC 6143, section 7.6, and rfbproto, "Server to Client Messages".
func ReadServerMessage(r io.Reader, limits Limits) (ServerMessage, error) {
	var t [1]byte
	if _, err := io.ReadFull(r, t[:]); err != nil {
		return nil, err // io.EOF: the server hung up between messages
	}
	m, err := readServerMessage(r, t[0], limits)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", serverMessageName(t[0]), err)
	}
	return m, nil
}

func readServerMessage(r io.Reader, typ uint8, limits Limits) (ServerMessage, error) {
	var b [5]byte
	switch typ {
	case msgFramebufferUpdate:
		if err := readFull(r, b[:3]); err != nil {
			return nil, err
		}
		return FramebufferUpdate{Rects: binary.BigEndian.Uint16(b[1:])}, nil
	case msgSetColourMapEntries:
		if err := readFull(r, b[:5]); err != nil {
			return nil, err
		}
		n := int(binary.BigEndian.Uint16(b[3:]))
		raw, err := readN(r, 6*n) // at most 393210 bytes, read a chunk at a time
		if err != nil {
			return nil, err
		}
		var colours []Colour // nil when empty
		if n > 0 {
			colours = make([]Colour, n)
		}
		for i := range colours {
			c := raw[6*i:]
			colours[i] = Colour{R: binary.BigEndian.Uint16(c), G: binary.BigEndian.Uint16(c[2:]), B: binary.BigEndian.Uint16(c[4:])}
		}
		return SetColourMapEntries{First: binary.BigEndian.Uint16(b[1:]), Colours: colours}, nil
	case msgBell:
		return Bell{}, nil
	case msgServerCutText:
		text, clip, extended, err := readCutText(r, limits)
		if err != nil {
			return nil, err
		}
		if extended {
			return ServerClipboard{Clipboard: clip}, nil
		}
		return ServerCutText{Text: text}, nil
	case msgEndOfContinuousUpdates:
		return EndOfContinuousUpdates{}, nil
	case msgServerFence:
		flags, payload, err := readFence(r)
		if err != nil {
			return nil, err
		}
		return ServerFence{Flags: flags, Payload: payload}, nil
	}
	return nil, &UnknownMessageError{Type: typ, FromServer: true}
}

func serverMessageName(t uint8) string {
	switch t {
	case msgFramebufferUpdate:
		return "FramebufferUpdate"
	case msgSetColourMapEntries:
		return "SetColourMapEntries"
	case msgBell:
		return "Bell"
	case msgServerCutText:
		return "ServerCutText"
	case msgEndOfContinuousUpdates:
		return "EndOfContinuousUpdates"
	case msgServerFence:
		return "ServerFence"
	}
	return fmt.Sprintf("server message %d", t)
}
