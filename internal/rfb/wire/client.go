package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Client-to-server message types.
// See RFC 6143, sections 7.5 and 8.1.2, and rfbproto, "Client to Server Messages".
const (
	msgSetPixelFormat           = 0
	msgSetEncodings             = 2
	msgFramebufferUpdateRequest = 3
	msgKeyEvent                 = 4
	msgPointerEvent             = 5
	msgClientCutText            = 6
	msgEnableContinuousUpdates  = 150
	msgClientFence              = 248
	msgSetDesktopSize           = 251
	msgQEMU                     = 255

	qemuExtendedKeyEvent = 0
)

// ClientMessage is a message from client to server, as [ReadClientMessage] returns it: one of
// [SetPixelFormat], [SetEncodings], [FramebufferUpdateRequest], [KeyEvent], [PointerEvent],
// [ClientCutText], [ClientClipboard], [EnableContinuousUpdates], [ClientFence],
// [SetDesktopSize] or [QEMUKeyEvent].
type ClientMessage interface {
	// Append appends the whole message, type byte included.
	Append(b []byte) []byte
	clientMessage()
}

// SetPixelFormat asks for pixels in Format from now on.
// See RFC 6143, section 7.5.1.
type SetPixelFormat struct {
	Format PixelFormat
}

// SetEncodings lists the encodings and pseudo-encodings the client supports, most preferred
// first.
// See RFC 6143, section 7.5.2.
type SetEncodings struct {
	Encodings []Encoding
}

// FramebufferUpdateRequest asks for the contents of an area, or only its changes when
// Incremental is set.
// See RFC 6143, section 7.5.3.
type FramebufferUpdateRequest struct {
	Incremental         bool
	X, Y, Width, Height uint16
}

// KeyEvent presses or releases the key with an X keysym.
// See RFC 6143, section 7.5.4.
type KeyEvent struct {
	Down   bool
	Keysym uint32
}

// PointerEvent moves the pointer to X, Y with buttons 1 to 8 in bits 0 to 7 of Buttons (1 is
// pressed; 4 and 5 are wheel up and down, 6 and 7 left and right). This is the standard 6-byte
// form: the ExtendedMouseButtons pseudo-encoding lets a client send a longer form once the
// server acknowledges it, and buktu never does.
// See RFC 6143, section 7.5.5.
type PointerEvent struct {
	Buttons uint8
	X, Y    uint16
}

// ClientCutText is the client's new clipboard text in the original form: ISO 8859-1 (see
// [DecodeLatin1]) with bare LF line ends.
// See RFC 6143, section 7.5.6.
type ClientCutText struct {
	Text []byte
}

// ClientClipboard is a ClientCutText message in the extended form, which a client sends only
// after the server's caps.
// See rfbproto, "Extended Clipboard Pseudo-Encoding".
type ClientClipboard struct {
	Clipboard
}

// EnableContinuousUpdates turns continuous updates of an area on, or off (after which the
// server sends EndOfContinuousUpdates).
// See rfbproto, "EnableContinuousUpdates".
type EnableContinuousUpdates struct {
	Enable              bool
	X, Y, Width, Height uint16
}

// FenceFlags are the flags of a fence message.
// See rfbproto, "ClientFence".
type FenceFlags uint32

// Fence flags.
const (
	FenceBlockBefore FenceFlags = 1 << 0
	FenceBlockAfter  FenceFlags = 1 << 1
	FenceSyncNext    FenceFlags = 1 << 2
	FenceRequest     FenceFlags = 1 << 31
)

// Answer returns the flags of the answer to a fence with flags f: Request cleared, and every
// bit rfbproto does not define, so the peer learns which flags the answerer understands.
// See rfbproto, "ClientFence".
func (f FenceFlags) Answer() FenceFlags {
	return f & (FenceBlockBefore | FenceBlockAfter | FenceSyncNext)
}

// ErrFenceTooLong reports a fence whose length field claims more than [MaxFencePayload]
// bytes, which rfbproto does not allow. Unlike [ErrTooLong], it leaves the payload unread and
// the stream out of step: a peer that breaks the limit cannot be given the synchronisation a
// fence promises (dropping a request leaves it waiting for the answer; answering part of it
// echoes a payload it never sent), so the connection must end.
var ErrFenceTooLong = errors.New("wire: fence payload over 64 bytes")

