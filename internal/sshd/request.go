package sshd

import (
	"errors"

	"golang.org/x/crypto/ssh"
)

// buktu's own requests, sent as SSH global requests on the connection that carries SFTP (the
// SFTP server has no hash extension). Payloads and replies are SSH wire structs.
const (
	// ReqHello asks which service and account the connection has: HelloReply.
	ReqHello = "hello@buktu"
	// ReqSHA256 asks for files' sizes and SHA-256s, computed by the host: PathsRequest,
	// MarshalSums. On the send port it answers only for files this connection uploaded, with
	// the names they were placed under.
	ReqSHA256 = "sha256@buktu"
	// ReqPartial asks for the resumable size of an interrupted upload and the SHA-256 of
	// that prefix: PathsRequest, MarshalSums.
	ReqPartial = "partial@buktu"
	// ReqNote stores a note with a send: NoteRequest, NoteReply.
	ReqNote = "note@buktu"
)

// ErrUnknownRequest is what a Handler returns for a request it does not know.
var ErrUnknownRequest = errors.New("unknown request")

// HelloReply answers ReqHello.
type HelloReply struct {
	Service string
	Account string
	Version string
}

// PathsRequest names files; one request carries many, so checking thousands of small files
// costs few round trips.
type PathsRequest struct{ Paths []string }

// FileSum is a file's size and SHA-256, with the path it has on the host.
type FileSum struct {
	Path   string
	Size   uint64
	SHA256 string
	Error  string
}

// MarshalSums encodes a SumsReply. SSH's wire format has no list of structs, so each entry is
// encoded on its own and the list is a list of strings.
func MarshalSums(sums []FileSum) []byte {
	var parts []string
	for _, s := range sums {
		parts = append(parts, string(ssh.Marshal(s)))
	}
	return ssh.Marshal(struct{ Parts []string }{parts})
}

// UnmarshalSums decodes a SumsReply.
func UnmarshalSums(b []byte) ([]FileSum, error) {
	var w struct{ Parts []string }
	if err := ssh.Unmarshal(b, &w); err != nil {
		return nil, err
	}
	sums := make([]FileSum, len(w.Parts))
	for i, p := range w.Parts {
		if err := ssh.Unmarshal([]byte(p), &sums[i]); err != nil {
			return nil, err
		}
	}
	return sums, nil
}

// NoteRequest carries a note and the names of the files it goes with.
type NoteRequest struct {
	Text  string
	Files []string
}

// NoteReply names the note as stored.
type NoteReply struct{ Name string }

// Marshal encodes a request or reply.
func Marshal(v any) []byte { return ssh.Marshal(v) }

// Unmarshal decodes a request or reply.
func Unmarshal(b []byte, v any) error { return ssh.Unmarshal(b, v) }
