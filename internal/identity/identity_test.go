package identity

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// create makes a fresh identity in a new directory and returns both.
func create(t *testing.T) (*Identity, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	id, created, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatalf("LoadOrCreate(%q): %v", dir, err)
	}
	if !created {
		t.Fatalf("LoadOrCreate(%q) on an empty directory: created = false", dir)
	}
	return id, dir
}

func TestLoadOrCreateReusesIdentity(t *testing.T) {
	first, dir := create(t)
	again, created, err := LoadOrCreate(dir)
	if err != nil || created {
		t.Fatalf("LoadOrCreate(%q) again = %v, %v; want no error, created false", dir, created, err)
	}
	loaded, err := Load(dir)
	if err != nil {
		t.Fatalf("Load(%q): %v", dir, err)
	}
	for _, id := range []*Identity{again, loaded} {
		if got, want := id.TLSFingerprint(), first.TLSFingerprint(); got != want {
			t.Errorf("TLSFingerprint() after reload = %s; want %s", got, want)
		}
		if got, want := id.SSHFingerprint(), first.SSHFingerprint(); got != want {
			t.Errorf("SSHFingerprint() after reload = %s; want %s", got, want)
		}
	}
	if !strings.HasPrefix(first.TLSFingerprint(), "sha256/") || !strings.HasPrefix(first.SSHFingerprint(), "SHA256:") {
		t.Errorf("fingerprints = %s, %s; want sha256/… and SHA256:…", first.TLSFingerprint(), first.SSHFingerprint())
	}
	if first.TLS.Leaf != first.Cert || first.SSHSigner.PublicKey().Type() != "ssh-ed25519" {
		t.Errorf("Identity = leaf %p, cert %p, ssh %s; want the same leaf and an ed25519 key", first.TLS.Leaf, first.Cert, first.SSHSigner.PublicKey().Type())
	}
}

func TestLoadMissing(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(empty dir) = %v; want fs.ErrNotExist", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Load(empty dir) created %d files; want none", len(entries))
	}
}

func TestFileModes(t *testing.T) {
	_, dir := create(t)
	tests := []struct {
		name string
		want fs.FileMode
	}{
		{".", fs.ModeDir | 0o700},
		{TLSKeyFile, 0o600},
		{TLSCertFile, 0o644},
		{SSHKeyFile, 0o600},
		{SSHPubFile, 0o644},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := os.Stat(filepath.Join(dir, tt.name))
			if err != nil {
				t.Fatal(err)
			}
			if got := info.Mode(); got != tt.want {
				t.Errorf("mode of %s = %v; want %v", tt.name, got, tt.want)
			}
		})
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Errorf("data directory holds %d entries; want 4 (no temporary files left)", len(entries))
	}
}

func TestUnprotectedKeyRefused(t *testing.T) {
	tests := []struct {
		name string
		file string
		mode fs.FileMode
	}{
		{"tls group read", TLSKeyFile, 0o640},
		{"tls world read", TLSKeyFile, 0o604},
		{"ssh group read", SSHKeyFile, 0o640},
		{"ssh group write", SSHKeyFile, 0o620},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, dir := create(t)
			path := filepath.Join(dir, tt.file)
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, _, err := LoadOrCreate(dir)
			if !errors.Is(err, ErrUnprotectedKey) || !strings.Contains(err.Error(), path) {
				t.Errorf("LoadOrCreate with %s mode %04o = %v; want ErrUnprotectedKey naming the file", tt.file, tt.mode, err)
			}
		})
	}
}

func TestBrokenFilesAreErrors(t *testing.T) {
	_, otherDir := create(t)
	garbage := []byte("not a key\n")
	truncated := func(dir, name string) []byte {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		return b[:len(b)/2]
	}
	fromOther := func(_, name string) []byte {
		b, _ := os.ReadFile(filepath.Join(otherDir, name))
		return b
	}
	tests := []struct {
		name    string
		file    string
		content func(dir, name string) []byte
	}{
		{"tls key garbage", TLSKeyFile, func(string, string) []byte { return garbage }},
		{"tls key truncated", TLSKeyFile, truncated},
		{"tls key empty", TLSKeyFile, func(string, string) []byte { return nil }},
		{"tls cert garbage", TLSCertFile, func(string, string) []byte { return garbage }},
		{"tls cert truncated", TLSCertFile, truncated},
		{"tls cert of another key", TLSCertFile, fromOther},
		{"tls key of another cert", TLSKeyFile, fromOther},
		{"ssh key garbage", SSHKeyFile, func(string, string) []byte { return garbage }},
		{"ssh key truncated", SSHKeyFile, truncated},
		{"ssh pub garbage", SSHPubFile, func(string, string) []byte { return garbage }},
		{"ssh pub of another key", SSHPubFile, fromOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, dir := create(t)
			path := filepath.Join(dir, tt.file)
			content := tt.content(dir, tt.file)
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, load := range []func() error{
				func() error { _, _, err := LoadOrCreate(dir); return err },
				func() error { _, err := Load(dir); return err },
			} {
				if err := load(); err == nil || !strings.Contains(err.Error(), tt.file) {
					t.Errorf("load with %s = %v; want an error naming %s", tt.name, err, tt.file)
				}
			}
			if got, _ := os.ReadFile(path); string(got) != string(content) {
				t.Errorf("%s was rewritten; a broken identity must never be regenerated", tt.file)
			}
		})
	}
}

