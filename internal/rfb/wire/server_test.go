package wire

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

func TestReadServerMessage(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want ServerMessage
	}{
		{"FramebufferUpdate", []byte{0, 0, 0, 3}, FramebufferUpdate{Rects: 3}},
		{"FramebufferUpdate until LastRect", []byte{0, 0, 0xFF, 0xFF}, FramebufferUpdate{Rects: RectsUntilLastRect}},
		{"SetColourMapEntries", cat([]byte{1, 0}, u16(16), u16(2), u16(0xFFFF), u16(0), u16(0), u16(1), u16(2), u16(3)),
			SetColourMapEntries{First: 16, Colours: []Colour{{R: 0xFFFF}, {1, 2, 3}}}},
		{"SetColourMapEntries empty", cat([]byte{1, 0}, u16(0), u16(0)), SetColourMapEntries{}},
		{"Bell", []byte{2}, Bell{}},
		{"ServerCutText", cat([]byte{3, 0, 0, 0}, u32(3), []byte("a\nb")), ServerCutText{Text: []byte("a\nb")}},
		{"ServerCutText extended caps", cat([]byte{3, 0, 0, 0}, u32(0xFFFFFFF8), u32(uint32(TextCaps(0).Flags)), u32(0)),
			ServerClipboard{TextCaps(0)}},
		{"ServerCutText extended request", cat([]byte{3, 0, 0, 0}, u32(0xFFFFFFFC), u32(uint32(ClipboardRequest|ClipboardText))),
			ServerClipboard{Clipboard{Flags: ClipboardRequest | ClipboardText}}},
		{"EndOfContinuousUpdates", []byte{150}, EndOfContinuousUpdates{}},
		{"ServerFence", cat([]byte{248, 0, 0, 0}, u32(uint32(FenceRequest|FenceBlockBefore|FenceBlockAfter|FenceSyncNext)), []byte{0}),
			ServerFence{Flags: FenceRequest | FenceBlockBefore | FenceBlockAfter | FenceSyncNext}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bytes.NewReader(tt.in)
			got, err := ReadServerMessage(r, Limits{})
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ReadServerMessage(%x) = %#v, %v; want %#v", tt.in, got, err, tt.want)
			}
			if r.Len() != 0 {
				t.Errorf("ReadServerMessage(%x) left %d bytes unread", tt.in, r.Len())
			}
			if again := tt.want.Append(nil); !bytes.Equal(again, tt.in) {
				t.Errorf("%#v.Append() = %x; want %x", tt.want, again, tt.in)
			}
		})
	}
}

func TestReadServerMessageRefuses(t *testing.T) {
	limits := Limits{MaxCutText: 10}
	tests := []struct {
		name    string
		in      []byte
		wantErr error
	}{
		{"eof between messages", nil, io.EOF},
		{"eof inside a message", []byte{0, 0, 1}, io.ErrUnexpectedEOF},
		{"unknown type", []byte{4}, ErrUnknownMessage},
		{"qemu is unknown", []byte{255, 1}, ErrUnknownMessage},
		{"cut text over limit", cat([]byte{3, 0, 0, 0}, u32(11), make([]byte, 11)), ErrTooLong},
		{"absurd colour count", cat([]byte{1, 0}, u16(0), u16(0xFFFF), make([]byte, 12)), io.ErrUnexpectedEOF},
		{"fence payload over 64", cat([]byte{248, 0, 0, 0}, u32(0), []byte{255}, make([]byte, 255)), ErrFenceTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadServerMessage(bytes.NewReader(tt.in), limits)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ReadServerMessage(%x) = %#v, %v; want an error matching %v", tt.in, got, err, tt.wantErr)
			}
		})
	}
	_, err := ReadServerMessage(bytes.NewReader([]byte{4}), Limits{})
	if e, ok := errors.AsType[*UnknownMessageError](err); !ok || e.Type != 4 || !e.FromServer {
		t.Errorf("ReadServerMessage(type 4) = %v; want an *UnknownMessageError from the server", err)
	}
}

