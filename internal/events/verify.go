package events

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// maxProblems bounds the problems a Result lists, so a file of garbage gives a short answer.
const maxProblems = 100

// Problem is something Verify found, on one line of the log or, with Line 0, about the whole.
type Problem struct {
	Line    int    // 1-based line number; 0 when not about one line
	Seq     uint64 // the seq of the record on that line, when it has one
	Message string
}

// String returns the problem as "line 17: message".
func (p Problem) String() string {
	if p.Line == 0 {
		return p.Message
	}
	return fmt.Sprintf("line %d: %s", p.Line, p.Message)
}

// Result is what Verify found.
type Result struct {
	OK       bool      // no problems: the chain is whole
	Records  int       // valid records read
	LastSeq  uint64    // seq of the last valid record
	First    time.Time // time of the first valid record
	Last     time.Time // time of the last valid record
	Problems []Problem // breaks: edited, removed, reordered or damaged lines, first first
	Notes    []Problem // worth knowing, not breaks: crash recoveries, a final line being written
}

// VerifyFile verifies the log at path against its head file. A missing head file is a problem
// when the log has records, since it hides whether lines were removed from the end.
func VerifyFile(path string) (Result, error) {
	// The head is read before the log: while the host appends, the log can only be ahead of it.
	head, herr := readHead(headPath(path))
	f, err := os.Open(path)
	if err != nil {
		return Result{}, fmt.Errorf("verify activity log: %w", err)
	}
	defer f.Close()
	var hp *Head
	if herr == nil {
		hp = &head
	}
	res, err := Verify(f, hp)
	if err != nil {
		return Result{}, err
	}
	switch {
	case errors.Is(herr, fs.ErrNotExist):
		if res.Records > 0 {
			res.Problems = append(res.Problems, Problem{Message: "the head file is missing: removed final records would go unnoticed"})
		}
	case herr != nil:
		res.Problems = append(res.Problems, Problem{Message: fmt.Sprintf("the head file is unreadable: %v", herr)})
	}
	res.OK = len(res.Problems) == 0
	return res, nil
}

// Verify walks a log line by line and checks the chain: each record's seq follows the one before
// and its prev is the hash of the line before. With a head, it also checks that the line with the
// head's seq is there and has the head's hash; lines after it are fine (written after the head was
// read). Verify lists every problem it meets, up to a limit; the error is for reading only.
func Verify(r io.Reader, head *Head) (Result, error) {
	v := verifier{head: head}
	lr := newLineReader(r)
	for {
		l, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Result{}, fmt.Errorf("verify activity log: %w", err)
		}
		if !l.complete {
			v.res.Notes = append(v.res.Notes, Problem{Line: l.n, Message: "the final line has no newline yet (being written, or torn by a crash); not checked"})
			break
		}
		v.line(l)
	}
	v.end()
	v.res.OK = len(v.res.Problems) == 0
	return v.res, nil
}

// verifier is the state of one walk through a log.
type verifier struct {
	res       Result
	head      *Head
	started   bool   // whether a line was seen
	known     bool   // whether prevSeq and prevHash describe the line before (not after a damaged one)
	prevSeq   uint64 // seq of the line before
	prevHash  string // hash of the line before
	prevLine  int    // its line number
	headLine  int    // the line with the head's seq; 0 if none yet
	headMatch bool   // whether that line has the head's hash
	dropped   int    // problems beyond maxProblems
}

func (v *verifier) problem(line int, seq uint64, format string, args ...any) {
	if len(v.res.Problems) == maxProblems {
		v.dropped++
		return
	}
	v.res.Problems = append(v.res.Problems, Problem{Line: line, Seq: seq, Message: fmt.Sprintf(format, args...)})
}

func (v *verifier) line(l line) {
	first := !v.started
	v.started = true
	if l.tooLong {
		v.problem(l.n, 0, "longer than %d bytes: not a record", MaxLine)
		v.known = false
		return
	}
	hash := hashLine(l.text)
	rec, err := parse(l.text)
	if err != nil {
		v.problem(l.n, 0, "not a valid record: %v", err)
		// The next line's prev and seq cannot be judged against this one.
		v.known, v.prevHash, v.prevLine = false, hash, l.n
		return
	}
	switch {
	case first:
		switch {
		case rec.Seq != 1:
			v.problem(l.n, rec.Seq, "the first record has seq %d, want 1: records were removed from the start", rec.Seq)
		case rec.Prev != "":
			v.problem(l.n, rec.Seq, "the first record has a prev hash: records were removed from the start")
		}
	case v.known:
		v.link(l.n, rec)
	}
	v.known, v.prevSeq, v.prevHash, v.prevLine = true, rec.Seq, hash, l.n

	switch rec.Kind {
	case KindLogMismatch:
		v.problem(l.n, rec.Seq, "when the log was opened it did not match its head: %s", rec.Reason)
	case KindLogRecovered:
		v.res.Notes = append(v.res.Notes, Problem{Line: l.n, Seq: rec.Seq, Message: "recovered when opened: " + rec.Reason})
	}
	if v.head != nil && v.head.Seq != 0 && rec.Seq == v.head.Seq {
		v.headLine, v.headMatch = l.n, hash == v.head.Hash
	}
	if v.res.Records == 0 {
		v.res.First = rec.Time
	}
	v.res.Records++
	v.res.Last, v.res.LastSeq = rec.Time, rec.Seq
}

// link checks that rec, on line n, follows the line before.
func (v *verifier) link(n int, rec Record) {
	jump := rec.Seq > v.prevSeq+1
	back := rec.Seq <= v.prevSeq
	badPrev := rec.Prev != v.prevHash
	var seqMsg string
	switch {
	case jump:
		seqMsg = fmt.Sprintf("seq jumps from %d to %d", v.prevSeq, rec.Seq)
	case back:
		seqMsg = fmt.Sprintf("seq goes back from %d to %d", v.prevSeq, rec.Seq)
	}
	switch {
	case jump && badPrev:
		v.problem(n, rec.Seq, "%s and prev does not match line %d: %s removed or moved from here", seqMsg, v.prevLine, records(rec.Seq-v.prevSeq-1))
	case back && badPrev:
		v.problem(n, rec.Seq, "%s and prev does not match line %d: lines were reordered or repeated", seqMsg, v.prevLine)
	case badPrev:
		v.problem(n, rec.Seq, "prev does not match line %d: line %d was edited or replaced", v.prevLine, v.prevLine)
	case jump || back:
		v.problem(n, rec.Seq, "%s but prev matches line %d: this line's seq was edited", seqMsg, v.prevLine)
	}
}

// end checks the head and closes the list of problems.
func (v *verifier) end() {
	if h := v.head; h != nil && h.Seq != 0 {
		switch {
		case v.headLine == 0 && v.res.LastSeq < h.Seq:
			v.problem(0, 0, "the log ends at seq %d but the head says %d: records were removed from the end (or lost in a power failure)", v.res.LastSeq, h.Seq)
		case v.headLine == 0:
			v.problem(0, 0, "no record has the head's seq %d", h.Seq)
		case !v.headMatch:
			v.problem(v.headLine, h.Seq, "hash does not match the head file: this line was edited after it was written")
		}
	}
	if v.dropped > 0 {
		v.res.Problems = append(v.res.Problems, Problem{Message: fmt.Sprintf("and %d more problems", v.dropped)})
	}
}

// records says "1 record" or "n records".
func records(n uint64) string {
	if n == 1 {
		return "1 record"
	}
	return fmt.Sprintf("%d records", n)
}
