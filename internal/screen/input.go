package screen

import (
	"time"

	"github.com/buktu/buktu/internal/frame"
)

// Size returns the display's size in pixels.
func (s *Screen) Size() (w, h int) { return s.src.Size() }

// Key presses or releases the key typing keysym (RFB KeyEvent).
func (s *Screen) Key(keysym uint32, down bool) error { return s.src.Key(keysym, down) }

// KeyScancode presses or releases a key by its QEMU key number (QEMU Extended Key Event);
// x11.ErrUnknownScancode means fall back to Key.
func (s *Screen) KeyScancode(scancode uint32, down bool) error {
	return s.src.KeyScancode(scancode, down)
}

// Pointer moves the pointer and sets the buttons held (RFB PointerEvent).
func (s *Screen) Pointer(buttons uint8, x, y int) error { return s.src.Pointer(buttons, x, y) }

// ReleaseAll releases every key and button pressed through the Screen: call it when a
// controlling viewer leaves.
func (s *Screen) ReleaseAll() error { return s.src.ReleaseAll() }

// SetClipboard makes text the host's clipboard (RFB ClientCutText).
func (s *Screen) SetClipboard(text string) error { return s.src.SetClipboard(text) }

// Clipboard returns a channel receiving the host's clipboard text when a host application
// changes it; only the newest text waits in it.
func (s *Screen) Clipboard() <-chan string { return s.src.Clipboard() }

// CursorSerial returns the current cursor shape's serial number: when it differs from the
// one Cursor last returned, fetch the shape again. A change also ends an Update, with
// possibly empty damage.
func (s *Screen) CursorSerial() uint32 { return s.src.CursorSerial() }

// Cursor returns the cursor shape: B, G, R, A pixels (premultiplied alpha), its serial
// number and its hot spot.
func (s *Screen) Cursor() (img *frame.Frame, serial uint32, hotX, hotY int, err error) {
	return s.src.Cursor()
}

// IdleTime returns how long the host's user has not touched keyboard or pointer.
func (s *Screen) IdleTime() (time.Duration, error) { return s.src.IdleTime() }

// Resize changes the display's size (RFB SetDesktopSize); the next Update shows it.
func (s *Screen) Resize(w, h int) error { return s.src.Resize(w, h) }
