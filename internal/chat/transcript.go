package chat

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of what a message may hold.
const (
	// MaxText is the longest message text, in bytes.
	MaxText = 4096
	// maxFrom is the longest sender name, in bytes.
	maxFrom = 256
	// maxLine is the longest transcript line read back. A valid line is far shorter (even with
	// every character escaped), so a longer one is damage and is skipped.
	maxLine = 64 << 10
)

// ErrBadText is returned for a message that may not be posted: empty, too long, not UTF-8, or
// holding control characters. The error's text says which, in words for the person who wrote
// it.
var ErrBadText = errors.New("bad chat message")

// checkText says whether text may be posted as it is.
func checkText(text string) error {
	switch {
	case text == "":
		return fmt.Errorf("%w: it is empty", ErrBadText)
	case len(text) > MaxText:
		return fmt.Errorf("%w: it is longer than %d bytes", ErrBadText, MaxText)
	case !utf8.ValidString(text):
		return fmt.Errorf("%w: it is not valid UTF-8 text", ErrBadText)
	}
	for _, c := range text {
		// Control characters could rewrite a terminal that shows the message ("\x1b[2J")
		// or hide text behind a carriage return; new lines and tabs are text.
		if unicode.IsControl(c) && c != '\n' && c != '\t' {
			return fmt.Errorf("%w: it holds the control character %U", ErrBadText, c)
		}
	}
	return nil
}

// checkFrom says whether from may name the sender of a message: one line of printable text.
func checkFrom(from string) error {
	if from == "" || len(from) > maxFrom || !utf8.ValidString(from) || strings.ContainsFunc(from, unicode.IsControl) {
		return fmt.Errorf("bad chat sender name %q", from)
	}
	return nil
}

// check says whether m is a message Post could have made.
func (m Message) check() error {
	if m.Seq == 0 {
		return errors.New("no seq")
	}
	if m.Time.IsZero() {
		return errors.New("no time")
	}
	if err := checkFrom(m.From); err != nil {
		return err
	}
	return checkText(m.Text)
}

// appendLine appends m as one transcript line, with its newline.
func appendLine(dst []byte, m Message) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return dst, fmt.Errorf("encode chat message %d: %w", m.Seq, err)
	}
	return append(append(dst, b...), '\n'), nil
}

// parseLine parses one transcript line, without its newline.
func parseLine(line []byte) (Message, error) {
	var m Message
	if err := json.Unmarshal(line, &m); err != nil {
		return Message{}, fmt.Errorf("parse chat line: %w", err)
	}
	if err := m.check(); err != nil {
		return Message{}, fmt.Errorf("parse chat line: %w", err)
	}
	return m, nil
}

// transcript is what readTranscript found in a transcript file.
type transcript struct {
	recent  []Message // the last keep messages, in file order
	last    uint64    // the highest seq of any message
	skipped int       // lines that did not parse
	torn    bool      // the file does not end in a newline
}

// readTranscript reads a transcript, keeping the last keep messages (0: all). Lines that do not parse
// are counted and skipped, so damage costs only the damaged lines.
func readTranscript(r io.Reader, keep int) (transcript, error) {
	var t transcript
	br := bufio.NewReader(r)
	for {
		line, long, err := readLine(br)
		if len(line) > 0 || long {
			t.torn = err == io.EOF
		}
		// Empty lines are skipped without counting: Open's repair of a torn last line can
		// leave one.
		if long || len(bytes.TrimSpace(line)) > 0 {
			if m, ok := t.parse(line, long); ok {
				t.add(m, keep)
			}
		}
		if err == io.EOF {
			return t, nil
		}
		if err != nil {
			return t, fmt.Errorf("read chat transcript: %w", err)
		}
	}
}

// parse parses a line, counting it as skipped when it is damaged or long.
func (t *transcript) parse(line []byte, long bool) (Message, bool) {
	if long {
		t.skipped++
		return Message{}, false
	}
	m, err := parseLine(line)
	if err != nil {
		t.skipped++
		return Message{}, false
	}
	return m, true
}

// add keeps m as the newest message, dropping the oldest beyond keep (0: keep all).
func (t *transcript) add(m Message, keep int) {
	if keep > 0 && len(t.recent) == keep {
		t.recent = append(t.recent[:0], t.recent[1:]...)
	}
	t.recent = append(t.recent, m)
	t.last = max(t.last, m.Seq)
}

// readLine reads one line without its newline. A line longer than maxLine is read to its
// end but not returned: long says so.
func readLine(br *bufio.Reader) (line []byte, long bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !long && len(line)+len(chunk) <= maxLine+1 {
			line = append(line, chunk...)
		} else {
			long, line = true, nil
		}
		if err != bufio.ErrBufferFull {
			return bytes.TrimSuffix(line, []byte{'\n'}), long, err
		}
	}
}