func TestHalfPresentIdentity(t *testing.T) {
	tests := []struct {
		name        string
		remove      string
		wantErr     bool
		wantCreated bool
	}{
		{"certificate without key", TLSKeyFile, true, false},
		{".pub without ssh key", SSHKeyFile, true, false},
		{"tls key without certificate", TLSCertFile, false, true},
		{"ssh key without .pub", SSHPubFile, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first, dir := create(t)
			if err := os.Remove(filepath.Join(dir, tt.remove)); err != nil {
				t.Fatal(err)
			}
			id, created, err := LoadOrCreate(dir)
			if (err != nil) != tt.wantErr || created != tt.wantCreated {
				t.Fatalf("LoadOrCreate without %s = %v, %v; want error %v, created %v", tt.remove, created, err, tt.wantErr, tt.wantCreated)
			}
			if err != nil {
				if !exists(filepath.Join(dir, tt.remove)) {
					return
				}
				t.Fatalf("LoadOrCreate recreated %s despite the error", tt.remove)
			}
			samePub := id.Cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(first.Cert.PublicKey)
			if id.SSHFingerprint() != first.SSHFingerprint() || !samePub {
				t.Errorf("LoadOrCreate without %s changed a key", tt.remove)
			}
			if !exists(filepath.Join(dir, tt.remove)) {
				t.Errorf("LoadOrCreate did not write %s back", tt.remove)
			}
		})
	}
}

func TestCertVerifiesAsItsOwnCA(t *testing.T) {
	id, _ := create(t)
	roots := x509.NewCertPool()
	roots.AddCert(id.Cert)
	names := []string{"localhost", "127.0.0.1", "::1"}
	if h := hostname(); h != "" {
		names = append(names, h)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			_, err := id.Cert.Verify(x509.VerifyOptions{
				DNSName:   name,
				Roots:     roots,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			})
			if err != nil {
				t.Errorf("Verify(%q) with the certificate as its own root: %v", name, err)
			}
		})
	}
	c := id.Cert
	if !c.IsCA || !c.BasicConstraintsValid || c.KeyUsage&x509.KeyUsageCertSign == 0 || c.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		t.Errorf("certificate IsCA %v, constraints valid %v, key usage %b; want a CA with cert sign and digital signature", c.IsCA, c.BasicConstraintsValid, c.KeyUsage)
	}
	if life := c.NotAfter.Sub(c.NotBefore); life < 9*365*24*time.Hour {
		t.Errorf("certificate valid for %v; want about ten years", life)
	}
	if want := "buktu host " + hostname(); c.Subject.CommonName != strings.TrimSpace(want) {
		t.Errorf("CommonName = %q; want %q", c.Subject.CommonName, want)
	}
}

func TestTLSHandshake(t *testing.T) {
	id, _ := create(t)
	roots := x509.NewCertPool()
	roots.AddCert(id.Cert)
	cConn, sConn := net.Pipe()
	defer cConn.Close()
	defer sConn.Close()
	server := tls.Server(sConn, &tls.Config{Certificates: []tls.Certificate{id.TLS}})
	client := tls.Client(cConn, &tls.Config{RootCAs: roots, ServerName: "localhost"})
	errc := make(chan error, 1)
	go func() { errc <- server.HandshakeContext(t.Context()) }()
	if err := client.HandshakeContext(t.Context()); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("server handshake: %v", err)
	}
	peer := client.ConnectionState().PeerCertificates[0]
	if got := CertFingerprint(peer.Raw); got != id.TLSFingerprint() {
		t.Errorf("CertFingerprint(peer) = %s; want %s", got, id.TLSFingerprint())
	}
}

