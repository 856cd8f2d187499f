package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		name, in string
		want     Version
		wantErr  bool
	}{
		{"3.3", "RFB 003.003\n", V33, false},
		{"3.7", "RFB 003.007\n", V37, false},
		{"3.8", "RFB 003.008\n", V38, false},
		{"3.5 is 3.3", "RFB 003.005\n", V33, false},
		{"3.4 is 3.3", "RFB 003.004\n", V33, false},
		{"3.6 is 3.3", "RFB 003.006\n", V33, false},
		{"apple 3.889 is 3.8", "RFB 003.889\n", V38, false},
		{"4.1 is 3.8", "RFB 004.001\n", V38, false},
		{"5.0 is 3.8", "RFB 005.000\n", V38, false},
		{"3.2 too old", "RFB 003.002\n", 0, true},
		{"2.9 too old", "RFB 002.009\n", 0, true},
		{"short", "RFB 3.8\n", 0, true},
		{"no newline", "RFB 003.008 ", 0, true},
		{"not rfb", "SSH-2.0-Go\r\n", 0, true},
		{"not digits", "RFB 00x.008\n", 0, true},
		{"tls hello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseVersion([]byte(tt.in))
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("ParseVersion(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestVersionAppend(t *testing.T) {
	for v, want := range map[Version]string{V33: "RFB 003.003\n", V37: "RFB 003.007\n", V38: "RFB 003.008\n"} {
		if got := string(v.Append(nil)); got != want {
			t.Errorf("%v.Append() = %q; want %q", v, got, want)
		}
		if got, err := ReadVersion(strings.NewReader(want)); got != v || err != nil {
			t.Errorf("ReadVersion(%q) = %v, %v; want %v", want, got, err, v)
		}
	}
	if _, err := ReadVersion(strings.NewReader("RFB 00")); err == nil {
		t.Error("ReadVersion(6 bytes) succeeded")
	}
}

func TestReadSecurityTypes(t *testing.T) {
	long := strings.Repeat("x", MaxReasonLength+1)
	tests := []struct {
		name       string
		v          Version
		in         []byte
		want       []SecurityType
		wantReason string // a *SecurityFailureError with this reason
		wantErr    error
	}{
		{"3.8 list", V38, AppendSecurityTypes(nil, []SecurityType{SecurityVeNCrypt, SecurityVNCAuth}), []SecurityType{SecurityVeNCrypt, SecurityVNCAuth}, "", nil},
		{"3.7 unknown types kept", V37, []byte{2, 30, 1}, []SecurityType{30, SecurityNone}, "", nil},
		{"3.8 refusal", V38, AppendSecurityFailure(nil, V38, "too many viewers"), nil, "too many viewers", nil},
		{"3.3 vnc auth", V33, AppendSecurityType33(nil, SecurityVNCAuth), []SecurityType{SecurityVNCAuth}, "", nil},
		{"3.3 none", V33, AppendSecurityType33(nil, SecurityNone), []SecurityType{SecurityNone}, "", nil},
		{"3.3 refusal", V33, AppendSecurityFailure(nil, V33, "no"), nil, "no", nil},
		{"3.3 vencrypt is invalid", V33, AppendSecurityType33(nil, SecurityVeNCrypt), nil, "", nil},
		{"reason too long", V38, AppendSecurityFailure(nil, V38, long), nil, "", ErrTooLong},
		{"truncated list", V38, []byte{3, 1}, nil, "", io.ErrUnexpectedEOF},
		{"truncated reason", V38, cat([]byte{0}, u32(10), []byte("abc")), nil, "", io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadSecurityTypes(bytes.NewReader(tt.in), tt.v)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ReadSecurityTypes(%x, %v) = %v, %v; want %v", tt.in, tt.v, got, err, tt.want)
			}
			switch {
			case tt.wantReason != "":
				if e, ok := errors.AsType[*SecurityFailureError](err); !ok || e.Reason != tt.wantReason {
					t.Errorf("ReadSecurityTypes(%x, %v) error = %v; want reason %q", tt.in, tt.v, err, tt.wantReason)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("ReadSecurityTypes(%x, %v) error = %v; want %v", tt.in, tt.v, err, tt.wantErr)
				}
			case tt.want == nil && err == nil:
				t.Errorf("ReadSecurityTypes(%x, %v) succeeded with no types", tt.in, tt.v)
			case tt.want != nil && err != nil:
				t.Errorf("ReadSecurityTypes(%x, %v) error = %v", tt.in, tt.v, err)
			}
		})
	}
}

func TestReadSecurityChoice(t *testing.T) {
	offered := []SecurityType{SecurityVeNCrypt}
	if got, err := ReadSecurityChoice(bytes.NewReader(AppendSecurityChoice(nil, SecurityVeNCrypt)), offered); got != SecurityVeNCrypt || err != nil {
		t.Errorf("ReadSecurityChoice(vencrypt) = %v, %v; want vencrypt", got, err)
	}
	if got, err := ReadSecurityChoice(bytes.NewReader([]byte{1}), offered); !errors.Is(err, ErrNotOffered) {
		t.Errorf("ReadSecurityChoice(none) = %v, %v; want ErrNotOffered", got, err)
	}
}

