package wire

import (
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
