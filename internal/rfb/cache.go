package rfb

import (
	"encoding/binary"
	"sync"

	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/rfb/encoding"
	"github.com/buktu/buktu/internal/rfb/wire"
)

// cacheEntries and cacheBytes bound the encoded updates kept: viewers that keep up ask for
// the newest few, and a lossless full-screen update can be megabytes.
const (
	cacheEntries = 32
	cacheBytes   = 16 << 20
)

// encodeCache encodes each change once per Params and shares the bytes: viewers that ask for
// the same change in the same encoding and pixel format (a class watching one screen) get the
// same bytes, encoded by the first of them while the others wait for it.
type encodeCache struct {
	mu       sync.Mutex           // guards the fields below
	jpeg     encoding.JPEGEncoder // shared by every Encoder, so they share its compressors
	encoders map[encoding.Params]*encoding.Encoder
	entries  map[cacheKey]*cacheEntry
	order    []cacheKey
	bytes    int // the bodies of the finished entries in entries
}

// cacheKey names what an update holds, not whom it is for: viewers that last saw different
// frames but need the same region of the same frame (everything, under a video) share it.
type cacheKey struct {
	p      encoding.Params
	to     uint64
	w, h   int
	region string       // the rectangles, as regionKey writes them
	scroll frame.Scroll // the CopyRect the update starts with; zero for none
}

// regionKey writes g's rectangles as a string, to compare regions in a map key.
func regionKey(g frame.Region) string {
	rs := g.Rects()
	b := make([]byte, 0, 16*len(rs))
	for _, r := range rs {
		b = binary.LittleEndian.AppendUint32(b, uint32(r.X))
		b = binary.LittleEndian.AppendUint32(b, uint32(r.Y))
		b = binary.LittleEndian.AppendUint32(b, uint32(r.W))
		b = binary.LittleEndian.AppendUint32(b, uint32(r.H))
	}
	return string(b)
}

type cacheEntry struct {
	done chan struct{}
	size int // len(body) once counted in encodeCache.bytes
	body []byte
	n    int
	err  error
}

// useJPEG sets the JPEGEncoder of the Encoders c makes, unless it has one: nil means
// encoding.NewJPEG(). The first session sets it, before any encode.
func (c *encodeCache) useJPEG(j encoding.JPEGEncoder) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.jpeg != nil {
		return
	}
	if j == nil {
		j = encoding.NewJPEG()
	}
	c.jpeg = j
}

// encode returns the rectangles (headers and bodies) that draw region of f, the frame of
// sequence number to, and how many there are.
// With scroll, the update starts with a CopyRect that moves the scrolled rows within the
// viewer's copy of the screen, and the rest of the damage follows.
func (c *encodeCache) encode(p encoding.Params, f *frame.Frame, region frame.Region, to uint64, scroll *frame.Scroll) ([]byte, int, error) {
	key := cacheKey{p: p, to: to, w: f.W, h: f.H, region: regionKey(region)}
	if scroll != nil {
		key.scroll = *scroll
	}
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[cacheKey]*cacheEntry{}
		c.encoders = map[encoding.Params]*encoding.Encoder{}
	}
	if e, ok := c.entries[key]; ok {
		c.mu.Unlock()
		<-e.done
		return e.body, e.n, e.err
	}
	e := &cacheEntry{done: make(chan struct{})}
	c.entries[key] = e
	c.order = append(c.order, key)
	c.evictLocked()
	enc, jpeg := c.encoders[p], c.jpeg
	c.mu.Unlock()
	defer close(e.done)
	defer c.count(key, e)
	if enc == nil {
		var err error
		if enc, err = encoding.NewEncoder(p, jpeg); err != nil {
			e.err = err
			return nil, 0, err
		}
		c.mu.Lock()
		c.encoders[p] = enc
		c.mu.Unlock()
	}
	if scroll != nil {
		src := scroll.Src()
		e.body = encoding.AppendCopyRect(nil, scroll.Dst, src.X, src.Y)
		e.n = 1
		region = region.Clone()
		region.Subtract(scroll.Dst)
	}
	body, n := encodeRegion(enc, f, region)
	e.body, e.n = append(e.body, body...), e.n+n
	return e.body, e.n, nil
}

// count adds a finished entry's body to the bytes held, if it is still held, and evicts
// what no longer fits.
func (c *encodeCache) count(key cacheKey, e *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries[key] != e {
		return
	}
	e.size = len(e.body)
	c.bytes += e.size
	c.evictLocked()
}

// evictLocked drops the oldest entries while there are too many or their bodies are too
// large; the newest always stays.
func (c *encodeCache) evictLocked() {
	for len(c.order) > cacheEntries || c.bytes > cacheBytes && len(c.order) > 1 {
		c.bytes -= c.entries[c.order[0]].size
		delete(c.entries, c.order[0])
		c.order = c.order[1:]
	}
}

// encodeRegion encodes the rectangles of region, on both cores when there is much to do.
func encodeRegion(enc *encoding.Encoder, f *frame.Frame, g frame.Region) ([]byte, int) {
	region := g.Rects()
	if len(region) < 2 || g.Area() < 256*256 {
		var body []byte
		n := 0
		for _, r := range region {
			var k int
			body, k = enc.Encode(body, f, r)
			n += k
		}
		return body, n
	}
	const workers = 2
	parts := make([][]byte, workers)
	counts := make([]int, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(region); i += workers {
				var k int
				parts[w], k = enc.Encode(parts[w], f, region[i])
				counts[w] += k
			}
		})
	}
	wg.Wait()
	var body []byte
	n := 0
	for w := range workers {
		body = append(body, parts[w]...)
		n += counts[w]
	}
	return body, n
}

// startZRLE puts the zlib header that begins a connection's ZRLE stream in front of the data
// of the first ZRLE rectangle in body, and fixes that rectangle's length. Encoded rectangles
// are shared by connections, so only the connection knows which one comes first.
func startZRLE(body []byte) []byte {
	if len(body) < wire.RectHeaderLength+4 {
		return body
	}
	if wire.Encoding(int32(binary.BigEndian.Uint32(body[8:12]))) != wire.EncodingZRLE {
		return body
	}
	hdr := encoding.ZRLEStreamHeader
	n := binary.BigEndian.Uint32(body[12:16])
	out := make([]byte, 0, len(body)+len(hdr))
	out = append(out, body[:12]...)
	out = binary.BigEndian.AppendUint32(out, n+uint32(len(hdr)))
	out = append(out, hdr...)
	return append(out, body[16:]...)
}
