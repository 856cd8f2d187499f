package wire

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

// cat joins byte pieces, so test inputs read like the spec's tables.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func u16(v uint16) []byte { return []byte{byte(v >> 8), byte(v)} }
func u32(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

func TestReadClientMessage(t *testing.T) {
	bgrx := BGRX().Append(nil)
	tests := []struct {
		name string
		in   []byte
		want ClientMessage
	}{
		{"SetPixelFormat", cat([]byte{0, 0, 0, 0}, bgrx), SetPixelFormat{Format: BGRX()}},
		{"SetPixelFormat RGB565", cat([]byte{0, 0, 0, 0}, RGB565().Append(nil)), SetPixelFormat{Format: RGB565()}},
		{"SetEncodings", cat([]byte{2, 0}, u16(3), u32(7), u32(16), u32(0xFFFFFF05)),
			SetEncodings{Encodings: []Encoding{EncodingTight, EncodingZRLE, EncodingCompressLevel0 + 5}}},
		{"SetEncodings empty", []byte{2, 0, 0, 0}, SetEncodings{}},
		{"FramebufferUpdateRequest", cat([]byte{3, 1}, u16(10), u16(20), u16(1920), u16(1080)),
			FramebufferUpdateRequest{Incremental: true, X: 10, Y: 20, Width: 1920, Height: 1080}},
		{"FramebufferUpdateRequest full", cat([]byte{3, 0}, u16(0), u16(0), u16(800), u16(600)),
			FramebufferUpdateRequest{Width: 800, Height: 600}},
		{"KeyEvent down", cat([]byte{4, 1, 0, 0}, u32(0xff0d)), KeyEvent{Down: true, Keysym: 0xff0d}},
		{"KeyEvent up", cat([]byte{4, 0, 0, 0}, u32('a')), KeyEvent{Keysym: 'a'}},
		{"PointerEvent", cat([]byte{5, 0x81}, u16(640), u16(480)), PointerEvent{Buttons: 0x81, X: 640, Y: 480}},
		{"ClientCutText", cat([]byte{6, 0, 0, 0}, u32(5), []byte("h\xe9llo")), ClientCutText{Text: []byte("h\xe9llo")}},
		{"ClientCutText empty", cat([]byte{6, 0, 0, 0}, u32(0)), ClientCutText{}},
		{"ClientCutText extended notify", cat([]byte{6, 0, 0, 0}, u32(0xFFFFFFFC), u32(uint32(ClipboardNotify|ClipboardText))),
			ClientClipboard{Clipboard{Flags: ClipboardNotify | ClipboardText}}},
		{"ClientCutText extended caps", cat([]byte{6, 0, 0, 0}, u32(0xFFFFFFF4), u32(uint32(ClipboardCaps|ClipboardProvide|ClipboardText|ClipboardHTML)), u32(1000), u32(0)),
			ClientClipboard{Clipboard{Flags: ClipboardCaps | ClipboardProvide | ClipboardText | ClipboardHTML, Sizes: []uint32{1000, 0}}}},
		{"ClientCutText extended provide", cat([]byte{6, 0, 0, 0}, u32(0xFFFFFFF9), u32(uint32(ClipboardProvide|ClipboardText)), []byte{1, 2, 3}),
			ClientClipboard{Clipboard{Flags: ClipboardProvide | ClipboardText, Data: []byte{1, 2, 3}}}},
		{"EnableContinuousUpdates", cat([]byte{150, 1}, u16(0), u16(0), u16(1024), u16(768)),
			EnableContinuousUpdates{Enable: true, Width: 1024, Height: 768}},
		{"ClientFence", cat([]byte{248, 0, 0, 0}, u32(uint32(FenceRequest|FenceBlockBefore)), []byte{2, 'h', 'i'}),
			ClientFence{Flags: FenceRequest | FenceBlockBefore, Payload: []byte("hi")}},
		{"ClientFence empty", cat([]byte{248, 0, 0, 0}, u32(uint32(FenceSyncNext)), []byte{0}), ClientFence{Flags: FenceSyncNext}},
		{"SetDesktopSize", cat([]byte{251, 0}, u16(1280), u16(800), []byte{1, 0}, u32(7), u16(0), u16(0), u16(1280), u16(800), u32(0)),
			SetDesktopSize{Width: 1280, Height: 800, Screens: []Screen{{ID: 7, Width: 1280, Height: 800}}}},
		{"QEMUKeyEvent", cat([]byte{255, 0}, u16(1), u32(0xff53), u32(0xcd)), QEMUKeyEvent{Down: true, Keysym: 0xff53, Keycode: 0xcd}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bytes.NewReader(tt.in)
			got, err := ReadClientMessage(r, Limits{})
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ReadClientMessage(%x) = %#v, %v; want %#v", tt.in, got, err, tt.want)
			}
			if r.Len() != 0 {
				t.Errorf("ReadClientMessage(%x) left %d bytes unread", tt.in, r.Len())
			}
			if again := tt.want.Append(nil); !bytes.Equal(again, tt.in) {
				t.Errorf("%#v.Append() = %x; want %x", tt.want, again, tt.in)
			}
		})
	}
}

