package wire

import (
	"errors"
	"fmt"
	"io"
	"math"
)

// Why an ExtendedDesktopSize rectangle was sent, in its header's X.
// See rfbproto, "ExtendedDesktopSize Pseudo-encoding".
const (
	ResizeByServer      uint16 = 0 // the layout changed on the server, or the client asked for a full update
	ResizeByThisClient  uint16 = 1 // the answer to this client's SetDesktopSize
	ResizeByOtherClient uint16 = 2 // another client's SetDesktopSize succeeded
)

// How a SetDesktopSize went, in an ExtendedDesktopSize rectangle header's Y.
// See rfbproto, "ExtendedDesktopSize Pseudo-encoding".
const (
	ResizeOK             uint16 = 0
	ResizeProhibited     uint16 = 1
	ResizeOutOfResources uint16 = 2
	ResizeInvalidLayout  uint16 = 3
	ResizeForwarded      uint16 = 4
)

// ErrInvalidLayout reports a screen layout that [SetDesktopSize.Validate] refuses.
var ErrInvalidLayout = errors.New("wire: invalid screen layout")

// Validate checks the layout m asks for against rfbproto's screen model: a framebuffer of at
// least 1×1 and 1 to 255 screens, each at least 1×1, wholly inside the framebuffer, with an id
// no other screen has. A server answers a layout that fails with [ResizeInvalidLayout],
// whether or not it would grant a valid one. Screen flags are not checked: the protocol asks
// that unknown bits be kept, not refused.
// See rfbproto, "Screen Model", "SetDesktopSize" and "ExtendedDesktopSize Pseudo-encoding".
func (m SetDesktopSize) Validate() error {
	if m.Width == 0 || m.Height == 0 {
		return fmt.Errorf("framebuffer of %dx%d: %w", m.Width, m.Height, ErrInvalidLayout)
	}
	if len(m.Screens) == 0 || len(m.Screens) > math.MaxUint8 {
		return fmt.Errorf("%d screens, want 1 to 255: %w", len(m.Screens), ErrInvalidLayout)
	}
	ids := make(map[uint32]bool, len(m.Screens))
	for i, s := range m.Screens {
		switch {
		case s.Width == 0 || s.Height == 0:
			return fmt.Errorf("screen %d is %dx%d: %w", i, s.Width, s.Height, ErrInvalidLayout)
		case int(s.X)+int(s.Width) > int(m.Width) || int(s.Y)+int(s.Height) > int(m.Height):
			return fmt.Errorf("screen %d, %dx%d at %d,%d, is not inside the %dx%d framebuffer: %w",
				i, s.Width, s.Height, s.X, s.Y, m.Width, m.Height, ErrInvalidLayout)
		case ids[s.ID]:
			return fmt.Errorf("screen %d has id %d, as an earlier one does: %w", i, s.ID, ErrInvalidLayout)
		}
		ids[s.ID] = true
	}
	return nil
}

// AppendExtendedDesktopSize appends the body of an ExtendedDesktopSize rectangle (after its
// [RectHeader], whose Width and Height are the framebuffer's): the number of screens, padding
// and the screens. It panics on more than 255 screens.
// See rfbproto, "ExtendedDesktopSize Pseudo-encoding".
func AppendExtendedDesktopSize(b []byte, screens []Screen) []byte {
	if len(screens) > math.MaxUint8 {
		panic(fmt.Sprintf("wire: ExtendedDesktopSize with %d screens", len(screens)))
	}
	b = append(b, uint8(len(screens)), 0, 0, 0)
	return appendScreens(b, screens)
}

// ReadExtendedDesktopSize reads the body of an ExtendedDesktopSize rectangle.
// See rfbproto, "ExtendedDesktopSize Pseudo-encoding".
func ReadExtendedDesktopSize(r io.Reader) ([]Screen, error) {
	var h [4]byte
	if err := readFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("read extended desktop size: %w", err)
	}
	screens, err := readScreens(r, int(h[0]))
	if err != nil {
		return nil, fmt.Errorf("read extended desktop size: %w", err)
	}
	return screens, nil
}

// AppendDesktopName appends the body of a DesktopName rectangle (after a [RectHeader] whose
// position and size are zero): the new name, UTF-8.
// See rfbproto, "DesktopName Pseudo-encoding".
func AppendDesktopName(b []byte, name string) []byte { return appendString(b, name) }

// ReadDesktopName reads the body of a DesktopName rectangle, refusing names longer than
// [MaxNameLength] bytes.
// See rfbproto, "DesktopName Pseudo-encoding".
func ReadDesktopName(r io.Reader) (string, error) {
	name, err := readString(r, MaxNameLength)
	if err != nil {
		return "", fmt.Errorf("read desktop name: %w", err)
	}
	return name, nil
}
