package events

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// ErrDamaged says that Read skipped lines it could not parse; Verify tells more.
var ErrDamaged = errors.New("events: activity log damaged")

// Read streams the records of a log that pass f to fn, in file order. It stops at the first
// error from fn and returns it unchanged. A final line without '\n' is being written by the host
// (or was torn by a crash) and is ignored. Lines that do not parse are skipped, and Read then
// returns an error wrapping ErrDamaged after the last record.
func Read(r io.Reader, f Filter, fn func(Record) error) error {
	lr := newLineReader(r)
	skipped, first := 0, 0
	for {
		l, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read activity log: %w", err)
		}
		if !l.complete {
			break
		}
		rec, err := parse(l.text)
		if l.tooLong || err != nil {
			if skipped == 0 {
				first = l.n
			}
			skipped++
			continue
		}
		if !f.Match(rec) {
			continue
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	if skipped > 0 {
		return fmt.Errorf("read activity log: skipped %d lines that are not records, the first is line %d: %w", skipped, first, ErrDamaged)
	}
	return nil
}

// line is one line of a log as lineReader found it.
type line struct {
	text     []byte // without the newline; valid until the next call to next; nil when tooLong
	n        int    // 1-based line number
	complete bool   // whether it ended in '\n'; only the final line can lack one
	tooLong  bool   // longer than MaxLine; its bytes were skipped
}

// lineReader splits a log into lines of any length, keeping at most MaxLine bytes of one.
type lineReader struct {
	br  *bufio.Reader
	n   int    // lines returned so far
	buf []byte // the line being assembled
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next line, or io.EOF after the last.
func (lr *lineReader) next() (line, error) {
	lr.buf = lr.buf[:0]
	tooLong := false
	for {
		chunk, err := lr.br.ReadSlice('\n')
		if !tooLong {
			lr.buf = append(lr.buf, chunk...)
			if len(bytes.TrimSuffix(lr.buf, []byte{'\n'})) > MaxLine {
				tooLong = true
				lr.buf = lr.buf[:0]
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(lr.buf) == 0 && !tooLong:
			return line{}, io.EOF
		case err != nil && err != io.EOF:
			return line{}, err
		}
		lr.n++
		l := line{n: lr.n, complete: err == nil, tooLong: tooLong}
		if !tooLong {
			l.text = bytes.TrimSuffix(lr.buf, []byte{'\n'})
		}
		return l, nil
	}
}
