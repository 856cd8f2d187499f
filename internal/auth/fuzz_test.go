package auth

import (
	"bytes"
	"os"
	"testing"
)

func FuzzDecodeAccounts(f *testing.F) {
	f.Add([]byte(`{"version": 1, "accounts": [{"name": "bob", "password_hash": "$argon2id$v=19$m=64,t=1,p=1$qE70gJYJUx4$8ht9vd0FJhx3HPbIiZLE8Q", "privileges": {"send": "allow", "chat": "ask"}, "created": "2025-01-02T03:04:05Z"}]}`))
	f.Add([]byte(`{"version": 1, "accounts": []}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		accounts, err := decodeAccounts(b)
		if err != nil {
			return
		}
		enc, err := encodeAccounts(accounts)
		if err != nil {
			return // e.g. a year past 9999: the file cannot hold it, and we never write it
		}
		again, err := decodeAccounts(enc)
		if err != nil {
			t.Fatalf("decodeAccounts(encodeAccounts(%q)) = %v", b, err)
		}
		enc2, err := encodeAccounts(again)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("accounts from %q encode as\n%s\nthen as\n%s (%v)", b, enc, enc2, err)
		}
	})
}

func FuzzParseKeyLine(f *testing.F) {
	for _, name := range []string{"testdata/ed25519.pub", "testdata/rsa.pub"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, line string) {
		pub, norm, err := parseKeyLine(line)
		if err != nil {
			return
		}
		pub2, norm2, err := parseKeyLine(norm)
		if err != nil || norm2 != norm || !bytes.Equal(pub.Marshal(), pub2.Marshal()) {
			t.Fatalf("parseKeyLine(%q) = %q, which parses as %q, %v", line, norm, norm2, err)
		}
	})
}