// TestFramebufferUpdateStream reads an update the way a client does: the header, then each
// rectangle's header and body in turn, stopping at LastRect.
func TestFramebufferUpdateStream(t *testing.T) {
	var b []byte
	b = FramebufferUpdate{Rects: RectsUntilLastRect}.Append(b)
	b = RectHeader{X: 1, Y: 2, Width: 2, Height: 1, Encoding: EncodingRaw}.Append(b)
	b = append(b, 1, 2, 3, 4, 5, 6, 7, 8) // two 32-bit pixels
	b = RectHeader{Width: 1024, Height: 768, Encoding: EncodingExtendedDesktopSize, X: ResizeByServer, Y: ResizeOK}.Append(b)
	b = AppendExtendedDesktopSize(b, []Screen{{ID: 1, Width: 1024, Height: 768}})
	b = RectHeader{Encoding: EncodingDesktopName}.Append(b)
	b = AppendDesktopName(b, "buktu ✓")
	b = RectHeader{Encoding: EncodingLastRect}.Append(b)
	b = Bell{}.Append(b)

	r := bytes.NewReader(b)
	m, err := ReadServerMessage(r, Limits{})
	if err != nil || m != (FramebufferUpdate{Rects: RectsUntilLastRect}) {
		t.Fatalf("ReadServerMessage = %#v, %v; want the update header", m, err)
	}
	var got []string
	for range m.(FramebufferUpdate).Rects {
		h, err := ReadRectHeader(r)
		if err != nil {
			t.Fatalf("ReadRectHeader: %v", err)
		}
		got = append(got, h.Encoding.String())
		switch h.Encoding {
		case EncodingRaw:
			pixels := make([]byte, int(h.Width)*int(h.Height)*4)
			if _, err := io.ReadFull(r, pixels); err != nil {
				t.Fatalf("read raw pixels: %v", err)
			}
		case EncodingExtendedDesktopSize:
			screens, err := ReadExtendedDesktopSize(r)
			if want := []Screen{{ID: 1, Width: 1024, Height: 768}}; err != nil || !reflect.DeepEqual(screens, want) {
				t.Fatalf("ReadExtendedDesktopSize = %v, %v; want %v", screens, err, want)
			}
		case EncodingDesktopName:
			if name, err := ReadDesktopName(r); err != nil || name != "buktu ✓" {
				t.Fatalf("ReadDesktopName = %q, %v; want %q", name, err, "buktu ✓")
			}
		}
		if h.Encoding == EncodingLastRect {
			break
		}
	}
	if want := []string{"raw", "extended-desktop-size", "desktop-name", "last-rect"}; !reflect.DeepEqual(got, want) {
		t.Errorf("rectangles = %v; want %v", got, want)
	}
	if m, err := ReadServerMessage(r, Limits{}); err != nil || m != (Bell{}) {
		t.Errorf("after the update, ReadServerMessage = %#v, %v; want Bell", m, err)
	}
}

func TestReadDesktopNameTooLong(t *testing.T) {
	in := cat(u32(MaxNameLength+1), make([]byte, 10))
	if _, err := ReadDesktopName(bytes.NewReader(in)); !errors.Is(err, ErrTooLong) {
		t.Errorf("ReadDesktopName(%d bytes) = %v; want ErrTooLong", MaxNameLength+1, err)
	}
}

func TestReadRectHeader(t *testing.T) {
	in := cat(u16(1), u16(2), u16(3), u16(4), u32(0xC0A1E5CE))
	want := RectHeader{X: 1, Y: 2, Width: 3, Height: 4, Encoding: EncodingExtendedClipboard}
	if got, err := ReadRectHeader(bytes.NewReader(in)); err != nil || got != want {
		t.Errorf("ReadRectHeader(%x) = %+v, %v; want %+v", in, got, err, want)
	}
	if _, err := ReadRectHeader(bytes.NewReader(in[:5])); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("ReadRectHeader(5 bytes) = %v; want io.ErrUnexpectedEOF", err)
	}
}