// ClientFence asks the server to synchronise (FenceRequest set) or answers a ServerFence.
// Payload holds at most [MaxFencePayload] bytes; Append panics on more.
// See rfbproto, "ClientFence".
type ClientFence struct {
	Flags   FenceFlags
	Payload []byte
}

// Screen is one screen of a desktop layout, a viewport into the framebuffer.
// See rfbproto, "ExtendedDesktopSize Pseudo-encoding".
type Screen struct {
	ID                  uint32
	X, Y, Width, Height uint16
	Flags               uint32
}

// SetDesktopSize asks for a new framebuffer size and screen layout. It holds at most 255
// screens; Append panics on more.
// See rfbproto, "SetDesktopSize".
type SetDesktopSize struct {
	Width, Height uint16
	Screens       []Screen
}

// QEMUKeyEvent presses or releases a key given by both its keysym and its XT scancode
// (Keycode), so the server can press the physical key whatever the client's keyboard layout.
// See rfbproto, "QEMU Extended Key Event Message".
type QEMUKeyEvent struct {
	Down    bool
	Keysym  uint32
	Keycode uint32
}

func (SetPixelFormat) clientMessage()           {}
func (SetEncodings) clientMessage()             {}
func (FramebufferUpdateRequest) clientMessage() {}
func (KeyEvent) clientMessage()                 {}
func (PointerEvent) clientMessage()             {}
func (ClientCutText) clientMessage()            {}
func (ClientClipboard) clientMessage()          {}
func (EnableContinuousUpdates) clientMessage()  {}
func (ClientFence) clientMessage()              {}
func (SetDesktopSize) clientMessage()           {}
func (QEMUKeyEvent) clientMessage()             {}

// Append appends the message.
func (m SetPixelFormat) Append(b []byte) []byte {
	return m.Format.Append(append(b, msgSetPixelFormat, 0, 0, 0))
}

// Append appends the message. It panics on more than 65535 encodings.
func (m SetEncodings) Append(b []byte) []byte {
	if len(m.Encodings) > math.MaxUint16 {
		panic(fmt.Sprintf("wire: SetEncodings with %d encodings", len(m.Encodings)))
	}
	b = append(b, msgSetEncodings, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Encodings)))
	for _, e := range m.Encodings {
		b = binary.BigEndian.AppendUint32(b, uint32(e))
	}
	return b
}

// Append appends the message.
func (m FramebufferUpdateRequest) Append(b []byte) []byte {
	b = append(b, msgFramebufferUpdateRequest, boolByte(m.Incremental))
	return appendArea(b, m.X, m.Y, m.Width, m.Height)
}

// Append appends the message.
func (m KeyEvent) Append(b []byte) []byte {
	b = append(b, msgKeyEvent, boolByte(m.Down), 0, 0)
	return binary.BigEndian.AppendUint32(b, m.Keysym)
}

// Append appends the message.
func (m PointerEvent) Append(b []byte) []byte {
	b = append(b, msgPointerEvent, m.Buttons)
	b = binary.BigEndian.AppendUint16(b, m.X)
	return binary.BigEndian.AppendUint16(b, m.Y)
}

// Append appends the message. It panics on text of 2 GiB or more, which the original form
// cannot carry.
func (m ClientCutText) Append(b []byte) []byte {
	return appendCutText(b, msgClientCutText, m.Text)
}

// Append appends the message.
func (m ClientClipboard) Append(b []byte) []byte {
	return appendClipboard(b, msgClientCutText, m.Clipboard)
}

// Append appends the message.
func (m EnableContinuousUpdates) Append(b []byte) []byte {
	b = append(b, msgEnableContinuousUpdates, boolByte(m.Enable))
	return appendArea(b, m.X, m.Y, m.Width, m.Height)
}

// Append appends the message.
func (m ClientFence) Append(b []byte) []byte {
	return appendFence(b, msgClientFence, m.Flags, m.Payload)
}

// Append appends the message.
func (m SetDesktopSize) Append(b []byte) []byte {
	if len(m.Screens) > math.MaxUint8 {
		panic(fmt.Sprintf("wire: SetDesktopSize with %d screens", len(m.Screens)))
	}
	b = append(b, msgSetDesktopSize, 0)
	b = binary.BigEndian.AppendUint16(b, m.Width)
	b = binary.BigEndian.AppendUint16(b, m.Height)
	b = append(b, uint8(len(m.Screens)), 0)
	return appendScreens(b, m.Screens)
}