func TestSecurityResult(t *testing.T) {
	tests := []struct {
		name       string
		v          Version
		in         []byte
		wantOK     bool
		wantReason string
	}{
		{"ok", V38, AppendSecurityResultOK(nil), true, ""},
		{"ok 3.3", V33, AppendSecurityResultOK(nil), true, ""},
		{"failed 3.8", V38, AppendSecurityResultFailed(nil, V38, "wrong password"), false, "wrong password"},
		{"failed 3.7", V37, AppendSecurityResultFailed(nil, V37, "dropped"), false, ""},
		{"too many attempts", V37, u32(2), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bytes.NewReader(tt.in)
			err := ReadSecurityResult(r, tt.v)
			if tt.wantOK {
				if err != nil {
					t.Errorf("ReadSecurityResult(%x, %v) = %v; want nil", tt.in, tt.v, err)
				}
				return
			}
			if e, ok := errors.AsType[*SecurityFailureError](err); !ok || e.Reason != tt.wantReason {
				t.Errorf("ReadSecurityResult(%x, %v) = %v; want a failure with reason %q", tt.in, tt.v, err, tt.wantReason)
			}
			if r.Len() != 0 {
				t.Errorf("ReadSecurityResult(%x, %v) left %d bytes", tt.in, tt.v, r.Len())
			}
		})
	}
}

// The expected responses come from OpenSSL (des-ecb) with the bit-reversed keys.
func TestVNCAuthResponse(t *testing.T) {
	counting, _ := hex.DecodeString("000102030405060708090a0b0c0d0e0f")
	descending, _ := hex.DecodeString("ffeeddccbbaa99887766554433221100")
	tests := []struct {
		name, password string
		challenge      []byte
		want           string
	}{
		{"8 bytes", "password", counting, "b866924125c8eebb9debc1db61c538e2"},
		{"short is zero padded", "pw", descending, "6284e44d7d6a0f2a1650914febb2bfee"},
		{"long is truncated", "longerthan8", descending, "38d88611c4ef7c1e4ae949202c865963"},
		{"empty", "", descending, "70b9c395685e7d892e680dcd8db27f52"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := VNCAuthResponse(tt.password, [16]byte(tt.challenge))
			if hex.EncodeToString(got[:]) != tt.want {
				t.Errorf("VNCAuthResponse(%q, %x) = %x; want %s", tt.password, tt.challenge, got, tt.want)
			}
			if !VNCAuthCheck(tt.password, [16]byte(tt.challenge), got) {
				t.Errorf("VNCAuthCheck(%q) refused its own response", tt.password)
			}
			if VNCAuthCheck(tt.password+"!", [16]byte(tt.challenge), got) && len(tt.password) < 8 {
				t.Errorf("VNCAuthCheck(%q) accepted another password's response", tt.password+"!")
			}
		})
	}
	if a, b := NewVNCAuthChallenge(), NewVNCAuthChallenge(); a == b {
		t.Error("NewVNCAuthChallenge returned the same challenge twice")
	}
}

func TestClientInit(t *testing.T) {
	for _, shared := range []bool{true, false} {
		if got, err := ReadClientInit(bytes.NewReader(AppendClientInit(nil, shared))); got != shared || err != nil {
			t.Errorf("ReadClientInit(AppendClientInit(%v)) = %v, %v", shared, got, err)
		}
	}
	if got, _ := ReadClientInit(bytes.NewReader([]byte{7})); !got {
		t.Error("ReadClientInit(7) = false; want true (any non-zero is shared)")
	}
}

func TestServerInit(t *testing.T) {
	want := ServerInit{Width: 1920, Height: 1080, Format: BGRX(), Name: "alice@desk — buktu"}
	b := want.Append(nil)
	if len(b) != 2+2+16+4+len(want.Name) {
		t.Errorf("ServerInit.Append() is %d bytes", len(b))
	}
	if got, err := ReadServerInit(bytes.NewReader(b)); got != want || err != nil {
		t.Errorf("ReadServerInit(%x) = %+v, %v; want %+v", b, got, err, want)
	}
	long := ServerInit{Name: strings.Repeat("n", MaxNameLength+1)}.Append(nil)
	if _, err := ReadServerInit(bytes.NewReader(long)); !errors.Is(err, ErrTooLong) {
		t.Errorf("ReadServerInit(name of %d bytes) = %v; want ErrTooLong", MaxNameLength+1, err)
	}
	if _, err := ReadServerInit(bytes.NewReader(b[:10])); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("ReadServerInit(10 bytes) = %v; want io.ErrUnexpectedEOF", err)
	}
}

func TestSecurityAppendPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"no security types":  func() { AppendSecurityTypes(nil, nil) },
		"256 security types": func() { AppendSecurityTypes(nil, make([]SecurityType, 256)) },
		"no sub-types":       func() { AppendVeNCryptSubtypes(nil, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		})
	}
}
