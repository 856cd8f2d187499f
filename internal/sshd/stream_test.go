package sshd

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
)

// memFile is a file held in memory, served on a get stream.
type memFile struct {
	*bytes.Reader
	data    []byte
	readErr error // returned by ReadAt past the first byte, when set
}

func (m memFile) ReadAt(b []byte, off int64) (int, error) {
	if m.readErr != nil && off > 0 {
		return 0, m.readErr
	}
	return m.Reader.ReadAt(b, off)
}

func (m memFile) Finish() (int64, string, error) {
	s := sha256.Sum256(m.data)
	return int64(len(m.data)), hex.EncodeToString(s[:]), nil
}

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// pipe runs serve on one end of a loopback TCP connection (which, unlike net.Pipe, closes
// one way at a time, as an SSH channel does) and returns the other end.
func pipe(t *testing.T, serve func(io.ReadWriter) error) *net.TCPConn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- serve(server); server.Close() }()
	t.Cleanup(func() {
		client.Close()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return client.(*net.TCPConn)
}

func TestGetStream(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 3*maxFrame/16+77) // several frames
	files := map[string][]byte{"empty": {}, "small": []byte("hello"), "big": big}
	open := func(p string) (GetFile, error) {
		switch {
		case p == "broken":
			return memFile{Reader: bytes.NewReader(big), data: big, readErr: errors.New("read /secret/host/path: I/O error")}, nil
		case files[p] != nil:
			return memFile{Reader: bytes.NewReader(files[p]), data: files[p]}, nil
		}
		return nil, errors.New("no such file")
	}
	c := pipe(t, func(rw io.ReadWriter) error { return ServeGet(rw, open) })
	items := []GetItem{{"small", 0}, {"missing", 0}, {"big", 0}, {"broken", 0}, {"empty", 0}, {"big", maxFrame + 3}}
	go WriteGetRequest(c, items)
	g := NewGetReader(c)
	for _, it := range items {
		var got bytes.Buffer
		size, s, err := g.Next(&got)
		var fe *FileError
		switch it.Path {
		case "missing", "broken":
			if !errors.As(err, &fe) {
				t.Fatalf("%s: %v, want a FileError", it.Path, err)
			}
			if strings.Contains(fe.Message, "/secret") {
				t.Errorf("%s: the error names a host path: %q", it.Path, fe.Message)
			}
		default:
			want := files[it.Path]
			if err != nil || size != int64(len(want)) || s != sum(want) || !bytes.Equal(got.Bytes(), want[it.Offset:]) {
				t.Fatalf("%s at %d: size %d, sum %.8s, %d bytes, %v; want %d, %.8s, %d bytes", it.Path, it.Offset,
					size, s, got.Len(), err, len(want), sum(want), len(want)-int(it.Offset))
			}
		}
	}
}

func TestGetRequestLimits(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"too many", []byte{0xff, 0xff, 0xff, 0xff}},
		{"short path", []byte{0, 0, 0, 1, 0, 0, 0, 9, 'a'}},
		{"long path", []byte{0, 0, 0, 1, 0, 1, 0, 0}},
		{"no offset", []byte{0, 0, 0, 1, 0, 0, 0, 1, 'a', 0, 0}},
		{"offset out of range", []byte{0, 0, 0, 1, 0, 0, 0, 1, 'a', 0xff, 0, 0, 0, 0, 0, 0, 0}},
	} {
		if _, err := ReadGetRequest(bytes.NewReader(tt.in)); err == nil {
			t.Errorf("%s: ReadGetRequest accepted %x", tt.name, tt.in)
		}
	}
	items := []GetItem{{"a", 0}, {"dir/ü b", 1 << 40}, {"", 3}}
	var b bytes.Buffer
	if err := WriteGetRequest(&b, items); err != nil {
		t.Fatal(err)
	}
	got, err := ReadGetRequest(&b)
	if err != nil || !reflect.DeepEqual(got, items) {
		t.Errorf("round trip: %v, %v", got, err)
	}
}

// memSink keeps the files of a put stream in memory.
type memSink struct {
	mu          sync.Mutex
	placed      map[string][]byte
	finishes    []int // files per Finish call
	discarded   []string
	interrupted []string
}

type memPut struct {
	path    string
	buf     []byte
	fail    bool
	written bool
}

func (m *memPut) WriteAt(b []byte, off int64) (int, error) {
	if m.fail && off > 0 {
		return 0, errors.New("disk full")
	}
	if int(off) != len(m.buf) {
		return 0, fmt.Errorf("write at %d, have %d", off, len(m.buf))
	}
	m.buf = append(m.buf, b...)
	return len(b), nil
}

func (m *memPut) Written() { m.written = true }

