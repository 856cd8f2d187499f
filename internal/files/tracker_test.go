package files

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"math/big"
	"sync"
	"testing"
)

// memFile is an io.ReaderAt over a buffer that pieces are written into.
type memFile struct {
	mu sync.Mutex
	b  []byte
}

func (m *memFile) ReadAt(p []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return copy(p, m.b[off:]), nil
}

func (m *memFile) writeAt(p []byte, off int64) {
	m.mu.Lock()
	copy(m.b[off:], p)
	m.mu.Unlock()
}

func TestTrackerOutOfOrder(t *testing.T) {
	tests := []struct {
		name   string
		size   int
		piece  int
		writer int // goroutines writing pieces in random order
	}{
		{"in order", 1 << 20, 32 << 10, 1},
		{"shuffled", 3<<20 + 17, 32 << 10, 1},
		{"concurrent", 5<<20 + 1, 64 << 10, 8},
		{"one byte pieces", 4097, 1, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := make([]byte, tt.size)
			rand.Read(data)
			f := &memFile{b: make([]byte, tt.size)}
			tr := newTracker(f, nil, 0)
			tr.start()
			var offs []int
			for off := 0; off < tt.size; off += tt.piece {
				offs = append(offs, off)
			}
			if tt.name != "in order" {
				for i := len(offs) - 1; i > 0; i-- {
					j, _ := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
					offs[i], offs[j.Int64()] = offs[j.Int64()], offs[i]
				}
			}
			work := make(chan int)
			var wg sync.WaitGroup
			for range tt.writer {
				wg.Go(func() {
					for off := range work {
						end := min(off+tt.piece, tt.size)
						f.writeAt(data[off:end], int64(off))
						tr.finished(int64(off), end-off)
					}
				})
			}
			for _, o := range offs {
				work <- o
			}
			close(work)
			wg.Wait()
			n, sum, err := tr.finish()
			want := sha256.Sum256(data)
			if n != int64(tt.size) || !bytes.Equal(sum, want[:]) || err != nil {
				t.Errorf("finish() = %d, %x, %v; want %d, %x", n, sum, err, tt.size, want)
			}
		})
	}
}

func TestTrackerStopKeepsPrefix(t *testing.T) {
	data := make([]byte, 1000)
	rand.Read(data)
	f := &memFile{b: make([]byte, 1000)}
	tr := newTracker(f, nil, 0)
	tr.start()
	f.writeAt(data[:300], 0)
	tr.finished(0, 300)
	f.writeAt(data[500:], 500) // a hole from 300 to 500
	tr.finished(500, 500)
	n, state := tr.stop()
	h, err := restoreHash(state)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(data[:300])
	if n != 300 || !bytes.Equal(h.Sum(nil), want[:]) {
		t.Errorf("stop() = %d, %x; want 300, %x (the prefix before the hole)", n, h.Sum(nil), want)
	}
}

func TestSpansMerge(t *testing.T) {
	tr := newTracker(&memFile{b: make([]byte, 100)}, nil, 0)
	for _, s := range []span{{50, 60}, {70, 80}, {55, 72}, {90, 95}, {10, 20}} {
		tr.addSpanLocked(s)
	}
	want := []span{{10, 20}, {50, 80}, {90, 95}}
	if len(tr.spans) != len(want) {
		t.Fatalf("spans = %v; want %v", tr.spans, want)
	}
	for i := range want {
		if tr.spans[i] != want[i] {
			t.Fatalf("spans = %v; want %v", tr.spans, want)
		}
	}
}
