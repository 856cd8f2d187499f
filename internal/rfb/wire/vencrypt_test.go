package wire

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

// TestVeNCryptExchange runs both sides of a VeNCrypt X509Plain negotiation over buffers, in
// the order the spec gives.
func TestVeNCryptExchange(t *testing.T) {
	offered := []VeNCryptSubtype{VeNCryptX509Plain, VeNCryptTLSPlain}
	var toClient, toServer bytes.Buffer

	toClient.Write(AppendVeNCryptVersion(nil)) // server
	if major, minor, err := ReadVeNCryptVersion(&toClient); major != 0 || minor != 2 || err != nil {
		t.Fatalf("client: ReadVeNCryptVersion = %d.%d, %v; want 0.2", major, minor, err)
	}
	toServer.Write(AppendVeNCryptVersion(nil)) // client
	if major, minor, err := ReadVeNCryptVersion(&toServer); major != 0 || minor != 2 || err != nil {
		t.Fatalf("server: ReadVeNCryptVersion = %d.%d, %v; want 0.2", major, minor, err)
	}
	toClient.Write(AppendVeNCryptVersionAck(nil, true))
	toClient.Write(AppendVeNCryptSubtypes(nil, offered))
	if err := ReadVeNCryptVersionAck(&toClient); err != nil {
		t.Fatalf("client: ReadVeNCryptVersionAck = %v", err)
	}
	got, err := ReadVeNCryptSubtypes(&toClient)
	if err != nil || !reflect.DeepEqual(got, offered) {
		t.Fatalf("client: ReadVeNCryptSubtypes = %v, %v; want %v", got, err, offered)
	}
	toServer.Write(AppendVeNCryptSubtype(nil, VeNCryptX509Plain))
	chosen, err := ReadVeNCryptChoice(&toServer, offered)
	if err != nil || chosen != VeNCryptX509Plain || !chosen.TLS() || !chosen.X509() || !chosen.Plain() {
		t.Fatalf("server: ReadVeNCryptChoice = %v, %v; want X509Plain", chosen, err)
	}
	toClient.Write(AppendVeNCryptTLSAck(nil, true))
	if err := ReadVeNCryptTLSAck(&toClient); err != nil {
		t.Fatalf("client: ReadVeNCryptTLSAck = %v", err)
	}
	// Here the session runs the TLS handshake; Plain follows inside it.
	creds := PlainAuth{Username: "alice", Password: "s3cret ✓"}
	toServer.Write(creds.Append(nil))
	if got, err := ReadPlainAuth(&toServer); got != creds || err != nil {
		t.Fatalf("server: ReadPlainAuth = %v, %v; want %v", got, err, creds)
	}
	if toClient.Len()+toServer.Len() != 0 {
		t.Errorf("%d and %d bytes left unread", toClient.Len(), toServer.Len())
	}
}

func TestVeNCryptRefusals(t *testing.T) {
	tests := []struct {
		name    string
		read    func(io.Reader) error
		in      []byte
		wantErr error
	}{
		{"version nack", ReadVeNCryptVersionAck, AppendVeNCryptVersionAck(nil, false), nil},
		{"tls nack", ReadVeNCryptTLSAck, AppendVeNCryptTLSAck(nil, false), nil},
		{"tls ack of 2", ReadVeNCryptTLSAck, []byte{2}, nil},
		{"no sub-types", func(r io.Reader) error { _, err := ReadVeNCryptSubtypes(r); return err }, []byte{0}, nil},
		{"truncated sub-types", func(r io.Reader) error { _, err := ReadVeNCryptSubtypes(r); return err }, []byte{2, 0, 0, 1, 2}, io.ErrUnexpectedEOF},
		{"choice not offered", func(r io.Reader) error {
			_, err := ReadVeNCryptChoice(r, []VeNCryptSubtype{VeNCryptX509Plain})
			return err
		}, AppendVeNCryptSubtype(nil, VeNCryptPlain), ErrNotOffered},
		{"plain username too long", func(r io.Reader) error { _, err := ReadPlainAuth(r); return err },
			cat(u32(MaxPlainLength+1), u32(1)), ErrTooLong},
		{"plain password too long", func(r io.Reader) error { _, err := ReadPlainAuth(r); return err },
			cat(u32(1), u32(0xFFFFFFFF)), ErrTooLong},
		{"plain truncated", func(r io.Reader) error { _, err := ReadPlainAuth(r); return err },
			cat(u32(5), u32(5), []byte("alice")), io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.read(bytes.NewReader(tt.in))
			if err == nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("reading %x = %v; want an error matching %v", tt.in, err, tt.wantErr)
			}
		})
	}
}

func TestPlainAuthRedacts(t *testing.T) {
	p := PlainAuth{Username: "alice", Password: "hunter2"}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("login", "creds", p)
	for name, s := range map[string]string{"%v": fmt.Sprintf("%v", p), "%+v": fmt.Sprintf("%+v", p), "slog": logs.String()} {
		if strings.Contains(s, "hunter2") || !strings.Contains(s, "alice") {
			t.Errorf("%s of PlainAuth = %q; want the username and no password", name, s)
		}
	}
}

func TestVeNCryptSubtypeString(t *testing.T) {
	if got := VeNCryptX509Plain.String(); got != "X509Plain" {
		t.Errorf("VeNCryptX509Plain.String() = %q", got)
	}
	if got := VeNCryptSubtype(5).String(); got != "vencrypt(5)" {
		t.Errorf("VeNCryptSubtype(5).String() = %q", got)
	}
	if VeNCryptPlain.TLS() || VeNCryptTLSVnc.X509() || VeNCryptX509Vnc.Plain() {
		t.Error("Plain, TLSVnc or X509Vnc has the wrong properties")
	}
}