// Append appends the message.
func (m QEMUKeyEvent) Append(b []byte) []byte {
	b = append(b, msgQEMU, qemuExtendedKeyEvent)
	b = binary.BigEndian.AppendUint16(b, uint16(boolByte(m.Down)))
	b = binary.BigEndian.AppendUint32(b, m.Keysym)
	return binary.BigEndian.AppendUint32(b, m.Keycode)
}

func appendArea(b []byte, x, y, w, h uint16) []byte {
	b = binary.BigEndian.AppendUint16(b, x)
	b = binary.BigEndian.AppendUint16(b, y)
	b = binary.BigEndian.AppendUint16(b, w)
	return binary.BigEndian.AppendUint16(b, h)
}

func parseArea(b []byte) (x, y, w, h uint16) {
	return binary.BigEndian.Uint16(b[0:]), binary.BigEndian.Uint16(b[2:]),
		binary.BigEndian.Uint16(b[4:]), binary.BigEndian.Uint16(b[6:])
}

func appendScreens(b []byte, screens []Screen) []byte {
	for _, s := range screens {
		b = binary.BigEndian.AppendUint32(b, s.ID)
		b = appendArea(b, s.X, s.Y, s.Width, s.Height)
		b = binary.BigEndian.AppendUint32(b, s.Flags)
	}
	return b
}

// readScreens reads n 16-byte screens (n is at most 255); none is nil.
func readScreens(r io.Reader, n int) ([]Screen, error) {
	if n == 0 {
		return nil, nil
	}
	b := make([]byte, 16*n)
	if err := readFull(r, b); err != nil {
		return nil, err
	}
	screens := make([]Screen, n)
	for i := range screens {
		s := b[16*i:]
		x, y, w, h := parseArea(s[4:])
		screens[i] = Screen{ID: binary.BigEndian.Uint32(s), X: x, Y: y, Width: w, Height: h, Flags: binary.BigEndian.Uint32(s[12:])}
	}
	return screens, nil
}

func appendFence(b []byte, typ uint8, flags FenceFlags, payload []byte) []byte {
	if len(payload) > MaxFencePayload {
		panic(fmt.Sprintf("wire: fence payload of %d bytes", len(payload)))
	}
	b = append(b, typ, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(flags))
	b = append(b, uint8(len(payload)))
	return append(b, payload...)
}

// readFence reads a fence after its type byte. A length over MaxFencePayload is refused with
// ErrFenceTooLong before any of the payload is read.
func readFence(r io.Reader) (FenceFlags, []byte, error) {
	var h [8]byte
	if err := readFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	flags, n := FenceFlags(binary.BigEndian.Uint32(h[3:])), int(h[7])
	if n > MaxFencePayload {
		return 0, nil, fmt.Errorf("length %d: %w", n, ErrFenceTooLong)
	}
	payload, err := readN(r, n)
	if err != nil {
		return 0, nil, err
	}
	return flags, payload, nil
}

// ReadClientMessage reads one message from a client. It returns [io.EOF] if the stream ends
// before the message starts. An unknown message type is an error matching [ErrUnknownMessage],
// after which the session must end the connection; so is a fence over 64 bytes
// ([ErrFenceTooLong]). A length over limits is an error matching [ErrTooLong] after the message
// has been skipped, so the session may carry on. A SetPixelFormat whose format fails
// [PixelFormat.Validate] is refused with that error, also after the whole message. A
// SetDesktopSize is returned whatever its layout: the server answers a bad one (see
// [SetDesktopSize.Validate]). r should be buffered: the message is read in small pieces.
// See RFC 6143, section 7.5, and rfbproto, "Client to Server Messages".
func ReadClientMessage(r io.Reader, limits Limits) (ClientMessage, error) {
	var t [1]byte
	if _, err := io.ReadFull(r, t[:]); err != nil {
		return nil, err // io.EOF: the client hung up between messages
	}
	m, err := readClientMessage(r, t[0], limits)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", clientMessageName(t[0]), err)
	}
	return m, nil
}

