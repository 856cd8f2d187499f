package identity

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"golang.org/x/crypto/ssh"
)

// loadSSH loads the SSH host key from dir. With create, it first makes a missing key (commented
// with hostname), and writes a missing .pub file; created reports a new key.
func loadSSH(dir, hostname string, create bool) (signer ssh.Signer, created bool, err error) {
	keyPath := filepath.Join(dir, SSHKeyFile)
	pubPath := filepath.Join(dir, SSHPubFile)
	comment := "buktu host"
	if hostname != "" {
		comment += " " + hostname
	}

	keyPEM, err := readPrivate(keyPath)
	if errors.Is(err, fs.ErrNotExist) && create {
		if exists(pubPath) {
			return nil, false, fmt.Errorf("load ssh host key: %s exists but %s does not: restore the key, or remove both to make a new one", pubPath, keyPath)
		}
		keyPEM, err = newSSHKey(comment)
		if err != nil {
			return nil, false, err
		}
		err = writeNew(keyPath, keyPEM, 0o600)
		if errors.Is(err, fs.ErrExist) {
			keyPEM, err = readPrivate(keyPath) // a racing process wrote it first: use theirs
		} else if err == nil {
			created = true
		}
	}
	if err != nil {
		return nil, false, fmt.Errorf("load ssh host key: %w", err)
	}
	signer, err = ssh.ParsePrivateKey(keyPEM)
	if _, ok := errors.AsType[*ssh.PassphraseMissingError](err); ok {
		return nil, false, fmt.Errorf("load ssh host key: parse %s: key is protected by a passphrase, which is not supported", keyPath)
	}
	if err != nil {
		return nil, false, fmt.Errorf("load ssh host key: parse %s: %w", keyPath, err)
	}

	pubLine, err := readPublic(pubPath)
	if errors.Is(err, fs.ErrNotExist) {
		// The .pub file is only derived from the key (for ssh-keygen -lf and known_hosts):
		// writing it again changes nothing anyone has pinned, and lacking it is no error.
		if !create {
			return signer, created, nil
		}
		line := bytes.TrimSuffix(ssh.MarshalAuthorizedKey(signer.PublicKey()), []byte("\n"))
		line = append(line, " "+comment+"\n"...)
		err = writeNew(pubPath, line, 0o644)
		if errors.Is(err, fs.ErrExist) {
			err = nil // a racing process wrote it; it is checked on the next load
		}
		if err != nil {
			return nil, false, fmt.Errorf("load ssh host key: %w", err)
		}
		return signer, created, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("load ssh host key: %w", err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(pubLine)
	if err != nil {
		return nil, false, fmt.Errorf("load ssh host key: parse %s: %w", pubPath, err)
	}
	if !bytes.Equal(pub.Marshal(), signer.PublicKey().Marshal()) {
		return nil, false, fmt.Errorf("load ssh host key: %s is not the public half of %s", pubPath, keyPath)
	}
	return signer, created, nil
}

// newSSHKey makes an Ed25519 key in OpenSSH's private key format, which OpenSSH's own tools
// read (ssh-keygen -y recovers the public key from it).
func newSSHKey(comment string) ([]byte, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate ssh host key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(key, comment)
	if err != nil {
		return nil, fmt.Errorf("encode ssh host key: %w", err)
	}
	return pem.EncodeToMemory(block), nil
}