func TestReadClientMessageRefuses(t *testing.T) {
	limits := Limits{MaxCutText: 100, MaxEncodings: 4}
	next := KeyEvent{Down: true, Keysym: 'x'}.Append(nil) // what follows a skipped message
	tests := []struct {
		name    string
		in      []byte
		wantErr error
		inStep  bool // the stream is still at a message boundary afterwards
	}{
		{"eof between messages", nil, io.EOF, false},
		{"eof inside a message", []byte{4, 1, 0}, io.ErrUnexpectedEOF, false},
		{"unknown type", []byte{42, 0, 0, 0}, ErrUnknownMessage, false},
		{"xvp is unknown", []byte{250, 0, 1, 2}, ErrUnknownMessage, false},
		{"unknown qemu sub-type", []byte{255, 1, 0, 0}, ErrUnknownMessage, false},
		{"cut text over limit", cat([]byte{6, 0, 0, 0}, u32(101), make([]byte, 101)), ErrTooLong, true},
		{"huge cut text length", cat([]byte{6, 0, 0, 0}, u32(0x7FFFFFFF), []byte("short")), io.ErrUnexpectedEOF, false},
		{"extended cut text over limit", cat([]byte{6, 0, 0, 0}, u32(uint32(0x100000000-200)), make([]byte, 200)), ErrTooLong, true},
		{"extended cut text of min int32", cat([]byte{6, 0, 0, 0}, u32(0x80000000)), io.ErrUnexpectedEOF, false},
		{"extended cut text without flags", cat([]byte{6, 0, 0, 0}, u32(0xFFFFFFFE), []byte{0, 0}), nil, true},
		{"extended caps without sizes", cat([]byte{6, 0, 0, 0}, u32(0xFFFFFFFC), u32(uint32(ClipboardCaps|ClipboardText))), nil, true},
		{"encodings over limit", cat([]byte{2, 0}, u16(5), make([]byte, 20)), ErrTooLong, true},
		{"absurd encoding count", cat([]byte{2, 0}, u16(0xFFFF), make([]byte, 8)), io.ErrUnexpectedEOF, false},
		{"fence payload over 64", cat([]byte{248, 0, 0, 0}, u32(uint32(FenceRequest)), []byte{65}, make([]byte, 65)), ErrFenceTooLong, false},
		{"fence claiming 255 bytes, sending none", cat([]byte{248, 0, 0, 0}, u32(0), []byte{255}), ErrFenceTooLong, false},
		{"colour-map pixel format", cat([]byte{0, 0, 0, 0}, PixelFormat{BitsPerPixel: 8, Depth: 8}.Append(nil)), ErrColourMap, true},
		{"24 bits per pixel", cat([]byte{0, 0, 0, 0}, PixelFormat{BitsPerPixel: 24, Depth: 24, TrueColour: true, RedMax: 255, GreenMax: 255, BlueMax: 255, RedShift: 16, GreenShift: 8}.Append(nil)), ErrBadPixelFormat, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if tt.inStep {
				in = cat(in, next)
			}
			r := bytes.NewReader(in)
			got, err := ReadClientMessage(r, limits)
			if err == nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("ReadClientMessage(%x) = %#v, %v; want an error matching %v", tt.in, got, err, tt.wantErr)
			}
			if !tt.inStep {
				return
			}
			if m, err := ReadClientMessage(r, limits); err != nil || !reflect.DeepEqual(m, KeyEvent{Down: true, Keysym: 'x'}) {
				t.Errorf("after %v, ReadClientMessage = %#v, %v; want the next KeyEvent", tt.name, m, err)
			}
		})
	}
}

func TestFenceFlagsAnswer(t *testing.T) {
	tests := []struct {
		name string
		in   FenceFlags
		want FenceFlags
	}{
		{"request", FenceRequest, 0},
		{"block before", FenceRequest | FenceBlockBefore, FenceBlockBefore},
		{"every known flag", FenceRequest | FenceBlockBefore | FenceBlockAfter | FenceSyncNext, FenceBlockBefore | FenceBlockAfter | FenceSyncNext},
		{"unknown bits", FenceRequest | FenceSyncNext | 1<<3 | 1<<30, FenceSyncNext},
		{"every bit", 0xFFFFFFFF, FenceBlockBefore | FenceBlockAfter | FenceSyncNext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.Answer(); got != tt.want {
				t.Errorf("FenceFlags(%#x).Answer() = %#x; want %#x", uint32(tt.in), uint32(got), uint32(tt.want))
			}
		})
	}
}

func TestUnknownMessageError(t *testing.T) {
	_, err := ReadClientMessage(bytes.NewReader([]byte{255, 2}), Limits{})
	e, ok := errors.AsType[*UnknownMessageError](err)
	if !ok || e.Type != 255 || e.SubType != 2 || e.FromServer {
		t.Fatalf("ReadClientMessage(QEMU sub-type 2) = %v; want an *UnknownMessageError for 255/2", err)
	}
	if got, want := err.Error(), "read QEMU client message: wire: unknown client message type 255, sub-type 2"; got != want {
		t.Errorf("error text = %q; want %q", got, want)
	}
}

func TestClientMessageAppendPanics(t *testing.T) {
	tests := []struct {
		name string
		m    ClientMessage
	}{
		{"fence payload over 64", ClientFence{Payload: make([]byte, 65)}},
		{"256 screens", SetDesktopSize{Screens: make([]Screen, 256)}},
		{"65536 encodings", SetEncodings{Encodings: make([]Encoding, 65536)}},
		{"caps without sizes", ClientClipboard{Clipboard{Flags: ClipboardCaps | ClipboardText}}},
		{"sizes without caps", ClientClipboard{Clipboard{Flags: ClipboardNotify, Sizes: []uint32{1}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("%T.Append did not panic", tt.m)
				}
			}()
			tt.m.Append(nil)
		})
	}
}
