package testenv

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
)

// StartScreenHostOn starts a host with all four ports on, sharing the X display display
// (such as an Xvfb the test started, so that the test knows its true pixels) whose cookie is
// in the Xauthority file authority, with ScreenConfig plus extra.
func StartScreenHostOn(t testing.TB, display, authority, extra string) *Host {
	t.Helper()
	h := &Host{Bin: Binary(t), DataDir: t.TempDir(),
		Args: []string{"--display", display}, Env: []string{"XAUTHORITY=" + authority}}
	h.writeConfig(t, ScreenConfig+extra)
	h.Start(t)
	return h
}

// CertFile returns the host's TLS certificate file, which is also its own CA.
func (h *Host) CertFile() string { return filepath.Join(h.DataDir, "tls.crt") }

// ScreenTLS returns a client TLS configuration that trusts only the host's certificate.
func (h *Host) ScreenTLS(t testing.TB) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(h.CertFile())
	if err != nil {
		t.Fatalf("read the host's certificate: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("the host's certificate %s holds no PEM certificate", h.CertFile())
	}
	return &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
}
