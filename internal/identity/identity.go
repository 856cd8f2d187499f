// Package identity owns the host's cryptographic identity: the TLS certificate and key that ports
// 1417/1418 present (HTTPS and VeNCrypt X.509), and the SSH host key that ports 1419/1420 present.
// It creates them on first run in the data directory, reuses them afterwards, and formats their
// fingerprints the way people compare them (browsers for TLS, OpenSSH for SSH).
//
// It leaves to others where the data directory is (config), serving anything with the keys (rfb,
// web, sshd), and pinning fingerprints on the client side (transfer, cli), which can use
// CertFingerprint and ssh.FingerprintSHA256 to produce the same strings.
//
// Files in the data directory:
//
//	tls.key                   PKCS #8 ECDSA P-256 private key, PEM, mode 0600
//	tls.crt                   self-signed certificate, PEM, mode 0644 (also its own CA: TigerVNC's -X509CA takes it)
//	ssh_host_ed25519_key      OpenSSH private key, PEM, mode 0600
//	ssh_host_ed25519_key.pub  the public key in authorized_keys format, mode 0644
//
// An operator may replace tls.key and tls.crt with their own pair (RSA, ECDSA or Ed25519 key; the
// certificate file may hold a chain, leaf first). Private key files that group or others may
// access are refused, as OpenSSH refuses them. A file that is present but unreadable, corrupt or
// mismatched is an error naming the file: the identity is never regenerated behind the
// operator's back, because clients have pinned it.
package identity

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Names of the files in the data directory.
const (
	TLSKeyFile  = "tls.key"
	TLSCertFile = "tls.crt"
	SSHKeyFile  = "ssh_host_ed25519_key"
	SSHPubFile  = "ssh_host_ed25519_key.pub"
)

// ErrUnprotectedKey reports a private key file that group or others may access; the fix is
// chmod 600 on the named file.
var ErrUnprotectedKey = errors.New("identity: private key file is accessible by group or others")

// Identity is the host's TLS certificate and SSH host key, loaded and checked.
type Identity struct {
	// TLS is the certificate chain and key for tls.Config.Certificates. Its Leaf is set.
	TLS tls.Certificate
	// Cert is the parsed leaf certificate (the same as TLS.Leaf).
	Cert *x509.Certificate
	// SSHSigner is the host key for ssh.ServerConfig.AddHostKey.
	SSHSigner ssh.Signer
}

// LoadOrCreate loads the identity from dir, first creating whatever of it is missing (and dir
// itself, mode 0700). created reports that a key or certificate was made, so the fingerprints
// are new and worth showing prominently. A file written by a process racing this one is not
// overwritten: the first one written wins and both processes use it.
func LoadOrCreate(dir string) (id *Identity, created bool, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("create data directory: %w", err)
	}
	name := hostname()
	tlsCert, tlsNew, err := loadTLS(dir, name, true)
	if err != nil {
		return nil, false, err
	}
	signer, sshNew, err := loadSSH(dir, name, true)
	if err != nil {
		return nil, false, err
	}
	return &Identity{TLS: tlsCert, Cert: tlsCert.Leaf, SSHSigner: signer}, tlsNew || sshNew, nil
}

// Load loads the identity from dir without creating anything; a missing key or certificate is
// an error that satisfies errors.Is(err, fs.ErrNotExist) (a missing .pub file is not). Use it
// where making an identity would be a surprise, such as printing fingerprints.
func Load(dir string) (*Identity, error) {
	tlsCert, _, err := loadTLS(dir, "", false)
	if err != nil {
		return nil, err
	}
	signer, _, err := loadSSH(dir, "", false)
	if err != nil {
		return nil, err
	}
	return &Identity{TLS: tlsCert, Cert: tlsCert.Leaf, SSHSigner: signer}, nil
}

// TLSFingerprint returns the SHA-256 fingerprint of the leaf certificate as CertFingerprint
// formats it.
func (id *Identity) TLSFingerprint() string {
	return CertFingerprint(id.Cert.Raw)
}

// SSHFingerprint returns the SHA-256 fingerprint of the SSH host key as OpenSSH shows it
// ("SHA256:" and unpadded base64, as in ssh-keygen -l and ssh's first-connection prompt).
func (id *Identity) SSHFingerprint() string {
	return ssh.FingerprintSHA256(id.SSHSigner.PublicKey())
}

// CertPEM returns the leaf certificate in PEM, for a viewer's CA file (TigerVNC's -X509CA) or a
// browser's certificate import.
func (id *Identity) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: id.Cert.Raw})
}

// LogValue shows the fingerprints only, so logging an Identity never logs a private key.
func (id *Identity) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("tls_fingerprint", id.TLSFingerprint()),
		slog.String("ssh_fingerprint", id.SSHFingerprint()),
	)
}

// CertFingerprint returns the SHA-256 fingerprint of a DER certificate as "sha256/" followed by
// upper-case hex bytes separated by colons: the digits browsers show under "SHA-256 Fingerprint"
// and that openssl x509 -fingerprint -sha256 prints, with a prefix naming the hash.
func CertFingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	var b strings.Builder
	b.Grow(len("sha256/") + 3*len(sum))
	b.WriteString("sha256/")
	for i, c := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strings.ToUpper(hex.EncodeToString([]byte{c})))
	}
	return b.String()
}

// hostname returns the machine's host name, or "" when it has none.
func hostname() string {
	name, err := os.Hostname()
	if err != nil {
		return ""
	}
	return name
}
