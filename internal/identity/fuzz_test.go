package identity

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"slices"
	"testing"
	"time"
)

func FuzzParseTLSKey(f *testing.F) {
	key, err := newTLSKey()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(key)
	f.Add(append([]byte("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"), key...))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := parseTLSKey(b)
		if err != nil {
			return // rejecting is fine; panicking is not
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatalf("re-encode key %T parsed from %q: %v", k, b, err)
		}
		again, err := parseTLSKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		if err != nil || !again.(interface{ Equal(crypto.PrivateKey) bool }).Equal(k) {
			t.Fatalf("round trip of key parsed from %q: got %v, %v", b, again, err)
		}
	})
}

func FuzzParseCertChain(f *testing.F) {
	key, err := newTLSKey()
	if err != nil {
		f.Fatal(err)
	}
	signer, err := parseTLSKey(key)
	if err != nil {
		f.Fatal(err)
	}
	cert, err := newCertPEM(signer, "fuzz", time.Now())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(cert)
	f.Add(append(append(slices.Clone(key), cert...), cert...))
	f.Fuzz(func(t *testing.T, b []byte) {
		chain, leaf, err := parseCertChain(b)
		if err != nil {
			return
		}
		var enc []byte
		for _, der := range chain {
			enc = append(enc, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
		}
		again, againLeaf, err := parseCertChain(enc)
		if err != nil || !slices.EqualFunc(again, chain, bytes.Equal) || !bytes.Equal(againLeaf.Raw, leaf.Raw) {
			t.Fatalf("round trip of chain parsed from %q: got %d certificates, %v", b, len(again), err)
		}
	})
}
