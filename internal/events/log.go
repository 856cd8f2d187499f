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

// Defaults of Options.
const (
	DefaultMaxSize         = 64 << 20
	DefaultKeep            = 8
	DefaultRefusalInterval = time.Minute
	DefaultMaxSources      = 4096
)

// Options tune a Log. The zero value means the defaults.
type Options struct {
	// MaxSize is the size in bytes past which the file is rotated; 0 means DefaultMaxSize, and
	// a negative size never rotates.
	MaxSize int64
	// Keep is how many rotated files are kept; 0 means DefaultKeep, and a negative number keeps
	// them all.
	Keep int
	// RefusalInterval is how long the refused logins of one source are counted before they
	// are written as one record (see Login); 0 means DefaultRefusalInterval, and a negative
	// interval writes each refusal.
	RefusalInterval time.Duration
	// MaxSources bounds the sources whose refusals are counted at once; 0 means
	// DefaultMaxSources.
	MaxSources int
	// Now tells the time; nil means time.Now.
	Now func() time.Time
}

// Log appends records to an activity log file. It is safe for concurrent use.
type Log struct {
	path    string
	maxSize int64 // < 0: never rotate
	keep    int   // < 0: keep every rotated file
	now     func() time.Time

	rmu     sync.Mutex // guards ref and rclosed; taken before mu, never while holding it
	ref     refusals
	rclosed bool

	mu       sync.Mutex    // guards every field below
	f        *os.File      // the log, opened for appending
	hf       *os.File      // the head file
	size     int64         // bytes of whole lines in the log
	seq      uint64        // seq of the last line; 0 when the log is empty
	prev     string        // hash of the last line; "" when the log is empty
	rotated  []int         // numbers of the rotated files, oldest first
	rotateAt int64         // the size at which to rotate next: maxSize, or later after a failure
	buf      bytes.Buffer  // the line being written
	enc      *json.Encoder // encodes into buf
	hbuf     []byte        // the head being written
	err      error         // set when a failed write could not be undone: the log takes no more
	closed   bool
}

// Open opens the activity log at path for appending with the default Options.
func Open(path string) (*Log, error) {
	return OpenWith(path, Options{})
}

// OpenWith opens the activity log at path for appending, creating it with mode 0600 if needed,
// and continues its chain, from the newest rotated file when path has no record yet. It repairs
// a torn final line, undoes a rotation a crash interrupted, and records any disagreement with
// the head file (see the package documentation). It fails with ErrLocked if another process has
// it open.
func OpenWith(path string, o Options) (*Log, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open activity log: %w", err)
	}
	l := newLog(path, o)
	if err := l.open(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("open activity log %s: %w", path, err)
	}
	return l, nil
}

func newLog(path string, o Options) *Log {
	l := &Log{path: path, maxSize: o.MaxSize, keep: o.Keep, now: o.Now}
	if l.maxSize == 0 {
		l.maxSize = DefaultMaxSize
	}
	if l.keep == 0 {
		l.keep = DefaultKeep
	}
	if l.now == nil {
		l.now = time.Now
	}
	interval, sources := o.RefusalInterval, o.MaxSources
	if interval == 0 {
		interval = DefaultRefusalInterval
	}
	if sources <= 0 {
		sources = DefaultMaxSources
	}
	l.ref = newRefusals(interval, sources)
	l.rotateAt = l.maxSize
	l.enc = newEncoder(&l.buf)
	return l
}

