package progress

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sizer is what pkg/sftp's File.ReadFrom looks for to upload concurrently.
type sizer interface{ Size() int64 }

func TestNewReaderKeepsSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, make([]byte, 100), 0o600); err != nil {
		t.Fatal(err)
	}
	seeked, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer seeked.Close()
	if _, err := seeked.Seek(30, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()

	tests := []struct {
		name     string
		r        io.Reader
		wantSize int64 // -1: no Size method
		wantRead int64
	}{
		{"bytes.Reader", bytes.NewReader(make([]byte, 10)), 10, 10},
		{"strings.Reader", strings.NewReader("hello"), 5, 5},
		{"limited", io.LimitReader(strings.NewReader("hello world"), 4), 4, 4},
		{"section", io.NewSectionReader(strings.NewReader("hello world"), 6, 5), 5, 5},
		{"file at offset", seeked, 70, 70},
		{"directory", dir, -1, 0},
		{"no length", io.MultiReader(strings.NewReader("abc")), -1, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := New(io.Discard, Options{Quiet: true}).Start(tt.name, -1)
			r := NewReader(tt.r, it)
			s, ok := r.(sizer)
			if got := int64(-1); ok {
				got = s.Size()
				if got != tt.wantSize {
					t.Errorf("NewReader(%s).Size() = %d; want %d", tt.name, got, tt.wantSize)
				}
			} else if tt.wantSize != -1 {
				t.Errorf("NewReader(%s) has no Size method; want one reporting %d", tt.name, tt.wantSize)
			}
			n, _ := io.Copy(io.Discard, r)
			if n != tt.wantRead || it.pos.Load() != n {
				t.Errorf("io.Copy through NewReader(%s) = %d bytes, counted %d; want %d", tt.name, n, it.pos.Load(), tt.wantRead)
			}
		})
	}
}

func TestNewWriterCounts(t *testing.T) {
	it := New(io.Discard, Options{Quiet: true}).Start("w", -1)
	var dst bytes.Buffer
	if _, err := io.Copy(NewWriter(&dst, it), strings.NewReader("hello world")); err != nil {
		t.Fatal(err)
	}
	if got := it.pos.Load(); got != 11 || dst.String() != "hello world" {
		t.Errorf("NewWriter counted %d and wrote %q; want 11 and the text", got, dst.String())
	}
}

func TestCountingAt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := New(io.Discard, Options{Quiet: true})
	up, down := p.Start("up", -1), p.Start("down", -1)

	w := CountingWriterAt{W: f, Item: down}
	if _, err := w.WriteAt([]byte("world"), 6); err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteAt([]byte("hello "), 0); err != nil {
		t.Fatal(err)
	}
	sr := io.NewSectionReader(CountingReaderAt{R: f, Item: up}, 0, 11)
	var _ sizer = sr // what keeps pkg/sftp's ReadFrom concurrent
	got, err := io.ReadAll(sr)
	if err != nil || string(got) != "hello world" {
		t.Fatalf("read back %q, %v; want hello world", got, err)
	}
	if up.pos.Load() != 11 || down.pos.Load() != 11 {
		t.Errorf("counted %d read and %d written; want 11 and 11", up.pos.Load(), down.pos.Load())
	}
}
