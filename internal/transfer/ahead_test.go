package transfer

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestAheadReader(t *testing.T) {
	data := make([]byte, 3*aheadChunk+12345)
	rand.Read(data)
	a := newAheadReader(bytes.NewReader(data))
	got, err := io.ReadAll(iotest.OneByteReader(io.LimitReader(a, 1000)))
	if err != nil || !bytes.Equal(got, data[:1000]) {
		t.Fatalf("the first 1000 bytes: %d, %v", len(got), err)
	}
	rest, err := io.ReadAll(a)
	if err != nil || !bytes.Equal(rest, data[1000:]) {
		t.Fatalf("the rest: %d bytes, %v; want %d", len(rest), err, len(data)-1000)
	}
	a.Close()

	bad := errors.New("bad sector")
	a = newAheadReader(io.MultiReader(bytes.NewReader(data[:aheadChunk+5]), iotest.ErrReader(bad)))
	got, err = io.ReadAll(a)
	if !errors.Is(err, bad) || !bytes.Equal(got, data[:aheadChunk+5]) {
		t.Fatalf("a failing source: %d bytes, %v; want %d and its error", len(got), err, aheadChunk+5)
	}
	a.Close()

	// Closed before the end: the goroutine stops and leaves the source alone.
	src := &countingReader{r: bytes.NewReader(make([]byte, 100*aheadChunk))}
	a = newAheadReader(src)
	a.Read(make([]byte, 10))
	a.Close()
	n := src.n
	if n > (aheadDepth+2)*aheadChunk {
		t.Errorf("read %d bytes ahead; at most %d", n, (aheadDepth+2)*aheadChunk)
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestAsyncHash(t *testing.T) {
	data := make([]byte, 5*aheadChunk+7)
	rand.Read(data)
	want := sha256.Sum256(data)
	a := newAsyncHash(sha256.New())
	for b := data; len(b) > 0; {
		n := min(len(b), 100_000)
		a.Write(b[:n])
		b = b[n:]
	}
	if got := a.Sum(nil); !bytes.Equal(got, want[:]) {
		t.Fatalf("sum %x, want %x", got, want)
	}
	if got := a.Sum(nil); !bytes.Equal(got, want[:]) {
		t.Fatalf("a second Sum: %x", got)
	}
}
