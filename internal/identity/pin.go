package identity

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// ErrCertChanged is matched (errors.Is) by a CertError for a certificate that differs from
// the pinned one.
var ErrCertChanged = errors.New("host certificate changed")

// CertError is a host certificate this client does not trust: one that differs from the
// fingerprint pinned for the address, or one shown for the first time and not accepted.
type CertError struct {
	Addr   string // host:port as pinned
	Pinned string // the pinned fingerprint; empty when none was pinned and Accept said no
	Shown  string // the fingerprint of the certificate the host showed
	File   string // the known hosts file holding the pin, if any
}

func (e *CertError) Error() string {
	if e.Pinned == "" {
		return fmt.Sprintf("the certificate of %s (%s) was not accepted", e.Addr, e.Shown)
	}
	return fmt.Sprintf("the certificate of %s has changed: pinned %s, shown now %s", e.Addr, e.Pinned, e.Shown)
}

// Is makes a changed certificate match ErrCertChanged.
func (e *CertError) Is(target error) bool { return target == ErrCertChanged && e.Pinned != "" }

// Pinner checks the self-signed certificate of every TLS connection to one address against
// the fingerprint pinned for it in a known hosts file, pinning it on first use, as the SSH
// side does with host keys. The file holds one "host:port sha256/AA:BB:…" line per address,
// later lines winning; every buktu client command shares it (known_hosts-tls).
type Pinner struct {
	Addr string
	File string // "" means pins are not kept beyond this Pinner
	// Accept decides about a certificate seen for the first time; nil accepts it.
	Accept func(fingerprint string) bool
	Logger *slog.Logger

	mu      sync.Mutex // guards trusted, and makes concurrent handshakes ask Accept once
	trusted string     // the fingerprint this client trusts, once a connection was checked
}

// Config returns a client TLS configuration that trusts the host by its pin alone.
func (p *Pinner) Config() *tls.Config {
	return &tls.Config{
		InsecureSkipVerify: true, // the certificate is self-signed: Verify checks it by its pin
		VerifyConnection:   p.Verify,
		MinVersion:         tls.VersionTLS12,
	}
}

// Verify is a tls.Config.VerifyConnection: the certificate is self-signed, so it is trusted
// by its fingerprint alone.
func (p *Pinner) Verify(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("the host showed no certificate")
	}
	shown := CertFingerprint(cs.PeerCertificates[0].Raw)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.trusted == "" {
		pins, err := readPins(p.File)
		if err != nil {
			return err
		}
		pinned, ok := pins[p.Addr]
		if !ok {
			return p.firstUseLocked(shown)
		}
		p.trusted = pinned
	}
	if shown != p.trusted {
		return &CertError{Addr: p.Addr, Pinned: p.trusted, Shown: shown, File: p.File}
	}
	return nil
}

// firstUseLocked decides about a certificate with no pin: Accept says, or, without Accept,
// the first one seen is trusted.
func (p *Pinner) firstUseLocked(shown string) error {
	if p.Accept != nil && !p.Accept(shown) {
		return &CertError{Addr: p.Addr, Shown: shown}
	}
	if p.File != "" {
		if err := os.MkdirAll(filepath.Dir(p.File), 0o700); err != nil {
			return fmt.Errorf("make folder for known hosts: %w", err)
		}
		f, err := os.OpenFile(p.File, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("pin certificate: %w", err)
		}
		// One write of a whole line: other buktu processes append to the same file.
		_, err = f.WriteString(p.Addr + " " + shown + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("pin certificate: %w", err)
		}
	}
	if p.Logger != nil {
		p.Logger.Info("certificate pinned", "addr", p.Addr, "fingerprint", shown, "file", p.File)
	}
	p.trusted = shown
	return nil
}

// readPins reads a known hosts file of certificates: address to fingerprint. A missing file
// (or none) has no pins.
func readPins(file string) (map[string]string, error) {
	pins := map[string]string{}
	if file == "" {
		return pins, nil
	}
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return pins, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read known hosts: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		if addr, fp, ok := strings.Cut(strings.TrimSpace(line), " "); ok {
			pins[addr] = fp
		}
	}
	return pins, nil
}
