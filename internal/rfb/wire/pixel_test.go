package wire

import (
	"errors"
	"testing"
)

func TestPixelFormatValidate(t *testing.T) {
	rgb := func(bpp, depth uint8, rmax, gmax, bmax uint16, rs, gs, bs uint8) PixelFormat {
		return PixelFormat{BitsPerPixel: bpp, Depth: depth, TrueColour: true, RedMax: rmax, GreenMax: gmax, BlueMax: bmax,
			RedShift: rs, GreenShift: gs, BlueShift: bs}
	}
	bigEndian := BGRX()
	bigEndian.BigEndian = true
	tests := []struct {
		name    string
		pf      PixelFormat
		wantErr error // nil: valid
	}{
		{"BGRX", BGRX(), nil},
		{"RGBX", RGBX(), nil},
		{"RGB565", RGB565(), nil},
		{"BGR233", BGR233(), nil},
		{"big-endian", bigEndian, nil},
		{"depth 32", rgb(32, 32, 255, 255, 255, 16, 8, 0), nil},
		{"depth 0 tolerated", rgb(32, 0, 255, 255, 255, 16, 8, 0), nil},
		{"10 bits a channel", rgb(32, 30, 1023, 1023, 1023, 20, 10, 0), nil},
		{"RGB555", rgb(16, 15, 31, 31, 31, 10, 5, 0), nil},
		{"24 bits per pixel", rgb(24, 24, 255, 255, 255, 16, 8, 0), ErrBadPixelFormat},
		{"0 bits per pixel", PixelFormat{}, ErrBadPixelFormat},
		{"depth over bpp", rgb(16, 24, 31, 63, 31, 11, 5, 0), ErrBadPixelFormat},
		{"colour map", PixelFormat{BitsPerPixel: 8, Depth: 8}, ErrColourMap},
		{"max not 2^n-1", rgb(32, 24, 254, 255, 255, 16, 8, 0), ErrBadPixelFormat},
		{"max 0", rgb(32, 24, 255, 0, 255, 16, 8, 0), ErrBadPixelFormat},
		{"shift past the pixel", rgb(16, 16, 31, 63, 31, 12, 5, 0), ErrBadPixelFormat},
		{"huge shift", rgb(32, 24, 255, 255, 255, 200, 8, 0), ErrBadPixelFormat},
		{"overlap", rgb(32, 24, 255, 255, 255, 8, 8, 0), ErrBadPixelFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.pf.Validate()
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("%v.Validate() = %v; want %v", tt.pf, err, tt.wantErr)
			}
			if errors.Is(err, ErrColourMap) && !errors.Is(err, ErrBadPixelFormat) {
				t.Errorf("%v.Validate() = %v, which does not match ErrBadPixelFormat", tt.pf, err)
			}
		})
	}
}

func TestParsePixelFormat(t *testing.T) {
	b := []byte{32, 24, 7, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 9, 9, 9}
	want := PixelFormat{BitsPerPixel: 32, Depth: 24, BigEndian: true, TrueColour: true,
		RedMax: 255, GreenMax: 255, BlueMax: 255, RedShift: 16, GreenShift: 8}
	got, err := ParsePixelFormat(b)
	if got != want || err != nil {
		t.Fatalf("ParsePixelFormat(%x) = %v, %v; want %v", b, got, err, want)
	}
	if again, _ := ParsePixelFormat(got.Append(nil)); again != got {
		t.Errorf("ParsePixelFormat(Append(%v)) = %v", got, again)
	}
	if got := string(BGRX().Append(nil)); got != "\x20\x18\x00\x01\x00\xff\x00\xff\x00\xff\x10\x08\x00\x00\x00\x00" {
		t.Errorf("BGRX().Append() = %x", got)
	}
	for _, n := range []int{0, 15, 17} {
		if _, err := ParsePixelFormat(make([]byte, n)); err == nil {
			t.Errorf("ParsePixelFormat(%d bytes) succeeded", n)
		}
	}
}

func TestBytesPerPixel(t *testing.T) {
	for _, tt := range []struct {
		pf   PixelFormat
		want int
	}{{BGRX(), 4}, {RGB565(), 2}, {BGR233(), 1}, {PixelFormat{BitsPerPixel: 255}, 32}} {
		if got := tt.pf.BytesPerPixel(); got != tt.want {
			t.Errorf("%v.BytesPerPixel() = %d; want %d", tt.pf, got, tt.want)
		}
	}
}

func TestPixelFormatString(t *testing.T) {
	if got, want := BGRX().String(), "32bpp depth 24 LE rgb max 255/255/255 shift 16/8/0"; got != want {
		t.Errorf("BGRX().String() = %q; want %q", got, want)
	}
	if got, want := (PixelFormat{BitsPerPixel: 8, Depth: 8}).String(), "8bpp depth 8 LE colour-map"; got != want {
		t.Errorf("colour map String() = %q; want %q", got, want)
	}
}
