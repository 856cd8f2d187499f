package events

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"
)

// maxProblems bounds the problems a Result lists, so a file of garbage gives a short answer.
const maxProblems = 100

// Problem is something Verify found, on one line of the log or, with Line 0, about the whole.
type Problem struct {
	File    string // the file's name when the log has rotated files, else ""
	Line    int    // 1-based line number in File; 0 when not about one line
	Seq     uint64 // the seq of the record on that line, when it has one
	Message string
}

// String returns the problem as "line 17: message", or "activity.log.3 line 17: message" in a
// log with rotated files.
func (p Problem) String() string {
	switch {
	case p.Line == 0 && p.File == "":
		return p.Message
	case p.Line == 0:
		return p.File + ": " + p.Message
	case p.File == "":
		return fmt.Sprintf("line %d: %s", p.Line, p.Message)
	}
	return fmt.Sprintf("%s line %d: %s", p.File, p.Line, p.Message)
}

// Result is what Verify found.
type Result struct {
	OK       bool      // no problems: the chain is whole
	Files    int       // files read: the log's own and its rotated files
	Records  int       // valid records read
	FirstSeq uint64    // seq of the first valid record: above 1 when rotation removed older files
	LastSeq  uint64    // seq of the last valid record
	First    time.Time // time of the first valid record
	Last     time.Time // time of the last valid record
	Problems []Problem // breaks: edited, removed, reordered or damaged lines, first first
	Notes    []Problem // worth knowing, not breaks: crash recoveries, a final line being written
}

// VerifyFile verifies the log at path, with its rotated files, against its head file. It
// follows the chain from the oldest rotated file kept to path: each file after the first must
// continue the one before. When rotation has removed older files, the chain starts at the
// oldest kept file's first record, a log_continued record, which is noted, not a problem. A
// missing head file is a problem when the log has records, since it hides whether lines were
// removed from the end.
func VerifyFile(path string) (Result, error) {
	// The head is read before the log: while the host appends, the log can only be ahead of it.
	head, herr := readHead(headPath(path))
	all, err := openFiles(path)
	if err != nil {
		return Result{}, fmt.Errorf("verify activity log: %w", err)
	}
	defer all.close()
	var hp *Head
	if herr == nil {
		hp = &head
	}
	v := verifier{head: hp}
	for i, lf := range all {
		name := ""
		if len(all) > 1 {
			name = lf.name
		}
		if err := v.walk(lf.f, name, i == len(all)-1); err != nil {
			return Result{}, err
		}
	}
	v.end()
	res := v.res
	res.Files = len(all)
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
	if err := v.walk(r, "", true); err != nil {
		return Result{}, err
	}
	v.end()
	v.res.Files = 1
	v.res.OK = len(v.res.Problems) == 0
	return v.res, nil
}

// verifier is the state of one walk through a log, file after file.
type verifier struct {
	res       Result
	head      *Head
	started   bool   // whether a line was seen
	file      string // the name of the file being read, "" for a log of one file
	fileFirst bool   // whether the next line is the first of its file
	known     bool   // whether prevSeq and prevHash describe the line before (not after a damaged one)
	prevSeq   uint64 // seq of the line before
	prevHash  string // hash of the line before
	prevLine  int    // its line number
	prevFile  string // and the file it is in
	headFile  string // the file with the line with the head's seq
	headLine  int    // that line; 0 if none yet
	headMatch bool   // whether that line has the head's hash
	dropped   int    // problems beyond maxProblems
}

// walk checks the lines of one file, name, continuing the chain of the files before it. In the
// last file a final line without a newline may still be being written.
func (v *verifier) walk(r io.Reader, name string, last bool) error {
	v.file, v.fileFirst = name, true
	lr := newLineReader(r)
	for {
		l, err := lr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("verify activity log: %w", err)
		}
		if !l.complete {
			if last {
				v.note(l.n, 0, "the final line has no newline yet (being written, or torn by a crash); not checked")
			} else {
				v.problem(l.n, 0, "the file ends in a line without a newline, and a newer file follows: it was cut or damaged")
			}
			return nil
		}
		v.line(l)
	}
}

func (v *verifier) problem(line int, seq uint64, format string, args ...any) {
	if len(v.res.Problems) == maxProblems {
		v.dropped++
		return
	}
	v.res.Problems = append(v.res.Problems, Problem{File: v.file, Line: line, Seq: seq, Message: fmt.Sprintf(format, args...)})
}

