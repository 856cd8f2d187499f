package identity

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"path/filepath"
	"strings"
	"time"
)

// certValidity is how long a generated certificate is valid. Clients pin it rather than
// trusting a CA, so a short life would only force re-pinning.
const certValidity = 10 * 365 * 24 * time.Hour

// loadTLS loads tls.key and tls.crt from dir. With create, it first makes a missing key, and a
// certificate for hostname when the certificate is missing; created reports either.
func loadTLS(dir, hostname string, create bool) (cert tls.Certificate, created bool, err error) {
	keyPath := filepath.Join(dir, TLSKeyFile)
	certPath := filepath.Join(dir, TLSCertFile)

	keyPEM, err := readPrivate(keyPath)
	if errors.Is(err, fs.ErrNotExist) && create {
		if exists(certPath) {
			return tls.Certificate{}, false, fmt.Errorf("load tls identity: %s exists but %s does not: restore the key, or remove both to make a new identity", certPath, keyPath)
		}
		keyPEM, err = newTLSKey()
		if err != nil {
			return tls.Certificate{}, false, err
		}
		err = writeNew(keyPath, keyPEM, 0o600)
		if errors.Is(err, fs.ErrExist) {
			keyPEM, err = readPrivate(keyPath) // a racing process wrote it first: use theirs
		} else if err == nil {
			created = true
		}
	}
	if err != nil {
		return tls.Certificate{}, false, fmt.Errorf("load tls identity: %w", err)
	}
	key, err := parseTLSKey(keyPEM)
	if err != nil {
		return tls.Certificate{}, false, fmt.Errorf("load tls identity: parse %s: %w", keyPath, err)
	}

	certPEM, err := readPublic(certPath)
	if errors.Is(err, fs.ErrNotExist) && create {
		// A key without a certificate is what a crash between the two writes leaves behind,
		// or an operator's own key: issue a certificate for it.
		certPEM, err = newCertPEM(key, hostname, time.Now())
		if err != nil {
			return tls.Certificate{}, false, err
		}
		err = writeNew(certPath, certPEM, 0o644)
		if errors.Is(err, fs.ErrExist) {
			certPEM, err = readPublic(certPath)
		} else if err == nil {
			created = true
		}
	}
	if err != nil {
		return tls.Certificate{}, false, fmt.Errorf("load tls identity: %w", err)
	}
	chain, leaf, err := parseCertChain(certPEM)
	if err != nil {
		return tls.Certificate{}, false, fmt.Errorf("load tls identity: parse %s: %w", certPath, err)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(leaf.PublicKey) {
		return tls.Certificate{}, false, fmt.Errorf("load tls identity: %s is not the certificate of %s", certPath, keyPath)
	}
	return tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf}, created, nil
}

// newTLSKey makes an ECDSA P-256 key in PKCS #8 PEM: P-256 is what every TLS peer we meet
// (browsers, GnuTLS in TigerVNC) accepts, and it signs fast.
func newTLSKey() ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate tls key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode tls key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// newCertPEM issues a self-signed certificate for key, valid from an hour before now (for
// clients whose clocks lag) for certValidity. It names hostname (and hostname.local for mDNS),
// localhost and the loopback addresses. It is a server certificate that is also its own CA, so
// TigerVNC's -X509CA (GnuTLS) accepts it as the trust anchor of a one-certificate chain.
func newCertPEM(key crypto.Signer, hostname string, now time.Time) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generate certificate serial: %w", err)
	}
	cn := "buktu host"
	if hostname != "" {
		cn += " " + hostname
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true, // it signs nothing but itself
		DNSNames:              dnsNames(hostname),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if _, ok := key.(*rsa.PrivateKey); ok {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment // RSA key exchange in old TLS peers
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// dnsNames lists the DNS names a generated certificate holds. A host name that is not a
// plain ASCII DNS name is left out: certificates cannot hold it, and the CN still shows it.
func dnsNames(hostname string) []string {
	names := []string{}
	if isDNSName(hostname) && hostname != "localhost" {
		names = append(names, hostname)
		if !strings.Contains(hostname, ".") {
			names = append(names, hostname+".local")
		}
	}
	return append(names, "localhost")
}

// isDNSName reports whether s is made of DNS name characters only.
func isDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, c := range []byte(s) {
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_'
		if !ok {
			return false
		}
	}
	return true
}

// parseTLSKey parses the first private key in PEM data: PKCS #8, PKCS #1 (RSA) or SEC 1 (EC),
// as tls.X509KeyPair does, skipping other blocks such as EC PARAMETERS.
func parseTLSKey(data []byte) (crypto.Signer, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("no PEM private key block")
		}
		switch {
		case block.Type == "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("key is encrypted, which is not supported")
		case block.Type == "PRIVATE KEY" || strings.HasSuffix(block.Type, " PRIVATE KEY"):
			return parseKeyDER(block.Bytes)
		}
	}
}

// parseKeyDER parses a private key in any of the DER forms TLS keys come in.
func parseKeyDER(der []byte) (crypto.Signer, error) {
	if key, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		switch key := key.(type) {
		case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
			return key.(crypto.Signer), nil
		default:
			return nil, fmt.Errorf("unsupported key type %T", key)
		}
	}
	if key, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return key, nil
	}
	if key, err := x509.ParseECPrivateKey(der); err == nil {
		return key, nil
	}
	return nil, errors.New("not a PKCS #8, PKCS #1 or EC private key")
}

// parseCertChain parses the CERTIFICATE blocks in PEM data, leaf first, skipping other blocks.
func parseCertChain(data []byte) (chain [][]byte, leaf *x509.Certificate, err error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type == "CERTIFICATE" {
			chain = append(chain, block.Bytes)
		}
	}
	if len(chain) == 0 {
		return nil, nil, errors.New("no PEM CERTIFICATE block")
	}
	leaf, err = x509.ParseCertificate(chain[0])
	if err != nil {
		return nil, nil, err
	}
	return chain, leaf, nil
}
