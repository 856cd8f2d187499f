package wire

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

// Every fuzz target checks the same property: no panic, and whatever parses appends to bytes
// that parse back to the same value and append to the same bytes. The corpora in
// testdata/fuzz/FuzzXxx hold one well-formed input of each kind and the malformed ones a
// session must answer (a fence over 64 bytes, bogus screen layouts); the f.Add seeds add the
// edges.

// fuzzLimits are small, so the fuzzer reaches them.
func fuzzLimits() Limits { return Limits{MaxCutText: 4096, MaxEncodings: 64} }

func versionOf(v uint8) Version { return []Version{V33, V37, V38}[v%3] }

func FuzzParseVersion(f *testing.F) {
	f.Add([]byte("RFB 003.008\n"))
	f.Add([]byte("RFB 003.889\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseVersion(b)
		if err != nil {
			return
		}
		again, err := ParseVersion(v.Append(nil))
		if err != nil || again != v {
			t.Fatalf("ParseVersion(%q) = %v, which appends as %q and parses as %v, %v", b, v, v.Append(nil), again, err)
		}
	})
}

func FuzzParsePixelFormat(f *testing.F) {
	f.Add(RGB565().Append(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		pf, err := ParsePixelFormat(b)
		if err != nil {
			return
		}
		_ = pf.String()
		valid := pf.Validate() == nil
		if valid && pf.BytesPerPixel() != int(pf.BitsPerPixel)/8 {
			t.Fatalf("%v is valid with %d bytes per pixel", pf, pf.BytesPerPixel())
		}
		enc := pf.Append(nil)
		again, err := ParsePixelFormat(enc)
		if err != nil || again != pf || (again.Validate() == nil) != valid {
			t.Fatalf("ParsePixelFormat(%x) = %v, which appends as %x and parses as %v, %v", b, pf, enc, again, err)
		}
	})
}

func FuzzReadClientMessage(f *testing.F) {
	f.Add([]byte{3, 1, 0, 0, 0, 0, 4, 0, 3, 0}) // FramebufferUpdateRequest
	f.Add(cat([]byte{6, 0, 0, 0}, u32(0xFFFFFFF0), u32(uint32(ClipboardProvide|ClipboardText)), []byte{0x78, 0x9c}))
	f.Add(cat([]byte{2, 0}, u16(65), make([]byte, 260), []byte{5, 1, 0, 1, 0, 1}))
	many := SetDesktopSize{Width: 255, Height: 1}
	for i := range 255 {
		many.Screens = append(many.Screens, Screen{ID: uint32(i), X: uint16(i), Width: 1, Height: 1})
	}
	f.Add(many.Append(nil)) // the most screens a SetDesktopSize carries
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		for {
			m, err := ReadClientMessage(r, fuzzLimits())
			if errors.Is(err, ErrTooLong) {
				continue // skipped: the next message follows
			}
			if err != nil {
				return
			}
			switch m := m.(type) {
			case ClientClipboard:
				m.Text(fuzzLimits().MaxCutText) // must not panic or blow up
			case ClientFence:
				if a := m.Flags.Answer(); a&FenceRequest != 0 || a.Answer() != a {
					t.Fatalf("fence flags %#x answer as %#x, which answer as %#x", uint32(m.Flags), uint32(a), uint32(a.Answer()))
				}
			}
			enc := m.Append(nil)
			again, err := ReadClientMessage(bytes.NewReader(enc), fuzzLimits())
			if err != nil || !reflect.DeepEqual(again, m) {
				t.Fatalf("ReadClientMessage(%x) = %#v, which appends as %x and reads as %#v, %v", b, m, enc, again, err)
			}
			if enc2 := again.Append(nil); !bytes.Equal(enc2, enc) {
				t.Fatalf("%#v appends as %x, then as %x", m, enc, enc2)
			}
			if sd, ok := m.(SetDesktopSize); ok {
				if err, err2 := sd.Validate(), again.(SetDesktopSize).Validate(); (err == nil) != (err2 == nil) {
					t.Fatalf("layout %#v validates as %v, and after a round trip as %v", sd, err, err2)
				}
			}
		}
	})
}