func (s *memSink) Create(p string, _, offset int64) (PutFile, error) {
	if strings.HasPrefix(p, "denied") {
		return nil, errors.New("permission denied")
	}
	m := &memPut{path: p, fail: strings.HasPrefix(p, "full")}
	if offset > 0 {
		s.mu.Lock()
		defer s.mu.Unlock()
		old, ok := s.placed[p]
		if !ok || int64(len(old)) < offset {
			return nil, errors.New("nothing to resume")
		}
		m.buf = append([]byte{}, old[:offset]...)
		delete(s.placed, p)
	}
	return m, nil
}

func (s *memSink) Finish(fs []PutFile) []FileSum {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finishes = append(s.finishes, len(fs))
	out := make([]FileSum, len(fs))
	for i, f := range fs {
		m := f.(*memPut)
		if !m.written {
			panic("a file was finished before it was written whole")
		}
		name := m.path
		if _, taken := s.placed[name]; taken {
			name += " (2)"
		}
		s.placed[name] = m.buf
		out[i] = FileSum{Path: name, Size: uint64(len(m.buf)), SHA256: sum(m.buf)}
	}
	return out
}

func (s *memSink) Interrupt(f PutFile) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.interrupted = append(s.interrupted, f.(*memPut).path)
}

func (s *memSink) Discard(f PutFile) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.discarded = append(s.discarded, f.(*memPut).path)
}

