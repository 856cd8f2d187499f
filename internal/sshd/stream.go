package sshd

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
)

// SubsystemGet is buktu's own subsystem for reading many files at once: the client sends one
// get request (a list of paths, each with the offset to start from), and the host answers with
// every file in that order, back to back, each followed by its size and the SHA-256 the host
// computed, or by why it was not served. Over SFTP each file costs an open, reads and a close,
// each a round trip and a few small packets both ways; here ten thousand small files are one
// stream, and a large one is read ahead without waiting on requests.
//
// The request: a uint32 count, then for each file an SSH string (the path) and a uint64 (the
// offset). The answer, for each file: any number of data frames ('D', a uint32 length and that
// many bytes), then an end frame ('S', a uint64 size of the whole file and 32 bytes of SHA-256)
// or an error frame ('E', an SSH string saying why; the file's data so far does not count).
const SubsystemGet = "get@buktu"

// Frame kinds of the get stream.
const (
	frameData  = 'D'
	frameEnd   = 'S'
	frameError = 'E'
)

// Limits of the get stream: maxGetItems files in one request, maxGetPath bytes in one path,
// maxFrame bytes in one data frame, maxMessage bytes in one error.
const (
	maxGetItems = maxList
	maxGetPath  = 4096
	maxFrame    = 256 << 10
	maxMessage  = 4096
)

// GetItem is one file a get request asks for.
type GetItem struct {
	Path   string
	Offset int64
}

// WriteGetRequest sends a get request.
func WriteGetRequest(w io.Writer, items []GetItem) error {
	if len(items) > maxGetItems {
		return fmt.Errorf("a get request holds at most %d files", maxGetItems)
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(len(items)))
	for _, it := range items {
		if len(it.Path) > maxGetPath || it.Offset < 0 {
			return fmt.Errorf("cannot ask for %q at %d", it.Path, it.Offset)
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(it.Path)))
		b = append(b, it.Path...)
		b = binary.BigEndian.AppendUint64(b, uint64(it.Offset))
	}
	_, err := w.Write(b)
	return err
}

// ReadGetRequest reads a get request, refusing one past the limits.
func ReadGetRequest(r io.Reader) ([]GetItem, error) {
	var n uint32
	if err := binary.Read(r, binary.BigEndian, &n); err != nil {
		return nil, fmt.Errorf("read get request: %w", err)
	}
	if n > maxGetItems {
		return nil, fmt.Errorf("get request of %d files: at most %d", n, maxGetItems)
	}
	items := make([]GetItem, 0, min(n, 1024))
	var hdr [8]byte
	for range n {
		if _, err := io.ReadFull(r, hdr[:4]); err != nil {
			return nil, fmt.Errorf("read get request: %w", unexpected(err))
		}
		l := binary.BigEndian.Uint32(hdr[:4])
		if l > maxGetPath {
			return nil, fmt.Errorf("get request path of %d bytes: at most %d", l, maxGetPath)
		}
		p := make([]byte, l)
		if _, err := io.ReadFull(r, p); err != nil {
			return nil, fmt.Errorf("read get request: %w", unexpected(err))
		}
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return nil, fmt.Errorf("read get request: %w", unexpected(err))
		}
		off := binary.BigEndian.Uint64(hdr[:])
		if off > 1<<62 {
			return nil, fmt.Errorf("get request offset %d is out of range", off)
		}
		items = append(items, GetItem{Path: string(p), Offset: int64(off)})
	}
	return items, nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// GetFile is a file the host serves on a get stream.
type GetFile interface {
	io.ReaderAt
	// Finish ends the reading and returns the file's size and SHA-256 (hex) as the host has
	// them.
	Finish() (size int64, sha256 string, err error)
}

// frameBufs recycles the data frames of get streams.
var frameBufs = sync.Pool{New: func() any { b := make([]byte, 5+maxFrame); return &b }}

// ServeGet answers one get request on rw: it reads the request, opens each file with open
// and streams it. A file that cannot be opened or read gets an error frame with the message
// of the error open or the read returned, which must not reveal host paths; the stream goes
// on with the next. It returns when every file is answered or the stream fails.
func ServeGet(rw io.ReadWriter, open func(path string) (GetFile, error)) error {
	items, err := ReadGetRequest(bufio.NewReader(rw))
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(rw, 64<<10)
	bp := frameBufs.Get().(*[]byte)
	defer frameBufs.Put(bp)
	buf := *bp
	for _, it := range items {
		if err := serveOne(w, buf, it, open); err != nil {
			return err
		}
	}
	return w.Flush()
}