func (l *Log) open(f *os.File) error {
	path := l.path
	if err := lockFile(f); err != nil {
		return err
	}
	rotated, err := listRotated(path)
	if err != nil {
		return err
	}
	if l.rotated, err = undoRotation(path, f, rotated); err != nil {
		return fmt.Errorf("undo an interrupted rotation: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	t, err := readTail(f, fi.Size())
	if err != nil {
		return err
	}
	l.f, l.size = f, t.end

	var recovered *Record
	if len(t.torn) > 0 {
		if err := f.Truncate(t.end); err != nil {
			return fmt.Errorf("drop torn final line: %w", err)
		}
		sum := sha256.Sum256(t.torn)
		recovered = &Record{
			Kind:   KindLogRecovered,
			Size:   int64(len(t.torn)),
			SHA256: hex.EncodeToString(sum[:]),
			Reason: fmt.Sprintf("dropped a torn final line of %d bytes left by a crash while writing", len(t.torn)),
		}
	}

	// A file with no record yet continues the chain of the newest rotated file.
	lastLine, src, srcEnd := t.last, io.ReaderAt(f), t.end
	if lastLine == nil && len(l.rotated) > 0 {
		rf, err := os.Open(rotatedPath(path, l.rotated[len(l.rotated)-1]))
		if err != nil {
			return fmt.Errorf("open the newest rotated file: %w", err)
		}
		defer rf.Close()
		rfi, err := rf.Stat()
		if err != nil {
			return err
		}
		rt, err := readTail(rf, rfi.Size())
		if err != nil {
			return fmt.Errorf("the newest rotated file: %w", err)
		}
		lastLine, src, srcEnd = rt.last, rf, rt.end
	}
	var mismatch []string
	var last Record
	lastOK := false
	if lastLine != nil {
		l.prev = hashLine(lastLine)
		last, err = parse(lastLine)
		if err == nil {
			l.seq, lastOK = last.Seq, true
		} else {
			mismatch = append(mismatch, fmt.Sprintf("the last line is not a valid record (%v)", err))
			if l.seq, err = seqAtEnd(src, srcEnd); err != nil {
				return err
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
		return err
	}
	if err := l.writeHeadLocked(); err != nil {
		l.hf.Close()
		return err
	}
	// Keep may have been lowered; a file that cannot be removed now is tried again, and
	// reported, at the next rotation.
	l.pruneLocked()
	if recovered != nil {
		if err := l.Append(*recovered); err != nil {
			l.hf.Close()
			return err
		}
	}
	if mismatch != nil {
		if err := l.Append(Record{Kind: KindLogMismatch, Reason: strings.Join(mismatch, "; ")}); err != nil {
			l.hf.Close()
			return err
		}
	}
	return nil
}

// Append writes r as the next line of the log. It sets r.Seq and r.Prev, sets r.Time to now if
// it is zero, and stores the time in UTC. r.Kind must be set. It does not fsync (see Sync).
// When the file passes its size, Append rotates it after writing r.
func (l *Log) Append(r Record) error {
	if r.Kind == "" {
		return errors.New("append activity record: no kind")
	}
	if r.Time.IsZero() {
		r.Time = l.now()
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
	b, err := l.encodeLocked(r)
	if err != nil {
		return fmt.Errorf("append activity record: %w", err)
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
	l.seq, l.prev = r.Seq, hashLine(b[:len(b)-1])
	if err := l.writeHeadLocked(); err != nil {
		return fmt.Errorf("append activity record %d: written, but not its head: %w", r.Seq, err)
	}
	if l.maxSize > 0 && l.size >= l.rotateAt {
		if err := l.rotateLocked(); err != nil {
			// Rotation costs two fsyncs: after a failure, wait for another eighth of the size.
			l.rotateAt = l.size + max(l.maxSize/8, 4<<10)
			return fmt.Errorf("append activity record %d: written, but the full file was not rotated: %w", r.Seq, err)
		}
		l.rotateAt = l.maxSize
	}
	return nil
}

// encodeLocked encodes r, whose Seq and Prev are set, as a line with its newline, valid until
// the next call.
func (l *Log) encodeLocked(r Record) ([]byte, error) {
	l.buf.Reset()
	if err := l.enc.Encode(r); err != nil {
		return nil, err
	}
	b := l.buf.Bytes()
	if len(b)-1 > MaxLine {
		return nil, fmt.Errorf("%d bytes is longer than a line may be (%d)", len(b)-1, MaxLine)
	}
	return b, nil
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

// Close writes the refusals Login is still counting, syncs and closes the log. Closing a
// closed Log does nothing.
func (l *Log) Close() error {
	ferr := l.flushRefusals()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	err := errors.Join(ferr, l.syncLocked())
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

// seqAtEnd returns the seq of the last of the lines in the first end bytes of f, from the seq of
// its first line and the number of lines, when the last line itself does not say.
func seqAtEnd(f io.ReaderAt, end int64) (uint64, error) {
	var first uint64 = 1
	if l, err := newLineReader(io.NewSectionReader(f, 0, end)).next(); err == nil && l.complete && !l.tooLong {
		if r, err := parse(l.text); err == nil {
			first = r.Seq
		}
	}
	n, err := countLines(f, end)
	if err != nil || n == 0 {
		return 0, err
	}
	return first - 1 + n, nil
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