func FuzzReadServerMessage(f *testing.F) {
	f.Add(cat([]byte{0, 0, 0, 2}, RectHeader{Width: 1, Height: 1, Encoding: EncodingRaw}.Append(nil), make([]byte, 4),
		RectHeader{Encoding: EncodingLastRect}.Append(nil)))
	f.Add(cat([]byte{1, 0}, u16(0), u16(1), u16(1), u16(2), u16(3)))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		for {
			m, err := ReadServerMessage(r, fuzzLimits())
			if errors.Is(err, ErrTooLong) {
				continue
			}
			if err != nil {
				return
			}
			enc := m.Append(nil)
			again, err := ReadServerMessage(bytes.NewReader(enc), fuzzLimits())
			if err != nil || !reflect.DeepEqual(again, m) {
				t.Fatalf("ReadServerMessage(%x) = %#v, which appends as %x and reads as %#v, %v", b, m, enc, again, err)
			}
			if enc2 := again.Append(nil); !bytes.Equal(enc2, enc) {
				t.Fatalf("%#v appends as %x, then as %x", m, enc, enc2)
			}
			if u, ok := m.(FramebufferUpdate); ok {
				// Rectangle bodies need decoders; read up to two headers as if bodies were empty.
				for range min(u.Rects, 2) {
					h, err := ReadRectHeader(r)
					if err != nil {
						return
					}
					if again, err := ReadRectHeader(bytes.NewReader(h.Append(nil))); err != nil || again != h {
						t.Fatalf("ReadRectHeader gave %+v, which appends and reads as %+v, %v", h, again, err)
					}
				}
			}
		}
	})
}

func FuzzReadSecurityTypes(f *testing.F) {
	f.Add(uint8(2), []byte{2, 19, 2})
	f.Add(uint8(0), u32(2))
	f.Fuzz(func(t *testing.T, v uint8, b []byte) {
		version := versionOf(v)
		types, err := ReadSecurityTypes(bytes.NewReader(b), version)
		var enc []byte
		switch e, refused := errors.AsType[*SecurityFailureError](err); {
		case refused:
			enc = AppendSecurityFailure(nil, version, e.Reason)
		case err != nil:
			return
		case version == V33:
			enc = AppendSecurityType33(nil, types[0])
		default:
			enc = AppendSecurityTypes(nil, types)
		}
		again, err2 := ReadSecurityTypes(bytes.NewReader(enc), version)
		if !reflect.DeepEqual(again, types) || !reflect.DeepEqual(err2, err) {
			t.Fatalf("ReadSecurityTypes(%x, %v) = %v, %v; appended as %x it reads as %v, %v", b, version, types, err, enc, again, err2)
		}
	})
}

func FuzzReadSecurityResult(f *testing.F) {
	f.Add(uint8(2), cat(u32(1), u32(3), []byte("bad")))
	f.Fuzz(func(t *testing.T, v uint8, b []byte) {
		version := versionOf(v)
		err := ReadSecurityResult(bytes.NewReader(b), version)
		var enc []byte
		switch e, failed := errors.AsType[*SecurityFailureError](err); {
		case err == nil:
			enc = AppendSecurityResultOK(nil)
		case failed:
			enc = AppendSecurityResultFailed(nil, version, e.Reason)
		default:
			return
		}
		if err2 := ReadSecurityResult(bytes.NewReader(enc), version); !reflect.DeepEqual(err2, err) {
			t.Fatalf("ReadSecurityResult(%x, %v) = %v; appended as %x it reads as %v", b, version, err, enc, err2)
		}
	})
}

func FuzzReadServerInit(f *testing.F) {
	f.Add(ServerInit{Width: 800, Height: 600, Format: BGRX(), Name: "desk"}.Append(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ReadServerInit(bytes.NewReader(b))
		if err != nil {
			return
		}
		if again, err := ReadServerInit(bytes.NewReader(s.Append(nil))); err != nil || again != s {
			t.Fatalf("ReadServerInit(%x) = %+v, which appends and reads as %+v, %v", b, s, again, err)
		}
	})
}

func FuzzReadPlainAuth(f *testing.F) {
	f.Add(PlainAuth{Username: "alice", Password: "pw"}.Append(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ReadPlainAuth(bytes.NewReader(b))
		if err != nil {
			return
		}
		if again, err := ReadPlainAuth(bytes.NewReader(p.Append(nil))); err != nil || again != p {
			t.Fatalf("ReadPlainAuth(%x) = %v, which appends and reads as %v, %v", b, p, again, err)
		}
	})
}

func FuzzReadVeNCryptSubtypes(f *testing.F) {
	f.Add(AppendVeNCryptSubtypes(nil, []VeNCryptSubtype{VeNCryptX509Plain, VeNCryptTLSPlain}))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ReadVeNCryptSubtypes(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, st := range s {
			_ = st.String()
		}
		if again, err := ReadVeNCryptSubtypes(bytes.NewReader(AppendVeNCryptSubtypes(nil, s))); err != nil || !reflect.DeepEqual(again, s) {
			t.Fatalf("ReadVeNCryptSubtypes(%x) = %v, which appends and reads as %v, %v", b, s, again, err)
		}
	})
}

