package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// HashParams are the argon2id cost parameters for new password hashes. The zero value means
// the defaults: 19 MiB, 2 passes, 1 lane, 16-byte salt, 32-byte key (OWASP's argon2id
// recommendation). RFC 9106's 64 MiB choice would alone exceed the host's 64 MiB memory
// budget during a login; the Authenticator also bounds how many hashes run at once, since each
// holds Memory KiB.
type HashParams struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// Limits on hashes we accept when parsing, so a hand-edited file cannot make a login allocate
// without bound.
const (
	maxMemory = 1 << 20 // KiB = 1 GiB
	maxTime   = 64
	minSalt   = 8
	maxSalt   = 64
	minKey    = 16
	maxKey    = 64
)

func (p HashParams) withDefaults() HashParams {
	if p == (HashParams{}) {
		return HashParams{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	}
	return p
}

func (p HashParams) validate() error {
	switch {
	case p.Threads < 1:
		return errors.New("argon2id threads: want at least 1")
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("argon2id memory %d KiB: want 8*threads to %d", p.Memory, maxMemory)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("argon2id time %d: want 1 to %d", p.Time, maxTime)
	case p.SaltLen < minSalt || p.SaltLen > maxSalt:
		return fmt.Errorf("argon2id salt of %d bytes: want %d to %d", p.SaltLen, minSalt, maxSalt)
	case p.KeyLen < minKey || p.KeyLen > maxKey:
		return fmt.Errorf("argon2id key of %d bytes: want %d to %d", p.KeyLen, minKey, maxKey)
	}
	return nil
}

// passwordHash is a parsed PHC string: $argon2id$v=19$m=65536,t=1,p=2$salt$key.
type passwordHash struct {
	params HashParams
	salt   []byte
	key    []byte
}

var b64 = base64.RawStdEncoding.Strict()

// String encodes h in PHC form.
func (h passwordHash) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.params.Memory, h.params.Time, h.params.Threads, b64.EncodeToString(h.salt), b64.EncodeToString(h.key))
}

// parsePHC parses an argon2id PHC string. It accepts only the canonical form that String
// writes, so every accepted string re-encodes to itself.
func parsePHC(s string) (passwordHash, error) {
	var h passwordHash
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return h, errors.New("parse password hash: want $argon2id$v=19$m=…,t=…,p=…$salt$key")
	}
	if parts[1] != "argon2id" {
		return h, fmt.Errorf("parse password hash: algorithm %q: want argon2id", parts[1])
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return h, fmt.Errorf("parse password hash: version %q: want v=%d", parts[2], argon2.Version)
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return h, fmt.Errorf("parse password hash: parameters %q: want m=…,t=…,p=…", parts[3])
	}
	var vals [3]uint64
	for i, prefix := range []string{"m=", "t=", "p="} {
		v, err := parseDecimal(params[i], prefix)
		if err != nil {
			return h, fmt.Errorf("parse password hash: %w", err)
		}
		vals[i] = v
	}
	if vals[0] > maxMemory || vals[1] > maxTime || vals[2] > 255 {
		return h, fmt.Errorf("parse password hash: parameters %q out of range", parts[3])
	}
	salt, err := decodeBase64(parts[4])
	if err != nil {
		return h, fmt.Errorf("parse password hash salt: %w", err)
	}
	key, err := decodeBase64(parts[5])
	if err != nil {
		return h, fmt.Errorf("parse password hash key: %w", err)
	}
	h = passwordHash{
		params: HashParams{
			Memory: uint32(vals[0]), Time: uint32(vals[1]), Threads: uint8(vals[2]),
			SaltLen: uint32(len(salt)), KeyLen: uint32(len(key)),
		},
		salt: salt,
		key:  key,
	}
	if err := h.params.validate(); err != nil {
		return passwordHash{}, fmt.Errorf("parse password hash: %w", err)
	}
	return h, nil
}

// decodeBase64 decodes unpadded standard base64 in its one canonical form (the decoder alone
// would skip newlines).
func decodeBase64(s string) ([]byte, error) {
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if b64.EncodeToString(b) != s {
		return nil, errors.New("not canonical base64")
	}
	return b, nil
}

// parseDecimal parses prefix followed by a decimal number without sign or leading zeros.
func parseDecimal(s, prefix string) (uint64, error) {
	digits, ok := strings.CutPrefix(s, prefix)
	if !ok || digits == "" || len(digits) > 10 || (digits[0] == '0' && len(digits) > 1) {
		return 0, fmt.Errorf("parameter %q: want %sNUMBER", s, prefix)
	}
	for _, c := range []byte(digits) {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("parameter %q: want %sNUMBER", s, prefix)
		}
	}
	return strconv.ParseUint(digits, 10, 64)
}

// HashPassword hashes password with argon2id under p (zero p means the defaults) and a random
// salt, and returns the PHC string.
func HashPassword(password string, p HashParams) (string, error) {
	p = p.withDefaults()
	if err := p.validate(); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	salt := make([]byte, p.SaltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return passwordHash{params: p, salt: salt, key: key}.String(), nil
}

// VerifyPassword reports whether password matches the PHC string phc, comparing in constant
// time. It returns an error only when phc cannot be parsed.
func VerifyPassword(password, phc string) (bool, error) {
	h, err := parsePHC(phc)
	if err != nil {
		return false, err
	}
	p := h.params
	key := argon2.IDKey([]byte(password), h.salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

// passwordAlphabet has 32 characters that are hard to confuse with one another (no 0, 1, l, o).
const passwordAlphabet = "23456789abcdefghijkmnpqrstuvwxyz"

// GeneratePassword returns a random password of four groups of five characters
// ("k7m2q-…"), 100 bits from crypto/rand, easy to read aloud and type.
func GeneratePassword() (string, error) {
	var raw [20]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("generate password: %w", err)
	}
	var b strings.Builder
	for i, r := range raw {
		if i > 0 && i%5 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(passwordAlphabet[r%32]) // 256 is a multiple of 32: no bias
	}
	return b.String(), nil
}
