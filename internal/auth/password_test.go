package auth

import (
	"regexp"
	"strings"
	"testing"
)

// cheap makes hashes fast enough for tests.
var cheap = HashParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16}

func TestHashAndVerifyPassword(t *testing.T) {
	hash, err := HashPassword("correct horse", cheap)
	if err != nil {
		t.Fatalf("HashPassword: %v", err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("HashPassword = %q; want the PHC form with m=64,t=1,p=1", hash)
	}
	tests := []struct {
		name, password string
		want           bool
	}{
		{"right", "correct horse", true},
		{"wrong", "correct horsE", false},
		{"empty", "", false},
		{"prefix", "correct", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := VerifyPassword(tt.password, hash)
			if got != tt.want || err != nil {
				t.Errorf("VerifyPassword(%q, %q) = %v, %v; want %v", tt.password, hash, got, err, tt.want)
			}
		})
	}
	again, err := HashPassword("correct horse", cheap)
	if err != nil || again == hash {
		t.Errorf("HashPassword twice = %q, %q, %v; want different salts", hash, again, err)
	}
}

func TestHashPasswordDefaults(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes with 64 MiB")
	}
	hash, err := HashPassword("pw", HashParams{})
	if err != nil || !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("HashPassword(default params) = %q, %v; want m=19456,t=2,p=1", hash, err)
	}
	if ok, err := VerifyPassword("pw", hash); !ok || err != nil {
		t.Errorf("VerifyPassword(right, %q) = %v, %v; want true", hash, ok, err)
	}
}

func TestHashPasswordBadParams(t *testing.T) {
	bad := cheap
	bad.Threads = 0
	if _, err := HashPassword("pw", bad); err == nil {
		t.Errorf("HashPassword with 0 threads succeeded; want an error")
	}
}

func TestParsePHC(t *testing.T) {
	const salt, key = "c29tZXNhbHQ", "AAAAAAAAAAAAAAAAAAAAAA" // 8 and 16 bytes
	tests := []struct {
		name, in string
		wantErr  bool
	}{
		{"ok", "$argon2id$v=19$m=65536,t=1,p=2$" + salt + "$" + key, false},
		{"ok small", "$argon2id$v=19$m=8,t=1,p=1$" + salt + "$" + key, false},
		{"argon2i", "$argon2i$v=19$m=65536,t=1,p=2$" + salt + "$" + key, true},
		{"old version", "$argon2id$v=16$m=65536,t=1,p=2$" + salt + "$" + key, true},
		{"no version", "$argon2id$m=65536,t=1,p=2$" + salt + "$" + key, true},
		{"params reordered", "$argon2id$v=19$t=1,m=65536,p=2$" + salt + "$" + key, true},
		{"leading zero", "$argon2id$v=19$m=065536,t=1,p=2$" + salt + "$" + key, true},
		{"sign", "$argon2id$v=19$m=+65536,t=1,p=2$" + salt + "$" + key, true},
		{"zero time", "$argon2id$v=19$m=65536,t=0,p=2$" + salt + "$" + key, true},
		{"zero threads", "$argon2id$v=19$m=65536,t=1,p=0$" + salt + "$" + key, true},
		{"threads over 255", "$argon2id$v=19$m=65536,t=1,p=256$" + salt + "$" + key, true},
		{"memory under 8p", "$argon2id$v=19$m=15,t=1,p=2$" + salt + "$" + key, true},
		{"memory huge", "$argon2id$v=19$m=4294967295,t=1,p=2$" + salt + "$" + key, true},
		{"padded salt", "$argon2id$v=19$m=65536,t=1,p=2$" + salt + "=$" + key, true},
		{"short salt", "$argon2id$v=19$m=65536,t=1,p=2$c2FsdA$" + key, true},
		{"short key", "$argon2id$v=19$m=65536,t=1,p=2$" + salt + "$AAAA", true},
		{"newline in salt", "$argon2id$v=19$m=65536,t=1,p=2$c29tZX\nNhbHQ$" + key, true},
		{"trailing field", "$argon2id$v=19$m=65536,t=1,p=2$" + salt + "$" + key + "$", true},
		{"no leading dollar", "argon2id$v=19$m=65536,t=1,p=2$" + salt + "$" + key, true},
		{"empty", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := parsePHC(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parsePHC(%q) = %v, %v; want error %v", tt.in, h, err, tt.wantErr)
			}
			if err == nil && h.String() != tt.in {
				t.Errorf("parsePHC(%q).String() = %q; want it back", tt.in, h.String())
			}
		})
	}
}

func TestVerifyPasswordBadHash(t *testing.T) {
	if ok, err := VerifyPassword("pw", "$argon2id$nonsense"); ok || err == nil {
		t.Errorf("VerifyPassword(pw, broken hash) = %v, %v; want false and an error", ok, err)
	}
}

func TestGeneratePassword(t *testing.T) {
	re := regexp.MustCompile(`^[` + passwordAlphabet + `]{5}(-[` + passwordAlphabet + `]{5}){3}$`)
	seen := map[string]bool{}
	for range 20 {
		pw, err := GeneratePassword()
		if err != nil || !re.MatchString(pw) {
			t.Fatalf("GeneratePassword() = %q, %v; want four groups of five from %q", pw, err, passwordAlphabet)
		}
		if seen[pw] {
			t.Fatalf("GeneratePassword() returned %q twice", pw)
		}
		seen[pw] = true
	}
	if len(passwordAlphabet) != 32 {
		t.Errorf("len(passwordAlphabet) = %d; want 32 (5 bits a character, no bias)", len(passwordAlphabet))
	}
}

func FuzzParsePHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=65536,t=1,p=2$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parsePHC(s)
		if err != nil {
			return // rejecting is fine; panicking is not
		}
		if got := h.String(); got != s {
			t.Fatalf("parsePHC(%q).String() = %q; want it back", s, got)
		}
		if err := h.params.validate(); err != nil {
			t.Fatalf("parsePHC(%q) accepted params that do not validate: %v", s, err)
		}
	})
}