func TestPutStream(t *testing.T) {
	sink := &memSink{placed: map[string][]byte{}}
	c := pipe(t, func(rw io.ReadWriter) error {
		err := ServePut(rw, sink)
		return err
	})
	type send struct {
		path   string
		data   []byte
		src    io.Reader // instead of data
		offset int64     // data[offset:] is sent, to resume what the sink has
	}
	big := bytes.Repeat([]byte{7}, 2*maxFrame+5)
	var files []send
	for i := range putBatch + 3 { // more than one batch
		files = append(files, send{path: fmt.Sprintf("f%d", i), data: []byte(fmt.Sprint("file ", i))})
	}
	files = append(files,
		send{path: "denied/x", data: []byte("no")},
		send{path: "big", data: big},
		send{path: "full", data: big},
		send{path: "unreadable", src: io.MultiReader(strings.NewReader("part"), iotest.ErrReader(errors.New("bad sector")))},
		send{path: "f0", data: []byte("again")},
		send{path: "empty"},
	)
	for i := range putBatch { // "big" is placed before it is resumed
		files = append(files, send{path: fmt.Sprintf("g%d", i), data: []byte{byte(i)}})
	}
	files = append(files,
		send{path: "big", data: append(append([]byte{}, big...), "more"...), offset: int64(len(big))},
		send{path: "nothing", data: []byte("xyz"), offset: 2},
	)
	answers := make(chan error, 1)
	acks := make([]FileSum, 0, len(files))
	ackErrs := make([]error, 0, len(files))
	go func() {
		r := bufio.NewReader(c)
		for range files {
			s, err := ReadPutAck(r)
			var fe *FileError
			if err != nil && !errors.As(err, &fe) {
				answers <- err
				return
			}
			acks, ackErrs = append(acks, s), append(ackErrs, err)
		}
		answers <- nil
	}()
	pw := NewPutWriter(c)
	for _, f := range files {
		src := f.src
		if src == nil {
			src = bytes.NewReader(f.data[f.offset:])
		}
		_, err := pw.Send(f.path, int64(len(f.data)), f.offset, src)
		var se *SourceError
		if f.path == "unreadable" {
			if !errors.As(err, &se) {
				t.Fatalf("send of an unreadable file: %v, want a SourceError", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := pw.Flush(); err != nil {
		t.Fatal(err)
	}
	c.CloseWrite()
	if err := <-answers; err != nil {
		t.Fatal(err)
	}
	for i, f := range files {
		err, s := ackErrs[i], acks[i]
		switch f.path {
		case "denied/x", "full", "unreadable", "nothing":
			if err == nil {
				t.Errorf("%s: stored as %q", f.path, s.Path)
			}
		default:
			want := f.data
			if err != nil || s.Size != uint64(len(want)) || s.SHA256 != sum(want) {
				t.Errorf("%s: answer %+v, %v", f.path, s, err)
			}
		}
	}
	if acks[putBatch+7].Path != "f0 (2)" {
		t.Errorf("the second f0 was placed as %q", acks[putBatch+7].Path)
	}
	if len(sink.finishes) < 2 || sink.finishes[0] != putBatch {
		t.Errorf("files were finished in batches of %v; want %d first", sink.finishes, putBatch)
	}
	if !reflect.DeepEqual(sink.discarded, []string{"full", "unreadable"}) {
		t.Errorf("discarded %q; want full and unreadable", sink.discarded)
	}
}

// TestPutStreamBroken discards what was not finished when the stream ends inside a file, or
// before the host could answer.
func TestPutStreamBroken(t *testing.T) {
	var b bytes.Buffer
	pw := NewPutWriter(&b)
	pw.Send("done", 3, 0, strings.NewReader("abc"))
	pw.Flush()
	whole := b.Len()
	pw.Send("cut", 3, 0, strings.NewReader("abc"))
	pw.Flush()
	cut := b.Bytes()[:b.Len()-2] // inside the second file
	sink := &memSink{placed: map[string][]byte{}}
	var out bytes.Buffer
	err := ServePut(struct {
		io.Reader
		io.Writer
	}{bytes.NewReader(cut), &out}, sink)
	if err == nil {
		t.Fatal("a stream cut inside a file ended without an error")
	}
	if len(sink.placed) != 0 || !reflect.DeepEqual(sink.discarded, []string{"done"}) || !reflect.DeepEqual(sink.interrupted, []string{"cut"}) {
		t.Errorf("placed %v, discarded %q, interrupted %q; want nothing placed, done discarded, cut interrupted",
			sink.placed, sink.discarded, sink.interrupted)
	}
	// Ended between files: what arrived is finished and answered.
	sink = &memSink{placed: map[string][]byte{}}
	out.Reset()
	err = ServePut(struct {
		io.Reader
		io.Writer
	}{bytes.NewReader(b.Bytes()[:whole]), &out}, sink)
	if err != nil || string(sink.placed["done"]) != "abc" {
		t.Errorf("a stream ended between files: %v, placed %q", err, sink.placed)
	}
	if s, err := ReadPutAck(bufio.NewReader(&out)); err != nil || s.Path != "done" {
		t.Errorf("answer %+v, %v", s, err)
	}
}

func FuzzReadGetRequest(f *testing.F) {
	var b bytes.Buffer
	WriteGetRequest(&b, []GetItem{{"a/b", 0}, {"c", 12}})
	f.Add(b.Bytes())
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		items, err := ReadGetRequest(bytes.NewReader(in))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := WriteGetRequest(&out, items); err != nil {
			t.Fatalf("a request read cannot be written again: %v", err)
		}
		again, err := ReadGetRequest(&out)
		if err != nil || !reflect.DeepEqual(again, items) {
			t.Fatalf("round trip: %v, %v; want %v", again, err, items)
		}
	})
}

func FuzzGetReader(f *testing.F) {
	c1, c2 := net.Pipe()
	go func() {
		ServeGet(c2, func(p string) (GetFile, error) {
			if p == "x" {
				return nil, errors.New("no such file")
			}
			return memFile{Reader: bytes.NewReader([]byte("data")), data: []byte("data")}, nil
		})
		c2.Close()
	}()
	go WriteGetRequest(c1, []GetItem{{"a", 0}, {"x", 0}})
	seed, _ := io.ReadAll(c1)
	f.Add(seed)
	f.Add([]byte("D\x00\x00\x00\x01aS"))
	f.Fuzz(func(t *testing.T, in []byte) {
		g := NewGetReader(bytes.NewReader(in))
		for range 1000 {
			var got bytes.Buffer
			_, s, err := g.Next(&got)
			var fe *FileError
			if err != nil && !errors.As(err, &fe) {
				return
			}
			if err == nil && len(s) != 64 {
				t.Fatalf("a sum of %d hex digits", len(s))
			}
		}
	})
}

func FuzzServePut(f *testing.F) {
	var b bytes.Buffer
	pw := NewPutWriter(&b)
	pw.Send("a", 4, 0, strings.NewReader("data"))
	pw.Send("denied", 1, 0, strings.NewReader("x"))
	pw.Flush()
	f.Add(b.Bytes())
	f.Add([]byte("F\x00\x00\x00\x01a\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00X"))
	f.Fuzz(func(t *testing.T, in []byte) {
		sink := &memSink{placed: map[string][]byte{}}
		var out bytes.Buffer
		err := ServePut(struct {
			io.Reader
			io.Writer
		}{bytes.NewReader(in), &out}, sink)
		r := bufio.NewReader(&out)
		answered := 0
		for {
			_, aerr := ReadPutAck(r)
			var fe *FileError
			if aerr != nil && !errors.As(aerr, &fe) {
				break
			}
			answered++
		}
		if err == nil && answered < len(sink.placed) {
			t.Fatalf("%d files placed, %d answered", len(sink.placed), answered)
		}
		if err != nil && len(sink.placed) > answered {
			t.Fatalf("a broken stream placed %d files and answered %d", len(sink.placed), answered)
		}
	})
}
