package wire

import (
	"bytes"
	"compress/zlib"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestProvideTextRoundTrip(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"ascii", "hello", "hello"},
		{"empty", "", ""},
		{"unicode", "grüße ✓ 日本", "grüße ✓ 日本"},
		{"lf", "a\nb\n", "a\nb\n"},
		{"crlf kept", "a\r\nb", "a\r\nb"},
		{"lone cr kept", "a\rb", "a\rb"},
		{"invalid utf-8", "a\xffb", "a\uFFFDb"},
		{"stops at nul", "a\x00b", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ProvideText(tt.in)
			if c.Flags != ClipboardProvide|ClipboardText {
				t.Errorf("ProvideText(%q).Flags = %v", tt.in, c.Flags)
			}
			got, err := c.Text(1 << 20)
			if got != tt.want || err != nil {
				t.Errorf("ProvideText(%q).Text() = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// inflate returns the content of a provide message's zlib stream.
func inflate(t *testing.T, data []byte) []byte {
	t.Helper()
	zr, err := zlib.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestProvideTextWireForm(t *testing.T) {
	got := inflate(t, ProvideText("a\nb").Data)
	if want := cat(u32(5), []byte("a\r\nb\x00")); !bytes.Equal(got, want) {
		t.Errorf("ProvideText(%q) inflates to %q; want %q (CRLF, NUL, size counting it)", "a\nb", got, want)
	}
	text, err := Clipboard{Flags: ClipboardProvide | ClipboardText, Data: deflate(cat(u32(7), []byte("a\r\nb\r\n\x00")), true)}.Text(100)
	if want := "a\nb\n"; text != want || err != nil {
		t.Errorf("Text of CRLF text = %q, %v; want %q", text, err, want)
	}
}

// deflate compresses payload as peers do: flushed, not finished, when finish is false.
func deflate(payload []byte, finish bool) []byte {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(payload)
	if finish {
		zw.Close()
	} else {
		zw.Flush()
	}
	return z.Bytes()
}

func TestClipboardText(t *testing.T) {
	provide := ClipboardProvide | ClipboardText
	bomb := deflate(cat(u32(64<<20), make([]byte, 64<<20)), true)
	tests := []struct {
		name    string
		c       Clipboard
		max     int
		want    string
		wantErr error // nil: want succeeds
	}{
		{"flushed not finished", Clipboard{Flags: provide, Data: deflate(cat(u32(3), []byte("hi\x00")), false)}, 100, "hi", nil},
		{"text then html", Clipboard{Flags: provide | ClipboardHTML, Data: deflate(cat(u32(3), []byte("hi\x00"), u32(4), []byte("<b/>")), true)}, 100, "hi", nil},
		{"no nul", Clipboard{Flags: provide, Data: deflate(cat(u32(2), []byte("hi")), true)}, 100, "hi", nil},
		{"size at the limit", Clipboard{Flags: provide, Data: deflate(cat(u32(3), []byte("hi\x00")), true)}, 3, "hi", nil},
		{"size over the limit", Clipboard{Flags: provide, Data: deflate(cat(u32(3), []byte("hi\x00")), true)}, 2, "", ErrTooLong},
		{"64 MiB bomb", Clipboard{Flags: provide, Data: bomb}, 1 << 20, "", ErrTooLong},
		{"size beyond the data", Clipboard{Flags: provide, Data: deflate(cat(u32(100), []byte("hi")), true)}, 1000, "", io.ErrUnexpectedEOF},
		{"not zlib", Clipboard{Flags: provide, Data: []byte("plain text")}, 100, "", nil},
		{"empty data", Clipboard{Flags: provide}, 100, "", nil},
		{"notify", Clipboard{Flags: ClipboardNotify | ClipboardText}, 100, "", ErrNoText},
		{"caps", TextCaps(100), 100, "", ErrNoText},
		{"provide without text", Clipboard{Flags: ClipboardProvide | ClipboardHTML, Data: deflate(cat(u32(1), []byte("x")), true)}, 100, "", ErrNoText},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.c.Text(tt.max)
			switch {
			case tt.want != "":
				if got != tt.want || err != nil {
					t.Errorf("Text(%d) = %q, %v; want %q", tt.max, got, err, tt.want)
				}
			case err == nil:
				t.Errorf("Text(%d) = %q; want an error", tt.max, got)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("Text(%d) = %v; want %v", tt.max, err, tt.wantErr)
			}
		})
	}
	if len(bomb) > 1<<20 {
		t.Errorf("the bomb is %d bytes compressed; the test wants it small", len(bomb))
	}
}

func TestTextCaps(t *testing.T) {
	c := TextCaps(0)
	if size, ok := c.MaxSize(ClipboardText); size != 0 || !ok {
		t.Errorf("TextCaps(0).MaxSize(text) = %d, %v; want 0, true", size, ok)
	}
	if _, ok := c.MaxSize(ClipboardHTML); ok {
		t.Error("TextCaps(0).MaxSize(html) is ok; TextCaps lists text only")
	}
	peer := Clipboard{Flags: ClipboardCaps | ClipboardText | ClipboardRTF | ClipboardHTML, Sizes: []uint32{20 << 20, 1, 2 << 20}}
	for _, tt := range []struct {
		format ClipboardFlags
		want   uint32
		ok     bool
	}{{ClipboardText, 20 << 20, true}, {ClipboardRTF, 1, true}, {ClipboardHTML, 2 << 20, true}, {ClipboardDIB, 0, false}, {ClipboardText | ClipboardRTF, 0, false}} {
		if got, ok := peer.MaxSize(tt.format); got != tt.want || ok != tt.ok {
			t.Errorf("MaxSize(%v) = %d, %v; want %d, %v", tt.format, got, ok, tt.want, tt.ok)
		}
	}
	if _, ok := (Clipboard{Flags: ClipboardNotify | ClipboardText}).MaxSize(ClipboardText); ok {
		t.Error("MaxSize of a notify is ok")
	}
	for _, tt := range []struct{ flags, want ClipboardFlags }{
		{c.Flags, ClipboardCaps},
		{ClipboardNotify | ClipboardText, ClipboardNotify},
		{ClipboardProvide | ClipboardText | ClipboardHTML, ClipboardProvide},
		{ClipboardText, 0},
	} {
		if got := tt.flags.Action(); got != tt.want {
			t.Errorf("(%v).Action() = %v; want %v", tt.flags, got, tt.want)
		}
	}
	if got, want := c.Flags.String(), "text|caps|request|peek|notify|provide"; got != want {
		t.Errorf("TextCaps flags = %q; want %q", got, want)
	}
	if got, want := (ClipboardFlags(1<<20) | ClipboardDIB).String(), "dib|0x100000"; got != want {
		t.Errorf("flags String() = %q; want %q", got, want)
	}
}

// TestClipboardThroughMessages sends caps, notify, request and provide both ways, as a
// server and noVNC would, through the message readers.
func TestClipboardThroughMessages(t *testing.T) {
	var b []byte
	b = ServerClipboard{TextCaps(0)}.Append(b)
	b = ServerClipboard{Clipboard{Flags: ClipboardNotify | ClipboardText}}.Append(b)
	b = ServerClipboard{ProvideText("from host\n")}.Append(b)
	r := bytes.NewReader(b)
	var got []string
	for r.Len() > 0 {
		m, err := ReadServerMessage(r, Limits{})
		if err != nil {
			t.Fatalf("ReadServerMessage: %v", err)
		}
		c := m.(ServerClipboard)
		got = append(got, c.Flags.Actions().String())
		if c.Flags.Action() == ClipboardProvide {
			if text, err := c.Text(1024); text != "from host\n" || err != nil {
				t.Errorf("provided text = %q, %v", text, err)
			}
		}
	}
	if want := []string{"caps|request|peek|notify|provide", "notify", "provide"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("actions = %v; want %v", got, want)
	}

	m, err := ReadClientMessage(bytes.NewReader(ClientClipboard{ProvideText("from viewer")}.Append(nil)), Limits{})
	if err != nil {
		t.Fatalf("ReadClientMessage: %v", err)
	}
	if text, err := m.(ClientClipboard).Text(1024); text != "from viewer" || err != nil {
		t.Errorf("client provided text = %q, %v", text, err)
	}
}

func TestLatin1(t *testing.T) {
	if got := DecodeLatin1([]byte("caf\xe9 \xa9")); got != "café ©" {
		t.Errorf("DecodeLatin1 = %q; want %q", got, "café ©")
	}
	if got := EncodeLatin1("café © ✓ \xff"); string(got) != "caf\xe9 \xa9 ? ?" {
		t.Errorf("EncodeLatin1 = %q", got)
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	if got := EncodeLatin1(DecodeLatin1(all)); !bytes.Equal(got, all) {
		t.Errorf("EncodeLatin1(DecodeLatin1(all bytes)) = %x", got)
	}
}
