package auth

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
)

// parseKeyLine parses one authorized_keys line without options and returns the key and the
// line in normal form: "TYPE BASE64 COMMENT".
func parseKeyLine(line string) (ssh.PublicKey, string, error) {
	pub, comment, options, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return nil, "", fmt.Errorf("parse public key: %w", err)
	}
	if len(options) > 0 {
		return nil, "", fmt.Errorf("parse public key: options (%s) are not supported", strings.Join(options, ","))
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, "", errors.New("parse public key: want one key, got several lines")
	}
	norm := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
	if comment != "" {
		norm += " " + comment
	}
	return pub, norm, nil
}

// KeyFingerprint returns the SHA256 fingerprint ("SHA256:…") of an authorized_keys line.
func KeyFingerprint(line string) (string, error) {
	pub, _, err := parseKeyLine(line)
	if err != nil {
		return "", err
	}
	return ssh.FingerprintSHA256(pub), nil
}

// AddKey adds a public key, given as an authorized_keys line without options, to name. It
// returns [ErrKeyExists] when name has that key already.
func (s *Store) AddKey(name, authorizedKeyLine string) error {
	if name == GuestName {
		return fmt.Errorf("add key to %q: %w", name, errGuest)
	}
	pub, line, err := parseKeyLine(authorizedKeyLine)
	if err != nil {
		return fmt.Errorf("add key to %q: %w", name, err)
	}
	return s.modify("add key to", name, func(a *Account) error {
		if slices.ContainsFunc(a.Keys, func(l string) bool { return keyMatches(l, pub) }) {
			return fmt.Errorf("%s: %w", ssh.FingerprintSHA256(pub), ErrKeyExists)
		}
		a.Keys = append(a.Keys, line)
		return nil
	})
}

// RemoveKey removes a key from name. The key is given as an authorized_keys line or as its
// SHA256 fingerprint. It returns [ErrNoKey] when name has no such key.
func (s *Store) RemoveKey(name, key string) error {
	fp := strings.TrimSpace(key)
	if !strings.HasPrefix(fp, "SHA256:") {
		var err error
		if fp, err = KeyFingerprint(key); err != nil {
			return fmt.Errorf("remove key from %q: %w", name, err)
		}
	}
	return s.modify("remove key from", name, func(a *Account) error {
		n := len(a.Keys)
		a.Keys = slices.DeleteFunc(a.Keys, func(l string) bool {
			got, err := KeyFingerprint(l)
			return err == nil && got == fp
		})
		if len(a.Keys) == n {
			return fmt.Errorf("%s: %w", fp, ErrNoKey)
		}
		return nil
	})
}

// keyMatches reports whether the stored authorized_keys line holds pub.
func keyMatches(line string, pub ssh.PublicKey) bool {
	if pub == nil {
		return false
	}
	stored, _, err := parseKeyLine(line)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(stored.Marshal(), pub.Marshal()) == 1
}
