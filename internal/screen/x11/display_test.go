package x11

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"
)

func TestParseDisplay(t *testing.T) {
	tests := []struct {
		in      string
		want    address
		local   bool
		wantErr bool
	}{
		{":0", address{}, true, false},
		{":12.1", address{number: 12, screen: 1}, true, false},
		{"unix:3", address{number: 3}, true, false},
		{"localhost:10.0", address{host: "localhost", number: 10}, false, false},
		{"tcp/example.org:2", address{host: "example.org", number: 2}, false, false},
		{"[::1]:1", address{host: "::1", number: 1}, false, false},
		{"/tmp/launch-x/org.xquartz:0", address{socket: "/tmp/launch-x/org.xquartz"}, true, false},
		{"", address{}, false, true},
		{"0", address{}, false, true},
		{":", address{}, false, true},
		{":x", address{}, false, true},
		{":-1", address{}, false, true},
		{":01", address{}, false, true},
		{":0.", address{}, false, true},
		{":99999", address{}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseDisplay(tt.in)
			if (err != nil) != tt.wantErr || err == nil && (got != tt.want || got.local() != tt.local) {
				t.Errorf("parseDisplay(%q) = %+v (local %v), %v; want %+v (local %v)", tt.in, got, got.local(), err, tt.want, tt.local)
			}
		})
	}
}

func FuzzParseDisplay(f *testing.F) {
	for _, s := range []string{":0", "unix:1.2", "host:3", "[::1]:4.5", "/path/sock:6"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseDisplay(s)
		if err != nil {
			return
		}
		again, err := parseDisplay(a.String())
		if err != nil || again != a {
			t.Fatalf("round trip of %q via %q: got %+v, %v; want %+v", s, a.String(), again, err, a)
		}
	})
}

func TestCookie(t *testing.T) {
	entry := func(family uint16, addr, number string, data byte) xauthEntry {
		return xauthEntry{family: family, addr: []byte(addr), number: number, name: "MIT-MAGIC-COOKIE-1", data: []byte{data}}
	}
	entries := []xauthEntry{
		{family: familyLocal, addr: []byte("box"), number: "0", name: "XDM-AUTHORIZATION-1", data: []byte{9}},
		entry(familyLocal, "other", "0", 1),
		entry(familyLocal, "box", "0", 2),
		entry(familyInternet, "\x7f\x00\x00\x01", "5", 3),
		entry(familyWild, "", "", 4),
	}
	tests := []struct {
		display string
		want    byte // 0 for none
	}{
		{":0", 2},
		{"unix:0", 2},
		{":1", 4},
		{"127.0.0.1:5", 3},
		{"127.0.0.1:6", 4},
		{"box:0", 2},
	}
	for _, tt := range tests {
		t.Run(tt.display, func(t *testing.T) {
			a, err := parseDisplay(tt.display)
			if err != nil {
				t.Fatal(err)
			}
			data, ok := a.cookie(entries, "box")
			var got byte
			if ok {
				got = data[0]
			}
			if got != tt.want {
				t.Errorf("cookie(%s) = %d; want %d", tt.display, got, tt.want)
			}
		})
	}
	if _, ok := (address{number: 1}).cookie(entries[:4], "box"); ok {
		t.Error("cookie(:1) found one without a matching entry")
	}
}

func FuzzParseXauthority(f *testing.F) {
	f.Add(appendXauthority(nil, xauthEntry{family: familyLocal, addr: []byte("box"), number: "0", name: "MIT-MAGIC-COOKIE-1", data: make([]byte, 16)}))
	f.Add([]byte{0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := parseXauthority(b)
		if err != nil {
			return
		}
		var again []byte
		for _, e := range entries {
			again = appendXauthority(again, e)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding %x gave %x", b, again)
		}
	})
}