func (v *verifier) note(line int, seq uint64, msg string) {
	v.res.Notes = append(v.res.Notes, Problem{File: v.file, Line: line, Seq: seq, Message: msg})
}

func (v *verifier) line(l line) {
	first := !v.started
	boundary := v.fileFirst && !first
	v.started, v.fileFirst = true, false
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
		v.known, v.prevHash, v.prevLine, v.prevFile = false, hash, l.n, v.file
		return
	}
	switch {
	case first && rec.Kind == KindLogContinued && rec.Seq > 1 && rec.Prev != "":
		v.note(l.n, rec.Seq, fmt.Sprintf("the chain starts at seq %d here: the files before it were removed by rotation", rec.Seq))
	case first && rec.Seq != 1:
		v.problem(l.n, rec.Seq, "the first record has seq %d, want 1: records were removed from the start", rec.Seq)
	case first && rec.Prev != "":
		v.problem(l.n, rec.Seq, "the first record has a prev hash: records were removed from the start")
	case v.known:
		v.link(l.n, rec, boundary)
	}
	v.known, v.prevSeq, v.prevHash, v.prevLine, v.prevFile = true, rec.Seq, hash, l.n, v.file

	switch rec.Kind {
	case KindLogMismatch:
		v.problem(l.n, rec.Seq, "when the log was opened it did not match its head: %s", rec.Reason)
	case KindLogRecovered:
		v.note(l.n, rec.Seq, "recovered when opened: "+rec.Reason)
	}
	if v.head != nil && v.head.Seq != 0 && rec.Seq == v.head.Seq {
		v.headFile, v.headLine, v.headMatch = v.file, l.n, hash == v.head.Hash
	}
	if v.res.Records == 0 {
		v.res.First, v.res.FirstSeq = rec.Time, rec.Seq
	}
	v.res.Records++
	v.res.Last, v.res.LastSeq = rec.Time, rec.Seq
}

// link checks that rec, on line n, follows the line before, which at a file boundary is the last
// line of the file before.
func (v *verifier) link(n int, rec Record, boundary bool) {
	jump := rec.Seq > v.prevSeq+1
	back := rec.Seq <= v.prevSeq
	badPrev := rec.Prev != v.prevHash
	if !jump && !back && !badPrev {
		return
	}
	prevAt, prefix := fmt.Sprintf("line %d", v.prevLine), ""
	if boundary {
		prevAt = fmt.Sprintf("line %d of %s", v.prevLine, v.prevFile)
		prefix = fmt.Sprintf("the chain breaks at the file boundary: this file does not continue %s: ", v.prevFile)
	}
	var seqMsg string
	switch {
	case jump:
		seqMsg = fmt.Sprintf("seq jumps from %d to %d", v.prevSeq, rec.Seq)
	case back:
		seqMsg = fmt.Sprintf("seq goes back from %d to %d", v.prevSeq, rec.Seq)
	}
	switch {
	case jump && badPrev && boundary:
		v.problem(n, rec.Seq, "%s%s and prev does not match %s: %s missing (a rotated file removed, or records cut from the end of %s)", prefix, seqMsg, prevAt, records(rec.Seq-v.prevSeq-1), v.prevFile)
	case jump && badPrev:
		v.problem(n, rec.Seq, "%s%s and prev does not match %s: %s removed or moved from here", prefix, seqMsg, prevAt, records(rec.Seq-v.prevSeq-1))
	case back && badPrev:
		v.problem(n, rec.Seq, "%s%s and prev does not match %s: lines were reordered or repeated", prefix, seqMsg, prevAt)
	case badPrev:
		v.problem(n, rec.Seq, "%sprev does not match %s: %s was edited or replaced", prefix, prevAt, prevAt)
	default:
		v.problem(n, rec.Seq, "%s%s but prev matches %s: this line's seq was edited", prefix, seqMsg, prevAt)
	}
}

// end checks the head and closes the list of problems.
func (v *verifier) end() {
	if h := v.head; h != nil && h.Seq != 0 {
		switch {
		case v.headLine == 0 && v.res.LastSeq < h.Seq:
			v.file = ""
			v.problem(0, 0, "the log ends at seq %d but the head says %d: records were removed from the end (or lost in a power failure)", v.res.LastSeq, h.Seq)
		case v.headLine == 0:
			v.file = ""
			v.problem(0, 0, "no record has the head's seq %d", h.Seq)
		case !v.headMatch:
			v.file = v.headFile
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
