package sshd

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// idleHandler has no transfer open, ever: whatever keeps a connection alive while the server
// stops must be the stream itself.
type idleHandler struct{ sink *memSink }

func (h idleHandler) SFTP() sftp.Handlers                    { return sftp.Handlers{} }
func (h idleHandler) Request(string, []byte) ([]byte, error) { return nil, nil }
func (h idleHandler) Busy() bool                             { return false }
func (h idleHandler) Close() error                           { return nil }
func (h idleHandler) PutSink() PutSink                       { return h.sink }

// TestStopWaitsForOpenStream stops the server while a client has a put stream open and is
// between two files (no file open on the host): the stream goes on within the shutdown grace,
// its next file is stored and answered, and the server returns once the client closes it.
func TestStopWaitsForOpenStream(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{placed: map[string][]byte{}}
	srv := &Server{
		Signer: signer,
		Password: func(_ context.Context, user, _ string, _ netip.AddrPort) (string, error) {
			return user, nil
		},
		Open:          func(context.Context, Conn) (Handler, error) { return idleHandler{sink}, nil },
		ShutdownGrace: time.Minute,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	client, err := ssh.Dial("tcp", ln.Addr().String(), &ssh.ClientConfig{User: "ann",
		Auth: []ssh.AuthMethod{ssh.Password("pw")}, HostKeyCallback: ssh.FixedHostKey(signer.PublicKey())})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ch, reqs, err := client.OpenChannel("session", nil)
	if err != nil {
		t.Fatal(err)
	}
	go ssh.DiscardRequests(reqs)
	if ok, err := ch.SendRequest("subsystem", true, ssh.Marshal(struct{ Name string }{SubsystemPut})); !ok || err != nil {
		t.Fatalf("start %s: %v, %v", SubsystemPut, ok, err)
	}
	pw, answers := NewPutWriter(ch), bufio.NewReader(ch)
	send := func(name string) {
		t.Helper()
		if _, err := pw.Send(name, 5, 0, strings.NewReader("hello")); err != nil {
			t.Fatalf("send %s: %v", name, err)
		}
		if err := pw.Flush(); err != nil {
			t.Fatalf("send %s: %v", name, err)
		}
	}
	send("one.txt")
	// Between files, the host stops: its listener closes, and then it looks at what each
	// connection is doing. It must let the open stream go on.
	stop()
	for {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			break
		}
		c.Close()
	}
	send("two.txt")
	ch.CloseWrite()
	for _, name := range []string{"one.txt", "two.txt"} {
		if _, err := ReadPutAck(answers); err != nil {
			t.Fatalf("the answer for %s, sent on a stream open when the host stopped: %v; want it stored", name, err)
		}
	}
	if err := <-served; err != nil {
		t.Errorf("Serve() = %v; want nil", err)
	}
	if string(sink.placed["two.txt"]) != "hello" {
		t.Errorf("two.txt on the host = %q; want hello", sink.placed["two.txt"])
	}
}