func TestSetupRequest(t *testing.T) {
	// What xgb sends without a cookie: little-endian, protocol 11.0, no name, no data.
	xgbReq := []byte{'l', 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	cookie := bytes.Repeat([]byte{0xab}, 16)
	got, err := setupRequest(xgbReq, cookie)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 12+20+16 || binary.LittleEndian.Uint16(got[6:]) != 18 || binary.LittleEndian.Uint16(got[8:]) != 16 ||
		string(got[12:30]) != "MIT-MAGIC-COOKIE-1" || !bytes.Equal(got[32:], cookie) {
		t.Errorf("setupRequest with a cookie = %x", got)
	}
	got, err = setupRequest(xgbReq, nil)
	if err != nil || !bytes.Equal(got, xgbReq) {
		t.Errorf("setupRequest without a cookie = %x, %v; want %x", got, err, xgbReq)
	}
	if _, err := setupRequest(xgbReq[:8], nil); err == nil {
		t.Error("setupRequest of 8 bytes succeeded")
	}
}

func TestConvertRow(t *testing.T) {
	tests := []struct {
		name string
		f    pixelFormat
		src  []byte
		want []byte
	}{
		{"rgb masks, big-endian", pixelFormat{bpp: 32, msbFirst: true, red: 0xff0000, green: 0xff00, blue: 0xff},
			[]byte{0, 0x11, 0x22, 0x33}, []byte{0x33, 0x22, 0x11, 0}},
		{"bgr masks", pixelFormat{bpp: 32, red: 0xff, green: 0xff00, blue: 0xff0000},
			[]byte{0x11, 0x22, 0x33, 0x44}, []byte{0x33, 0x22, 0x11, 0}},
		{"10-bit channels", pixelFormat{bpp: 32, red: 0x3ff00000, green: 0xffc00, blue: 0x3ff},
			binary.LittleEndian.AppendUint32(nil, 0x3ff<<20|0x200<<10|0x004), []byte{0x01, 0x80, 0xff, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make([]byte, len(tt.want))
			tt.f.convertRow(got, tt.src)
			if !bytes.Equal(got, tt.want) {
				t.Errorf("convertRow(%x) = %x; want %x", tt.src, got, tt.want)
			}
		})
	}
}

func TestKeysymCase(t *testing.T) {
	tests := []struct {
		ks           uint32
		hasCase      bool
		upper, lower uint32
	}{
		{'a', true, 'A', 'a'},
		{'Z', true, 'Z', 'z'},
		{'1', false, '1', '1'},
		{0xe9, true, 0xc9, 0xe9},                 // é
		{0x10003b1, true, 0x1000391, 0x10003b1},  // α
		{0x100263a, false, 0x100263a, 0x100263a}, // ☺
		{0xff0d, false, 0xff0d, 0xff0d},          // Return
	}
	for _, tt := range tests {
		if got := hasCase(tt.ks); got != tt.hasCase {
			t.Errorf("hasCase(%#x) = %v; want %v", tt.ks, got, tt.hasCase)
		}
		if got := upperKeysym(tt.ks); got != tt.upper {
			t.Errorf("upperKeysym(%#x) = %#x; want %#x", tt.ks, got, tt.upper)
		}
		if got := lowerKeysym(tt.ks); got != tt.lower {
			t.Errorf("lowerKeysym(%#x) = %#x; want %#x", tt.ks, got, tt.lower)
		}
	}
}

func TestKeycodeOfQnum(t *testing.T) {
	tests := []struct {
		name string
		q    uint32
		want int // 0 for none
	}{
		{"escape", 0x01, 9},
		{"a", 0x1e, 38},
		{"keypad dot", 0x53, 91},
		{"F11", 0x57, 95},
		{"right control", 0x9d, 105},
		{"up", 0xc8, 111},
		{"left meta", 0xdb, 133},
		{"pause", 0xc6, 127},
		{"none", 0x00, 0},
		{"gap", 0x60, 0},
		{"too big", 0x1e + 0x100, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, ok := keycodeOfQnum(tt.q)
			if got := int(code); ok != (tt.want != 0) || got != tt.want {
				t.Errorf("keycodeOfQnum(%#x) = %d, %v; want %d", tt.q, got, ok, tt.want)
			}
		})
	}
}

func TestLatin1(t *testing.T) {
	if got := encodeLatin1("aé☺"); !reflect.DeepEqual(got, []byte{'a', 0xe9, '?'}) {
		t.Errorf("encodeLatin1 = %x", got)
	}
	if got := decodeLatin1([]byte{'a', 0xe9, 0xff}); got != "aéÿ" {
		t.Errorf("decodeLatin1 = %q", got)
	}
}