// run runs an external tool that the project's setup installs, skipping when it is missing.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s not installed (scripts/setup-debian.sh installs it)", name)
	}
	out, err := exec.CommandContext(t.Context(), name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestOpenSSLAgrees(t *testing.T) {
	id, dir := create(t)
	crt := filepath.Join(dir, TLSCertFile)
	run(t, "openssl", "verify", "-CAfile", crt, "-purpose", "sslserver", crt)
	out := run(t, "openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", crt)
	_, hexFP, _ := strings.Cut(strings.TrimSpace(out), "=")
	if want := "sha256/" + hexFP; id.TLSFingerprint() != want {
		t.Errorf("TLSFingerprint() = %s; openssl says %s", id.TLSFingerprint(), want)
	}
	run(t, "openssl", "pkey", "-noout", "-in", filepath.Join(dir, TLSKeyFile))
}

func TestSSHKeygenAgrees(t *testing.T) {
	id, dir := create(t)
	out := run(t, "ssh-keygen", "-lf", filepath.Join(dir, SSHPubFile))
	// "256 SHA256:… buktu host name (ED25519)"
	if f := strings.Fields(out); len(f) < 2 || f[1] != id.SSHFingerprint() {
		t.Errorf("ssh-keygen -lf printed %q; want the fingerprint %s", out, id.SSHFingerprint())
	}
	pub := run(t, "ssh-keygen", "-y", "-f", filepath.Join(dir, SSHKeyFile))
	want, _ := os.ReadFile(filepath.Join(dir, SSHPubFile))
	if f, w := strings.Fields(pub), strings.Fields(string(want)); len(f) < 2 || len(w) < 2 || f[1] != w[1] {
		t.Errorf("ssh-keygen -y of the private key = %q; want the key in %s: %q", pub, SSHPubFile, want)
	}
}

func TestConcurrentCreateAgrees(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	const n = 4
	var wg sync.WaitGroup
	fps := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			id, _, err := LoadOrCreate(dir)
			errs[i] = err
			if err == nil {
				fps[i] = id.TLSFingerprint() + " " + id.SSHFingerprint()
			}
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || fps[i] != fps[0] {
			t.Errorf("LoadOrCreate #%d = %q, %v; want %q like #0", i, fps[i], errs[i], fps[0])
		}
	}
}

func TestOperatorSuppliedRSAPair(t *testing.T) {
	dir := t.TempDir()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	certPEM, err := newCertPEM(key, "example", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, TLSKeyFile), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, TLSCertFile), certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	id, created, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatalf("LoadOrCreate with an RSA pair: %v", err)
	}
	if !created { // the SSH key was made
		t.Errorf("LoadOrCreate created = false; want true for the new SSH key")
	}
	if _, ok := id.TLS.PrivateKey.(*rsa.PrivateKey); !ok || id.Cert.Subject.CommonName != "buktu host example" {
		t.Errorf("LoadOrCreate loaded key %T, CN %q; want the RSA pair written", id.TLS.PrivateKey, id.Cert.Subject.CommonName)
	}
}

func TestLogValueHidesKeys(t *testing.T) {
	id, _ := create(t)
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("identity", "id", id)
	got := b.String()
	if !strings.Contains(got, id.TLSFingerprint()) || !strings.Contains(got, id.SSHFingerprint()) || strings.Contains(got, "PrivateKey") {
		t.Errorf("logged identity = %q; want the fingerprints and nothing else", got)
	}
}

func TestCertFingerprint(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "sha256/E3:B0:C4:42:98:FC:1C:14:9A:FB:F4:C8:99:6F:B9:24:27:AE:41:E4:64:9B:93:4C:A4:95:99:1B:78:52:B8:55"},
		{"abc", []byte("abc"), "sha256/BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CertFingerprint(tt.in); got != tt.want {
				t.Errorf("CertFingerprint(%q) = %s; want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestCertPEM(t *testing.T) {
	id, dir := create(t)
	want, _ := os.ReadFile(filepath.Join(dir, TLSCertFile))
	if got := id.CertPEM(); string(got) != string(want) {
		t.Errorf("CertPEM() = %q; want the contents of %s", got, TLSCertFile)
	}
}

func ExampleCertFingerprint() {
	fmt.Println(CertFingerprint([]byte("abc")))
	// Output: sha256/BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD
}

func TestDNSNames(t *testing.T) {
	tests := []struct {
		name, host string
		want       []string
	}{
		{"short name", "vm", []string{"vm", "vm.local", "localhost"}},
		{"qualified", "vm.example.org", []string{"vm.example.org", "localhost"}},
		{"localhost", "localhost", []string{"localhost"}},
		{"none", "", []string{"localhost"}},
		{"not ascii", "büro", []string{"localhost"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dnsNames(tt.host); !slices.Equal(got, tt.want) {
				t.Errorf("dnsNames(%q) = %q; want %q", tt.host, got, tt.want)
			}
		})
	}
	key, err := newTLSKey()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := parseTLSKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newCertPEM(signer, "büro", time.Now()); err != nil {
		t.Errorf("newCertPEM for a non-ASCII host name: %v", err)
	}
}