func FuzzReadExtendedDesktopSize(f *testing.F) {
	f.Add(AppendExtendedDesktopSize(nil, []Screen{{ID: 1, Width: 10, Height: 10}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ReadExtendedDesktopSize(bytes.NewReader(b))
		if err != nil {
			return
		}
		if again, err := ReadExtendedDesktopSize(bytes.NewReader(AppendExtendedDesktopSize(nil, s))); err != nil || !reflect.DeepEqual(again, s) {
			t.Fatalf("ReadExtendedDesktopSize(%x) = %v, which appends and reads as %v, %v", b, s, again, err)
		}
	})
}

func FuzzReadDesktopName(f *testing.F) {
	f.Add(AppendDesktopName(nil, "desk"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ReadDesktopName(bytes.NewReader(b))
		if err != nil {
			return
		}
		if again, err := ReadDesktopName(bytes.NewReader(AppendDesktopName(nil, s))); err != nil || again != s {
			t.Fatalf("ReadDesktopName(%x) = %q, which appends and reads as %q, %v", b, s, again, err)
		}
	})
}

// FuzzClipboardText inflates fuzzed provide data; what comes out must survive ProvideText.
func FuzzClipboardText(f *testing.F) {
	f.Add(ProvideText("a\nb ✓").Data)
	f.Add(deflate(cat(u32(3), []byte("a\r\n")), false))
	f.Fuzz(func(t *testing.T, data []byte) {
		const max = 1 << 12
		text, err := Clipboard{Flags: ClipboardProvide | ClipboardText, Data: data}.Text(max)
		if err != nil {
			return
		}
		if again, err := ProvideText(text).Text(2*max + 1); err != nil || again != text {
			t.Fatalf("Text of %x = %q, which provides and reads as %q, %v", data, text, again, err)
		}
	})
}

// FuzzReadHandshakeStep covers the fixed-size handshake readers; step picks one.
func FuzzReadHandshakeStep(f *testing.F) {
	for step := range uint8(7) {
		f.Add(step, []byte{0, 2, 0, 0, 1, 3, 0, 0, 0, 0, 0, 0})
	}
	offered := []SecurityType{SecurityVeNCrypt, SecurityVNCAuth}
	subtypes := []VeNCryptSubtype{VeNCryptX509Plain, VeNCryptPlain}
	f.Fuzz(func(t *testing.T, step uint8, b []byte) {
		// Each reader returns a value, an error, and a way to append the value again.
		read := []func(io.Reader) (any, func() []byte, error){
			func(r io.Reader) (any, func() []byte, error) {
				v, err := ReadClientInit(r)
				return v, func() []byte { return AppendClientInit(nil, v) }, err
			},
			func(r io.Reader) (any, func() []byte, error) {
				v, err := ReadSecurityChoice(r, offered)
				return v, func() []byte { return AppendSecurityChoice(nil, v) }, err
			},
			func(r io.Reader) (any, func() []byte, error) {
				major, minor, err := ReadVeNCryptVersion(r)
				return [2]uint8{major, minor}, func() []byte { return []byte{major, minor} }, err
			},
			func(r io.Reader) (any, func() []byte, error) {
				err := ReadVeNCryptVersionAck(r)
				return nil, func() []byte { return AppendVeNCryptVersionAck(nil, true) }, err
			},
			func(r io.Reader) (any, func() []byte, error) {
				err := ReadVeNCryptTLSAck(r)
				return nil, func() []byte { return AppendVeNCryptTLSAck(nil, true) }, err
			},
			func(r io.Reader) (any, func() []byte, error) {
				v, err := ReadVeNCryptChoice(r, subtypes)
				return v, func() []byte { return AppendVeNCryptSubtype(nil, v) }, err
			},
			func(r io.Reader) (any, func() []byte, error) {
				v, err := ReadRectHeader(r)
				return v, func() []byte { return v.Append(nil) }, err
			},
		}[int(step)%7]
		v, appendAgain, err := read(bytes.NewReader(b))
		if err != nil {
			return
		}
		enc := appendAgain()
		if again, _, err := read(bytes.NewReader(enc)); err != nil || again != v {
			t.Fatalf("step %d read %x as %v, which appends as %x and reads as %v, %v", step%7, b, v, enc, again, err)
		}
	})
}
