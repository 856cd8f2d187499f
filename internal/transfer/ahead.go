package transfer

import (
	"hash"
	"io"
	"sync"
)

// aheadChunk is what the read-ahead reads at a time, and aheadDepth how many chunks it keeps
// ready.
const (
	aheadChunk = 256 << 10
	aheadDepth = 4
)

var aheadBufs = sync.Pool{New: func() any { b := make([]byte, aheadChunk); return &b }}

// aheadReader reads (and, through what it reads from, hashes) a large file on a goroutine of
// its own, a few chunks ahead of the stream that sends it: reading and hashing then overlap
// with encrypting and sending, which run on the sending goroutine.
type aheadReader struct {
	ch   chan chunk
	stop chan struct{}
	done chan struct{}
	cur  chunk
	off  int
	err  error
}

type chunk struct {
	b   *[]byte
	n   int
	err error
}

func newAheadReader(r io.Reader) *aheadReader {
	a := &aheadReader{ch: make(chan chunk, aheadDepth), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		defer close(a.ch)
		for {
			// Stopped: no more reading, even while Close drains what was sent (a select with
			// both cases ready picks either).
			select {
			case <-a.stop:
				return
			default:
			}
			b := aheadBufs.Get().(*[]byte)
			n, err := io.ReadFull(r, *b)
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			select {
			case a.ch <- chunk{b, n, err}:
			case <-a.stop:
				aheadBufs.Put(b)
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return a
}

func (a *aheadReader) Read(p []byte) (int, error) {
	for a.cur.b == nil || a.off == a.cur.n {
		if a.cur.b != nil {
			aheadBufs.Put(a.cur.b)
			a.cur.b = nil
			if a.cur.err != nil {
				a.err = a.cur.err
			}
		}
		if a.err != nil {
			return 0, a.err
		}
		c, ok := <-a.ch
		if !ok {
			return 0, io.ErrUnexpectedEOF
		}
		a.cur, a.off = c, 0
	}
	n := copy(p, (*a.cur.b)[a.off:a.cur.n])
	a.off += n
	return n, nil
}

// Close stops the reading goroutine and waits for it: after Close, the reader it read from is
// no longer touched.
func (a *aheadReader) Close() {
	close(a.stop)
	for c := range a.ch {
		aheadBufs.Put(c.b)
	}
	<-a.done
	if a.cur.b != nil {
		aheadBufs.Put(a.cur.b)
		a.cur.b = nil
	}
}

// asyncHash hashes what is written to it on a goroutine of its own, a few chunks behind the
// writer: a large download's hashing then overlaps with writing it to disk. Sum ends it.
type asyncHash struct {
	hash.Hash
	ch   chan chunk
	done chan struct{}
	once sync.Once
}

func newAsyncHash(h hash.Hash) *asyncHash {
	a := &asyncHash{Hash: h, ch: make(chan chunk, aheadDepth), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		for c := range a.ch {
			h.Write((*c.b)[:c.n])
			aheadBufs.Put(c.b)
		}
	}()
	return a
}

func (a *asyncHash) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		buf := aheadBufs.Get().(*[]byte)
		k := copy(*buf, b)
		a.ch <- chunk{b: buf, n: k}
		b = b[k:]
	}
	return n, nil
}

// Sum waits for everything written to be hashed and appends the sum to b; nothing may be
// written after it.
func (a *asyncHash) Sum(b []byte) []byte {
	a.once.Do(func() { close(a.ch) })
	<-a.done
	return a.Hash.Sum(b)
}