func clientMessageName(t uint8) string {
	switch t {
	case msgSetPixelFormat:
		return "SetPixelFormat"
	case msgSetEncodings:
		return "SetEncodings"
	case msgFramebufferUpdateRequest:
		return "FramebufferUpdateRequest"
	case msgKeyEvent:
		return "KeyEvent"
	case msgPointerEvent:
		return "PointerEvent"
	case msgClientCutText:
		return "ClientCutText"
	case msgEnableContinuousUpdates:
		return "EnableContinuousUpdates"
	case msgClientFence:
		return "ClientFence"
	case msgSetDesktopSize:
		return "SetDesktopSize"
	case msgQEMU:
		return "QEMU client message"
	}
	return fmt.Sprintf("client message %d", t)
}

func readClientMessage(r io.Reader, typ uint8, limits Limits) (ClientMessage, error) {
	var b [19]byte // the largest fixed part: SetPixelFormat after its type byte
	switch typ {
	case msgSetPixelFormat:
		if err := readFull(r, b[:3+PixelFormatLength]); err != nil {
			return nil, err
		}
		pf, _ := ParsePixelFormat(b[3 : 3+PixelFormatLength])
		if err := pf.Validate(); err != nil {
			return nil, err
		}
		return SetPixelFormat{Format: pf}, nil
	case msgSetEncodings:
		if err := readFull(r, b[:3]); err != nil {
			return nil, err
		}
		n := int(binary.BigEndian.Uint16(b[1:]))
		if max := limits.maxEncodings(); n > max {
			if err := discard(r, 4*int64(n)); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%d encodings, limit %d: %w", n, max, ErrTooLong)
		}
		raw, err := readN(r, 4*n)
		if err != nil {
			return nil, err
		}
		var encs []Encoding // nil when empty
		if n > 0 {
			encs = make([]Encoding, n)
		}
		for i := range encs {
			encs[i] = Encoding(binary.BigEndian.Uint32(raw[4*i:]))
		}
		return SetEncodings{Encodings: encs}, nil
	case msgFramebufferUpdateRequest:
		if err := readFull(r, b[:9]); err != nil {
			return nil, err
		}
		x, y, w, h := parseArea(b[1:])
		return FramebufferUpdateRequest{Incremental: b[0] != 0, X: x, Y: y, Width: w, Height: h}, nil
	case msgKeyEvent:
		if err := readFull(r, b[:7]); err != nil {
			return nil, err
		}
		return KeyEvent{Down: b[0] != 0, Keysym: binary.BigEndian.Uint32(b[3:])}, nil
	case msgPointerEvent:
		if err := readFull(r, b[:5]); err != nil {
			return nil, err
		}
		return PointerEvent{Buttons: b[0], X: binary.BigEndian.Uint16(b[1:]), Y: binary.BigEndian.Uint16(b[3:])}, nil
	case msgClientCutText:
		text, clip, extended, err := readCutText(r, limits)
		if err != nil {
			return nil, err
		}
		if extended {
			return ClientClipboard{Clipboard: clip}, nil
		}
		return ClientCutText{Text: text}, nil
	case msgEnableContinuousUpdates:
		if err := readFull(r, b[:9]); err != nil {
			return nil, err
		}
		x, y, w, h := parseArea(b[1:])
		return EnableContinuousUpdates{Enable: b[0] != 0, X: x, Y: y, Width: w, Height: h}, nil
	case msgClientFence:
		flags, payload, err := readFence(r)
		if err != nil {
			return nil, err
		}
		return ClientFence{Flags: flags, Payload: payload}, nil
	case msgSetDesktopSize:
		if err := readFull(r, b[:7]); err != nil {
			return nil, err
		}
		screens, err := readScreens(r, int(b[5]))
		if err != nil {
			return nil, err
		}
		return SetDesktopSize{Width: binary.BigEndian.Uint16(b[1:]), Height: binary.BigEndian.Uint16(b[3:]), Screens: screens}, nil
	case msgQEMU:
		if err := readFull(r, b[:1]); err != nil {
			return nil, err
		}
		if b[0] != qemuExtendedKeyEvent {
			return nil, &UnknownMessageError{Type: typ, SubType: b[0]}
		}
		if err := readFull(r, b[:10]); err != nil {
			return nil, err
		}
		return QEMUKeyEvent{
			Down:    binary.BigEndian.Uint16(b[0:]) != 0,
			Keysym:  binary.BigEndian.Uint32(b[2:]),
			Keycode: binary.BigEndian.Uint32(b[6:]),
		}, nil
	}
	return nil, &UnknownMessageError{Type: typ}
}
