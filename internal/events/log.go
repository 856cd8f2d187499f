package events

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"
)

// ErrLocked says that another process has the activity log open for appending.
var ErrLocked = errors.New("events: activity log in use by another process")

// Log appends records to an activity log file. It is safe for concurrent use.
type Log struct {
	mu     sync.Mutex    // guards every field below
	f      *os.File      // the log, opened for appending
	hf     *os.File      // the head file
	size   int64         // bytes of whole lines in the log
	seq    uint64        // seq of the last line; 0 when the log is empty
	prev   string        // hash of the last line; "" when the log is empty
	buf    bytes.Buffer  // the line being written
	enc    *json.Encoder // encodes into buf
	hbuf   []byte        // the head being written
	err    error         // set when a failed write could not be undone: the log takes no more
	closed bool
}

// Open opens the activity log at path for appending, creating it with mode 0600 if needed, and
// continues its chain. It repairs a torn final line and records any disagreement with the head
// file (see the package documentation). It fails with ErrLocked if another process has it open.
func Open(path string) (*Log, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open activity log: %w", err)
	}
	l, err := open(f, path)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open activity log %s: %w", path, err)
	}
	return l, nil
}

func open(f *os.File, path string) (*Log, error) {
	if err := lockFile(f); err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	t, err := readTail(f, fi.Size())
	if err != nil {
		return nil, err
	}
	l := &Log{f: f, size: t.end}
	l.enc = newEncoder(&l.buf)

	var recovered *Record
	if len(t.torn) > 0 {
		if err := f.Truncate(t.end); err != nil {
			return nil, fmt.Errorf("drop torn final line: %w", err)
		}
		sum := sha256.Sum256(t.torn)
		recovered = &Record{
			Kind:   KindLogRecovered,
			Size:   int64(len(t.torn)),
			SHA256: hex.EncodeToString(sum[:]),
			Reason: fmt.Sprintf("dropped a torn final line of %d bytes left by a crash while writing", len(t.torn)),
		}
	}

	var mismatch []string
	var last Record
	lastOK := false
	if t.last != nil {
		l.prev = hashLine(t.last)
		last, err = parse(t.last)
		if err == nil {
			l.seq, lastOK = last.Seq, true
		} else {
			mismatch = append(mismatch, fmt.Sprintf("the last line is not a valid record (%v)", err))
			if l.seq, err = countLines(f, t.end); err != nil {
				return nil, err
			}
		}
	}

	h, err := readHead(headPath(path))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if l.seq > 0 {
			mismatch = append(mismatch, "the head file is missing")
		}
	case err != nil:
		mismatch = append(mismatch, fmt.Sprintf("the head file is unreadable (%v)", err))
	case h.Seq == l.seq && h.Hash == l.prev:
	case lastOK && h.Seq+1 == l.seq && h.Hash == last.Prev:
		// A crash between writing the last line and its head.
	case h.Seq > l.seq:
		mismatch = append(mismatch, fmt.Sprintf("the head says seq %d but the log ends at seq %d: records were removed from the end, or lost in a power failure", h.Seq, l.seq))
	default:
		mismatch = append(mismatch, fmt.Sprintf("the head says seq %d with hash %.12s, the log ends at seq %d with hash %.12s: the end of the log was edited or replaced", h.Seq, h.Hash, l.seq, l.prev))
	}

	l.hf, err = os.OpenFile(headPath(path), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	if err := l.writeHeadLocked(); err != nil {
		l.hf.Close()
		return nil, err
	}
	if recovered != nil {
		if err := l.Append(*recovered); err != nil {
			l.hf.Close()
			return nil, err
		}
	}
	if mismatch != nil {
		if err := l.Append(Record{Kind: KindLogMismatch, Reason: strings.Join(mismatch, "; ")}); err != nil {
			l.hf.Close()
			return nil, err
		}
	}
	return l, nil
}

