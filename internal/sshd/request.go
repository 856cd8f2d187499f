package sshd

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/ssh"
)

// buktu's own requests, sent as SSH global requests on the connection that carries SFTP (the
// SFTP server has no hash extension). Scalars and structs use SSH's wire encoding; a list is a
// uint32 count followed by that many SSH strings (SSH's own name-list would split on commas).
const (
	// ReqHello asks which service and account the connection has: no payload; HelloReply.
	ReqHello = "hello@buktu"
	// ReqSHA256 asks for files' sizes and SHA-256s, computed by the host: MarshalPaths,
	// MarshalSums. On the send port it answers only for files the account sent recently,
	// with the names they were placed under.
	ReqSHA256 = "sha256@buktu"
	// ReqPartial asks for the resumable size of interrupted uploads and the SHA-256 of those
	// prefixes: MarshalPaths, MarshalSums.
	ReqPartial = "partial@buktu"
	// ReqNote stores a note with a send: MarshalNote, NoteReply.
	ReqNote = "note@buktu"
)

// maxList bounds the entries of one list, so a request cannot make the host allocate without
// bound.
const maxList = 1 << 16

// ErrUnknownRequest is what a Handler returns for a request it does not know.
var ErrUnknownRequest = errors.New("unknown request")

// HelloReply answers ReqHello.
type HelloReply struct {
	Service string
	Account string
	Version string
}

// FileSum is a file's size and SHA-256 (hex), with the path it has on the host. An entry whose
// Error is not empty says why that file has no sum.
type FileSum struct {
	Path   string
	Size   uint64
	SHA256 string
	Error  string
}

// NoteReply names the note as stored.
type NoteReply struct{ Name string }

// Marshal encodes a struct of scalars in SSH's wire format.
func Marshal(v any) []byte { return ssh.Marshal(v) }

// Unmarshal decodes a struct of scalars from SSH's wire format.
func Unmarshal(b []byte, v any) error { return ssh.Unmarshal(b, v) }

func appendList(b []byte, items [][]byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(items)))
	for _, it := range items {
		b = binary.BigEndian.AppendUint32(b, uint32(len(it)))
		b = append(b, it...)
	}
	return b
}

// readList decodes a list and returns what follows it.
func readList(b []byte) ([][]byte, []byte, error) {
	if len(b) < 4 {
		return nil, nil, errors.New("short list")
	}
	n := binary.BigEndian.Uint32(b)
	b = b[4:]
	if n > maxList || int(n) > len(b)/4 {
		return nil, nil, fmt.Errorf("list of %d entries is too long", n)
	}
	items := make([][]byte, 0, n)
	for range n {
		if len(b) < 4 {
			return nil, nil, errors.New("short list entry")
		}
		l := binary.BigEndian.Uint32(b)
		b = b[4:]
		if uint64(l) > uint64(len(b)) {
			return nil, nil, errors.New("list entry longer than the request")
		}
		items = append(items, b[:l])
		b = b[l:]
	}
	return items, b, nil
}

// MarshalPaths encodes a list of paths.
func MarshalPaths(paths []string) []byte {
	items := make([][]byte, len(paths))
	for i, p := range paths {
		items[i] = []byte(p)
	}
	return appendList(nil, items)
}

// UnmarshalPaths decodes a list of paths.
func UnmarshalPaths(b []byte) ([]string, error) {
	items, rest, err := readList(b)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, errors.New("trailing bytes after the paths")
	}
	paths := make([]string, len(items))
	for i, it := range items {
		paths[i] = string(it)
	}
	return paths, nil
}

// MarshalSums encodes a list of FileSums.
func MarshalSums(sums []FileSum) []byte {
	items := make([][]byte, len(sums))
	for i, s := range sums {
		items[i] = ssh.Marshal(s)
	}
	return appendList(nil, items)
}

// UnmarshalSums decodes a list of FileSums.
func UnmarshalSums(b []byte) ([]FileSum, error) {
	items, rest, err := readList(b)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, errors.New("trailing bytes after the sums")
	}
	sums := make([]FileSum, len(items))
	for i, it := range items {
		if err := ssh.Unmarshal(it, &sums[i]); err != nil {
			return nil, err
		}
	}
	return sums, nil
}

// MarshalNote encodes a note and the names of the files it goes with.
func MarshalNote(text string, files []string) []byte {
	return append(ssh.Marshal(struct{ Text string }{text}), MarshalPaths(files)...)
}

// UnmarshalNote decodes a note request.
func UnmarshalNote(b []byte) (string, []string, error) {
	if len(b) < 4 {
		return "", nil, errors.New("short note")
	}
	l := binary.BigEndian.Uint32(b)
	if uint64(l) > uint64(len(b)-4) {
		return "", nil, errors.New("note longer than the request")
	}
	text := string(b[4 : 4+l])
	files, err := UnmarshalPaths(b[4+l:])
	return text, files, err
}