// serveOne streams one file; only a failure to write the stream is returned.
func serveOne(w *bufio.Writer, buf []byte, it GetItem, open func(string) (GetFile, error)) error {
	f, err := open(it.Path)
	if err != nil {
		return writeError(w, err)
	}
	off := it.Offset
	for {
		n, rerr := f.ReadAt(buf[5:], off)
		if n > 0 {
			buf[0] = frameData
			binary.BigEndian.PutUint32(buf[1:5], uint32(n))
			if _, err := w.Write(buf[:5+n]); err != nil {
				f.Finish()
				return err
			}
			off += int64(n)
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			f.Finish()
			return writeError(w, errors.New("the host could not read the file")) // rerr names host paths
		}
	}
	size, sum, err := f.Finish()
	if err != nil {
		return writeError(w, err)
	}
	raw, err := hex.DecodeString(sum)
	if err != nil || len(raw) != 32 {
		return writeError(w, errors.New("no SHA-256 for the file"))
	}
	if size != off {
		return writeError(w, fmt.Errorf("the file changed while it was read (%d bytes, now %d)", off, size))
	}
	var end [1 + 8 + 32]byte
	end[0] = frameEnd
	binary.BigEndian.PutUint64(end[1:9], uint64(size))
	copy(end[9:], raw)
	_, err = w.Write(end[:])
	return err
}

func writeError(w *bufio.Writer, cause error) error {
	msg := cause.Error()
	if len(msg) > maxMessage {
		msg = msg[:maxMessage]
	}
	b := append([]byte{frameError}, binary.BigEndian.AppendUint32(nil, uint32(len(msg)))...)
	_, err := w.Write(append(b, msg...))
	return err
}

// FileError is a file the host did not serve or did not store, and why.
type FileError struct{ Message string }

func (e *FileError) Error() string { return e.Message }

// GetReader reads the host's answer to a get request, one file at a time.
type GetReader struct {
	r *bufio.Reader
}

// NewGetReader reads a get stream from r.
func NewGetReader(r io.Reader) *GetReader { return &GetReader{r: bufio.NewReaderSize(r, 64<<10)} }

// Next copies the next file's data to w and returns its size and SHA-256 (hex) as the host
// has them. A file the host did not serve returns a *FileError, after which the stream goes on;
// any other error ends the stream. What was written to w before an error is not the file.
func (g *GetReader) Next(w io.Writer) (size int64, sha256 string, err error) {
	var hdr [8]byte
	for {
		kind, err := g.r.ReadByte()
		if err != nil {
			return 0, "", fmt.Errorf("read get stream: %w", unexpected(err))
		}
		switch kind {
		case frameData:
			if _, err := io.ReadFull(g.r, hdr[:4]); err != nil {
				return 0, "", fmt.Errorf("read get stream: %w", unexpected(err))
			}
			n := binary.BigEndian.Uint32(hdr[:4])
			if n > maxFrame {
				return 0, "", fmt.Errorf("get stream frame of %d bytes: at most %d", n, maxFrame)
			}
			if err := g.copy(w, int(n)); err != nil {
				return 0, "", fmt.Errorf("get stream data: %w", unexpected(err))
			}
		case frameEnd:
			var end [8 + 32]byte
			if _, err := io.ReadFull(g.r, end[:]); err != nil {
				return 0, "", fmt.Errorf("read get stream: %w", unexpected(err))
			}
			size := binary.BigEndian.Uint64(end[:8])
			if size > 1<<62 {
				return 0, "", fmt.Errorf("get stream size %d is out of range", size)
			}
			return int64(size), hex.EncodeToString(end[8:]), nil
		case frameError:
			if _, err := io.ReadFull(g.r, hdr[:4]); err != nil {
				return 0, "", fmt.Errorf("read get stream: %w", unexpected(err))
			}
			n := binary.BigEndian.Uint32(hdr[:4])
			if n > maxMessage {
				return 0, "", fmt.Errorf("get stream error of %d bytes: at most %d", n, maxMessage)
			}
			msg := make([]byte, n)
			if _, err := io.ReadFull(g.r, msg); err != nil {
				return 0, "", fmt.Errorf("read get stream: %w", unexpected(err))
			}
			return 0, "", &FileError{Message: string(msg)}
		default:
			return 0, "", fmt.Errorf("get stream: unknown frame %q", kind)
		}
	}
}

// copy writes the next n bytes of the stream to w straight from the read buffer.
func (g *GetReader) copy(w io.Writer, n int) error {
	for n > 0 {
		b, err := g.r.Peek(min(n, g.r.Size()))
		if len(b) == 0 && err != nil {
			return err
		}
		if _, werr := w.Write(b); werr != nil {
			return werr
		}
		g.r.Discard(len(b))
		n -= len(b)
	}
	return nil
}