// Append writes r as the next line of the log. It sets r.Seq and r.Prev, sets r.Time to now if
// it is zero, and stores the time in UTC. r.Kind must be set. It does not fsync (see Sync).
func (l *Log) Append(r Record) error {
	if r.Kind == "" {
		return errors.New("append activity record: no kind")
	}
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	r.Time = r.Time.UTC()
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return fmt.Errorf("append activity record: %w", os.ErrClosed)
	case l.err != nil:
		return fmt.Errorf("append activity record: %w", l.err)
	}
	r.Seq, r.Prev = l.seq+1, l.prev
	l.buf.Reset()
	if err := l.enc.Encode(r); err != nil {
		return fmt.Errorf("append activity record: %w", err)
	}
	b := l.buf.Bytes()
	text := b[:len(b)-1]
	if len(text) > MaxLine {
		return fmt.Errorf("append activity record: %d bytes is longer than a line may be (%d)", len(text), MaxLine)
	}
	n, err := l.f.Write(b)
	if err != nil {
		if n > 0 {
			// Keep the file made of whole lines, or later lines would be glued to this one.
			if terr := l.f.Truncate(l.size); terr != nil {
				l.err = fmt.Errorf("a partial line could not be removed, reopen the log: %w", terr)
			}
		}
		return fmt.Errorf("append activity record: %w", err)
	}
	l.size += int64(n)
	l.seq, l.prev = r.Seq, hashLine(text)
	if err := l.writeHeadLocked(); err != nil {
		return fmt.Errorf("append activity record %d: written, but not its head: %w", r.Seq, err)
	}
	return nil
}

// writeHeadLocked overwrites the head file with the log's last seq and hash. The content never
// gets shorter once a record is written (the hash has a fixed length, seq only grows), so one
// pwrite at offset 0 replaces it.
func (l *Log) writeHeadLocked() error {
	l.hbuf = Head{Seq: l.seq, Hash: l.prev}.appendLine(l.hbuf[:0])
	_, err := l.hf.WriteAt(l.hbuf, 0)
	return err
}

// Sync commits the log and its head to stable storage.
func (l *Log) Sync() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return fmt.Errorf("sync activity log: %w", os.ErrClosed)
	}
	return l.syncLocked()
}

func (l *Log) syncLocked() error {
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("sync activity log: %w", err)
	}
	if err := l.hf.Sync(); err != nil {
		return fmt.Errorf("sync activity log head: %w", err)
	}
	return nil
}

// Close syncs and closes the log. Closing a closed Log does nothing.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	err := l.syncLocked()
	if cerr := l.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close activity log: %w", cerr)
	}
	if cerr := l.hf.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close activity log head: %w", cerr)
	}
	return err
}

// tail is the end of a log file as Open needs it.
type tail struct {
	last []byte // the last whole line, without its newline; nil when there is none
	end  int64  // where the whole lines end
	torn []byte // bytes after the last newline
}

// readTail reads the end of a log of size bytes backwards, in growing windows, until it holds
// the last whole line.
func readTail(f io.ReaderAt, size int64) (tail, error) {
	const limit = 2*MaxLine + 2 // a torn line and a whole line, with newlines
	for window := min(size, 64<<10); ; window = min(2*window, size) {
		buf := make([]byte, window)
		off := size - window
		if _, err := f.ReadAt(buf, off); err != nil {
			return tail{}, fmt.Errorf("read end of log: %w", err)
		}
		i := bytes.LastIndexByte(buf, '\n')
		j := bytes.LastIndexByte(buf[:max(i, 0)], '\n')
		switch {
		case i < 0 && off == 0:
			return tail{torn: buf}, nil
		case i >= 0 && (j >= 0 || off == 0):
			return tail{last: buf[j+1 : i], end: off + int64(i) + 1, torn: buf[i+1:]}, nil
		case window >= limit:
			return tail{}, fmt.Errorf("the last %d bytes of the log hold no whole line", window)
		}
	}
}

// countLines counts the newlines in the first end bytes of f.
func countLines(f io.ReaderAt, end int64) (uint64, error) {
	r := io.NewSectionReader(f, 0, end)
	buf := make([]byte, 64<<10)
	var n uint64
	for {
		k, err := r.Read(buf)
		n += uint64(bytes.Count(buf[:k], []byte{'\n'}))
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, fmt.Errorf("count lines: %w", err)
		}
	}
}
