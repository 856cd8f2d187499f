package events

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// writeRotated writes n sample records to a log at a new path that rotates past maxSize and
// keeps keep rotated files, and returns the path.
func writeRotated(t *testing.T, n int, maxSize int64, keep int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "activity.log")
	l, err := OpenWith(path, Options{MaxSize: maxSize, Keep: keep})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := l.Append(sample(i)); err != nil {
			t.Fatalf("Append(%d): %v", i, err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// readChain returns every record of the log at path and its rotated files.
func readChain(t *testing.T, path string) []Record {
	t.Helper()
	var recs []Record
	if err := ReadFiles(path, Filter{}, func(r Record) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatalf("ReadFiles: %v", err)
	}
	return recs
}

// rotatedFiles returns the numbers of the rotated files of the log at path.
func rotatedFiles(t *testing.T, path string) []int {
	t.Helper()
	ns, err := listRotated(path)
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// contiguous checks that recs have the seqs from first on, one after the other.
func contiguous(recs []Record, first uint64) error {
	for i, r := range recs {
		if r.Seq != first+uint64(i) {
			return fmt.Errorf("record %d has seq %d; want %d", i, r.Seq, first+uint64(i))
		}
	}
	return nil
}

func TestRotation(t *testing.T) {
	const n, maxSize, keep = 100, 1024, 3
	path := writeRotated(t, n, maxSize, keep)
	ns := rotatedFiles(t, path)
	if len(ns) != keep {
		t.Fatalf("rotated files %v; want the newest %d", ns, keep)
	}
	for i, num := range append(ns, 0) {
		name := path
		if num != 0 {
			name = rotatedPath(path, num)
		}
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > maxSize+MaxLine || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %d bytes, mode %v; want about %d at most, 0600", name, fi.Size(), fi.Mode(), maxSize)
		}
		first := readAll(t, name)[0]
		if first.Kind != KindLogContinued || i > 0 && first.Path != filepath.Base(rotatedPath(path, ns[i-1])) {
			t.Errorf("%s starts with %+v; want log_continued naming the file before", name, first)
		}
	}
	recs := readChain(t, path)
	if len(recs) == 0 || recs[len(recs)-1].Seq <= n {
		t.Fatalf("read %d records; want the last to have a seq above %d (sample records and continuations)", len(recs), n)
	}
	if err := contiguous(recs, recs[0].Seq); err != nil {
		t.Errorf("ReadFiles: %v", err)
	}
	res := mustVerify(t, path)
	if !res.OK || res.Files != keep+1 || res.Records != len(recs) || res.FirstSeq != recs[0].Seq || len(res.Notes) != 1 ||
		!strings.Contains(res.Notes[0].String(), "the chain starts at seq") {
		t.Errorf("VerifyFile = %+v; want OK across %d files with %d records and a note that older files were removed", res, keep+1, len(recs))
	}
}

func TestRotationKeepingAll(t *testing.T) {
	path := writeRotated(t, 60, 1024, -1)
	res := mustVerify(t, path)
	if !res.OK || res.Files < 5 || res.FirstSeq != 1 || len(res.Notes) != 0 {
		t.Errorf("VerifyFile = %+v; want OK from seq 1 across several files, no notes", res)
	}
	l, err := OpenWith(path, Options{MaxSize: 1024, Keep: 2})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if ns := rotatedFiles(t, path); len(ns) != 2 {
		t.Errorf("after opening with keep 2: rotated files %v; want 2", ns)
	}
}

func TestOpenContinuesAfterRotation(t *testing.T) {
	path := writeRotated(t, 30, 1024, -1)
	before := readChain(t, path)
	l, err := OpenWith(path, Options{MaxSize: 1024, Keep: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append(sample(0)); err != nil {
		t.Fatal(err)
	}
	l.Close()
	recs := readChain(t, path)
	if len(recs) != len(before)+1 || recs[len(recs)-1].Kind != KindLogin {
		t.Fatalf("after reopening and one Append: %d records, last %+v; want %d, a login", len(recs), recs[len(recs)-1], len(before)+1)
	}
	if res := mustVerify(t, path); !res.OK || len(res.Notes) != 0 {
		t.Errorf("VerifyFile = %+v; want OK, no notes", res)
	}
}

// TestOpenAfterInterruptedRotation opens logs as a crash at each step of a rotation leaves
// them: Open continues the chain without a mismatch.
func TestOpenAfterInterruptedRotation(t *testing.T) {
	tests := []struct {
		name  string
		crash func(t *testing.T, path string)
	}{
		{"next file prepared", func(t *testing.T, path string) {
			os.WriteFile(newPath(path), []byte(`{"seq":99,"time":"2026-11-25T22:41:03Z","kind":"log_continued"}`+"\n"), 0o600)
		}},
		{"full file linked to its rotated name", func(t *testing.T, path string) {
			ns := rotatedFiles(t, path)
			if err := os.Link(path, rotatedPath(path, ns[len(ns)-1]+1)); err != nil {
				t.Fatal(err)
			}
		}},
		{"next file in place, head not written", func(t *testing.T, path string) {
			// The log's file holds one line, and the head names the line before it, in the
			// rotated file before.
			recs := readChain(t, path)
			if lines := readLines(t, path); len(lines) > 1 {
				ns := rotatedFiles(t, path)
				writeRotatedTo(t, path, rotatedPath(path, ns[len(ns)-1]+1), lines)
			}
			h := Head{Seq: recs[len(recs)-1].Seq - 1, Hash: readAll(t, path)[0].Prev}
			os.WriteFile(headPath(path), h.appendLine(nil), 0o600)
		}},
		{"empty log file after the rotated ones", func(t *testing.T, path string) {
			ns := rotatedFiles(t, path)
			if err := os.Rename(path, rotatedPath(path, ns[len(ns)-1]+1)); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(path, nil, 0o600)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeRotated(t, 30, 1024, -1)
			tt.crash(t, path)
			last := readChain(t, path)
			l, err := OpenWith(path, Options{MaxSize: 1024, Keep: -1})
			if err != nil {
				t.Fatalf("OpenWith: %v", err)
			}
			if err := l.Append(Record{Kind: KindFile, Path: "after"}); err != nil {
				t.Fatal(err)
			}
			l.Close()
			recs := readChain(t, path)
			if got := recs[len(recs)-1]; got.Path != "after" || got.Seq != last[len(last)-1].Seq+1 {
				t.Errorf("the record after reopening: %+v; want seq %d (no mismatch record before it)", got, last[len(last)-1].Seq+1)
			}
			if res := mustVerify(t, path); !res.OK {
				t.Errorf("VerifyFile: %v", res.Problems)
			}
			if _, err := os.Stat(newPath(path)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the prepared next file is still there: %v", err)
			}
		})
	}
}

// writeRotatedTo moves all but the last line of the log at path to rotated, as a rotation does.
func writeRotatedTo(t *testing.T, path, rotated string, lines []string) {
	t.Helper()
	writeLines(t, rotated, lines[:len(lines)-1])
	writeLines(t, path, lines[len(lines)-1:])
}

func TestOpenLockedAfterRotation(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the log is locked on Linux only")
	}
	path := filepath.Join(t.TempDir(), "activity.log")
	l, err := OpenWith(path, Options{MaxSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 10 {
		if err := l.Append(sample(i)); err != nil {
			t.Fatal(err)
		}
	}
	if len(rotatedFiles(t, path)) == 0 {
		t.Fatal("no rotation after 10 records past 512 bytes")
	}
	if l2, err := Open(path); !errors.Is(err, ErrLocked) {
		if l2 != nil {
			l2.Close()
		}
		t.Errorf("Open after a rotation = %v; want ErrLocked", err)
	}
}

// TestReadWhileRotating reads the log over and over while another goroutine appends to it and
// rotates it: every read sees a prefix of the chain, each record once, in order.
func TestReadWhileRotating(t *testing.T) {
	path := filepath.Join(t.TempDir(), "activity.log")
	l, err := OpenWith(path, Options{MaxSize: 2048, Keep: -1})
	if err != nil {
		t.Fatal(err)
	}
	const n = 1500
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		for i := range n {
			if err := l.Append(sample(i)); err != nil {
				t.Errorf("Append(%d): %v", i, err)
				return
			}
		}
	})
	reads, last := 0, 0
	for stop := false; !stop; reads++ {
		select {
		case <-done:
			stop = true
		default:
		}
		var recs []Record
		err := ReadFiles(path, Filter{}, func(r Record) error { recs = append(recs, r); return nil })
		if err != nil {
			t.Fatalf("read %d: ReadFiles: %v", reads, err)
		}
		if err := contiguous(recs, 1); err != nil {
			t.Fatalf("read %d: %v", reads, err)
		}
		if len(recs) < last {
			t.Fatalf("read %d: %d records, fewer than the read before (%d)", reads, len(recs), last)
		}
		last = len(recs)
		if tail, err := Tail(path, Filter{}, 10); err != nil || len(tail) > 0 && contiguous(tail, tail[0].Seq) != nil {
			t.Fatalf("read %d: Tail = %d records, %v; want 10 in order", reads, len(tail), err)
		}
	}
	wg.Wait()
	l.Close()
	if res := mustVerify(t, path); !res.OK || res.Files < 10 {
		t.Errorf("VerifyFile = %v problems across %d files; want OK across many files", res.Problems, res.Files)
	}
	t.Logf("%d reads while rotating into %d files", reads, len(rotatedFiles(t, path))+1)
}

func TestTailAcrossFiles(t *testing.T) {
	path := writeRotated(t, 40, 1024, -1)
	all := readChain(t, path)
	tests := []struct {
		name string
		f    Filter
		n    int
	}{
		{"a few, from the newest file", Filter{}, 2},
		{"more than the newest file holds", Filter{}, 25},
		{"more than there are", Filter{}, 1000},
		{"filtered", Filter{Kind: KindFile}, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []Record
			for _, r := range all {
				if tt.f.Match(r) {
					want = append(want, r)
				}
			}
			want = want[max(len(want)-tt.n, 0):]
			got, err := Tail(path, tt.f, tt.n)
			if err != nil || describeSeqs(got) != describeSeqs(want) {
				t.Errorf("Tail(%+v, %d) = %s, %v; want %s", tt.f, tt.n, describeSeqs(got), err, describeSeqs(want))
			}
		})
	}
}

func describeSeqs(recs []Record) string {
	var s []string
	for _, r := range recs {
		s = append(s, fmt.Sprint(r.Seq))
	}
	return strings.Join(s, ",")
}
