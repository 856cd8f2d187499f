package files

import (
	"crypto/sha256"
	"encoding"
	"hash"
	"io"
	"sync"
)

// hashBuf is how much a tracker reads back at a time.
const hashBuf = 256 << 10

// lazyStart is how far a file must get before its tracker hashes on a goroutine of its own:
// a small file is hashed when it is closed, which costs less than starting a goroutine and
// its buffer for it.
const lazyStart = 1 << 20

// bufPool recycles the trackers' read buffers.
var bufPool = sync.Pool{New: func() any { b := make([]byte, hashBuf); return &b }}

// tracker hashes a file that arrives (or is served) in pieces at any offset, as SFTP's
// pipelined requests deliver it. Writers record the ranges they finished; a goroutine reads
// back, from the file itself, the prefix that has no holes and hashes it in order. Memory stays
// at one buffer however out of order the pieces come, and the hashing runs beside the transfer.
type tracker struct {
	src io.ReaderAt

	mu         sync.Mutex // guards the fields below
	spans      []span     // finished ranges beyond the prefix, sorted, not touching
	contiguous int64      // every byte before this offset is finished
	end        int64      // the highest offset finished
	hashed     int64      // bytes fed to h; read only by the hashing goroutine and after done
	h          hash.Hash
	readErr    error
	closing    bool // the goroutine should stop once it has caught up
	fill       bool // when closing, hash to end across holes
	started    bool // the hashing goroutine runs
	wake       chan struct{}
	done       chan struct{}
	countOnly  bool                             // record what is finished, hash nothing: the sum is known already
	checkpoint func(hashed int64, state []byte) // called by the hashing goroutine, may be nil
	every      int64                            // bytes between checkpoints
	lastCP     int64
}

type span struct{ start, end int64 }

// newTracker starts a tracker over src whose first `from` bytes are already hashed into h.
func newTracker(src io.ReaderAt, h hash.Hash, from int64) *tracker {
	if h == nil {
		h = sha256.New()
	}
	t := &tracker{src: src, h: h, contiguous: from, end: from, hashed: from, lastCP: from,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	return t
}

// start lets the tracker hash on a goroutine of its own once the file passes lazyStart.
func (t *tracker) start() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.startLocked()
}

func (t *tracker) startLocked() {
	if !t.countOnly && !t.started && t.contiguous-t.hashed >= lazyStart {
		t.started = true
		go t.run()
	}
}

// finished records that [off, off+n) is in the file.
func (t *tracker) finished(off int64, n int) {
	if n <= 0 {
		return
	}
	e := off + int64(n)
	t.mu.Lock()
	if e > t.end {
		t.end = e
	}
	advanced := false
	if off <= t.contiguous {
		if e > t.contiguous {
			t.contiguous = e
			advanced = true
		}
	} else {
		t.addSpanLocked(span{off, e})
	}
	for len(t.spans) > 0 && t.spans[0].start <= t.contiguous {
		if t.spans[0].end > t.contiguous {
			t.contiguous = t.spans[0].end
			advanced = true
		}
		t.spans = t.spans[1:]
	}
	if advanced {
		t.startLocked()
	}
	t.mu.Unlock()
	if advanced {
		t.kick()
	}
}

// addSpanLocked inserts s into the sorted span list, merging neighbours.
func (t *tracker) addSpanLocked(s span) {
	i := 0
	for i < len(t.spans) && t.spans[i].end < s.start {
		i++
	}
	j := i
	for j < len(t.spans) && t.spans[j].start <= s.end {
		s.start = min(s.start, t.spans[j].start)
		s.end = max(s.end, t.spans[j].end)
		j++
	}
	t.spans = append(t.spans[:i], append([]span{s}, t.spans[j:]...)...)
}

func (t *tracker) run() {
	defer close(t.done)
	// The buffer is held only while there is something to hash: a tracker waiting for more
	// (as the files of a put stream do until their batch is finished) holds none.
	var bp *[]byte
	defer func() {
		if bp != nil {
			bufPool.Put(bp)
		}
	}()
	for {
		t.mu.Lock()
		target, closing := t.contiguous, t.closing
		if closing && t.fill {
			// At the end, hash to the end of the file even across holes: they read as zeros,
			// which is what the file holds.
			target = max(target, t.end)
		}
		t.mu.Unlock()
		if t.hashed < target && bp == nil {
			bp = bufPool.Get().(*[]byte)
		}
		for t.hashed < target {
			buf := *bp
			n := int(min(int64(len(buf)), target-t.hashed))
			m, err := t.src.ReadAt(buf[:n], t.hashed)
			t.h.Write(buf[:m])
			t.hashed += int64(m)
			if err != nil && m < n {
				t.mu.Lock()
				t.readErr = err
				t.mu.Unlock()
				return
			}
			if t.checkpoint != nil && t.hashed-t.lastCP >= t.every {
				t.lastCP = t.hashed
				t.checkpoint(t.hashed, marshalHash(t.h))
			}
		}
		if closing {
			return
		}
		if bp != nil {
			bufPool.Put(bp)
			bp = nil
		}
		<-t.wake
	}
}

// finish waits until everything finished is hashed and returns the size hashed, the digest and
// the first read error.
func (t *tracker) finish() (int64, []byte, error) {
	t.mu.Lock()
	t.closing, t.fill = true, true
	started := t.started
	t.started = true
	t.mu.Unlock()
	if !started {
		t.run() // a small file: hash it here and now
	}
	t.kick()
	<-t.done
	return t.hashed, t.h.Sum(nil), t.readErr
}

// stop ends the hashing goroutine without hashing what is left, and returns how far the
// hash got with the hash state there.
func (t *tracker) stop() (int64, []byte) {
	t.mu.Lock()
	if t.countOnly {
		defer t.mu.Unlock()
		return t.contiguous, nil
	}
	t.closing = true // and not fill: the state must describe a prefix with no holes
	started := t.started
	t.started = true
	t.mu.Unlock()
	if !started {
		t.run()
	}
	t.kick()
	<-t.done
	return t.hashed, marshalHash(t.h)
}

func (t *tracker) kick() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

func marshalHash(h hash.Hash) []byte {
	b, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return nil
	}
	return b
}

// restoreHash returns a SHA-256 hash in the state saved by marshalHash.
func restoreHash(state []byte) (hash.Hash, error) {
	h := sha256.New()
	if len(state) == 0 {
		return h, nil
	}
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return nil, err
	}
	return h, nil
}
