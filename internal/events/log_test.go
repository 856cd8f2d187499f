package events

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// sample returns the i-th of a varied run of records, all for account alice.
func sample(i int) Record {
	base := Record{Account: "alice", Service: "send", Remote: "127.0.0.1:5555", Session: fmt.Sprintf("s%d", i/4)}
	switch i % 4 {
	case 0:
		base.Kind, base.Outcome, base.Method = KindLogin, OutcomeOK, "password"
	case 1:
		base.Kind = KindSessionStart
	case 2:
		base.Kind, base.Outcome, base.Action = KindFile, OutcomeOK, ActionUpload
		base.Path, base.Size, base.DurationMS = fmt.Sprintf("report-%d.pdf", i), 1234567, 3100
		base.SHA256 = strings.Repeat("ab", 32)
	case 3:
		base.Kind, base.DurationMS = KindSessionEnd, 4200
	}
	return base
}

// writeLog writes a log of n sample records and returns its path.
func writeLog(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "activity.jsonl")
	l, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	for i := range n {
		if err := l.Append(sample(i)); err != nil {
			t.Fatalf("Append(%d): %v", i, err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return path
}

// readLines returns the lines of a file without their newlines; a torn final line is kept.
func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// writeLines replaces a file with lines, each ending in a newline.
func writeLines(t *testing.T, path string, lines []string) {
	t.Helper()
	var s string
	for _, l := range lines {
		s += l + "\n"
	}
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// readAll returns every record of the log at path, skipping damaged lines.
func readAll(t *testing.T, path string) []Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []Record
	if err := Read(f, Filter{}, func(r Record) error { recs = append(recs, r); return nil }); err != nil && !errors.Is(err, ErrDamaged) {
		t.Fatalf("Read: %v", err)
	}
	return recs
}

// mustVerify verifies the log at path and fails the test on an I/O error.
func mustVerify(t *testing.T, path string) Result {
	t.Helper()
	res, err := VerifyFile(path)
	if err != nil {
		t.Fatalf("VerifyFile: %v", err)
	}
	return res
}

func TestAppendFillsFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "activity.jsonl")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	before := time.Now()
	berlin := time.FixedZone("CET", 3600)
	given := time.Date(2026, 11, 25, 23, 41, 3, 500, berlin)
	if err := l.Append(Record{Kind: KindLogin, Seq: 99, Prev: "forged"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(Record{Kind: KindLogin, Time: given}); err != nil {
		t.Fatal(err)
	}
	recs := readAll(t, path)
	if len(recs) != 2 {
		t.Fatalf("read %d records, want 2", len(recs))
	}
	if r := recs[0]; r.Seq != 1 || r.Prev != "" || r.Time.Before(before) || r.Time.Location() != time.UTC {
		t.Errorf("first record = %+v; want seq 1, no prev, time now in UTC", r)
	}
	lines := readLines(t, path)
	if r := recs[1]; r.Seq != 2 || r.Prev != hashLine([]byte(lines[0])) || !r.Time.Equal(given) || r.Time.Location() != time.UTC {
		t.Errorf("second record = %+v; want seq 2, prev the hash of line 1, time %v in UTC", r, given)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("log mode = %v, %v; want 0600", fi.Mode(), err)
	}
}

func TestAppendRejects(t *testing.T) {
	path := filepath.Join(t.TempDir(), "activity.jsonl")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		r    Record
	}{
		{"no kind", Record{Account: "alice"}},
		{"too long", Record{Kind: KindLogin, Reason: strings.Repeat("x", MaxLine)}},
		{"year 10000", Record{Kind: KindLogin, Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := l.Append(tt.r); err == nil {
				t.Errorf("Append(%.60v) = nil; want an error", tt.r)
			}
		})
	}
	if err := l.Append(sample(0)); err != nil {
		t.Fatalf("Append after rejections: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(sample(1)); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Append after Close = %v; want os.ErrClosed", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close = %v; want nil", err)
	}
	if res := mustVerify(t, path); !res.OK || res.Records != 1 {
		t.Errorf("VerifyFile = %+v; want OK with 1 record", res)
	}
}

func TestAppendConcurrent(t *testing.T) {
	const writers, each = 100, 20
	path := filepath.Join(t.TempDir(), "activity.jsonl")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := l.Append(Record{Kind: KindFile, Path: fmt.Sprintf("w%d/%d", w, i)}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Append: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	res := mustVerify(t, path)
	if !res.OK || res.Records != writers*each || len(res.Notes) != 0 {
		t.Fatalf("VerifyFile = %+v; want OK with %d records", res, writers*each)
	}
	seen := map[string]bool{}
	for i, r := range readAll(t, path) {
		if r.Seq != uint64(i+1) || seen[r.Path] {
			t.Fatalf("record %d = seq %d path %q; want seq %d and a path not seen before", i, r.Seq, r.Path, i+1)
		}
		seen[r.Path] = true
	}
}

func TestOpenContinuesChain(t *testing.T) {
	path := writeLog(t, 3)
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := l.Append(sample(3 + i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	res := mustVerify(t, path)
	if !res.OK || res.Records != 5 || res.LastSeq != 5 || len(res.Notes) != 0 {
		t.Errorf("VerifyFile = %+v; want OK, 5 records, no notes", res)
	}
}

func TestOpenLocked(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the log is locked on Linux only")
	}
	path := writeLog(t, 1)
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l2, err := Open(path); !errors.Is(err, ErrLocked) {
		if l2 != nil {
			l2.Close()
		}
		t.Errorf("second Open = %v; want ErrLocked", err)
	}
}

func TestOpenRecoversTornTail(t *testing.T) {
	path := writeLog(t, 3)
	torn := `{"seq":4,"time":"2026-11-25T22:41:03Z","kind":"lo`
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(torn)
	f.Close()

	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append(sample(3)); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	recs := readAll(t, path)
	sum := sha256.Sum256([]byte(torn))
	if len(recs) != 5 {
		t.Fatalf("read %d records, want 5: 3, log_recovered, 1 more", len(recs))
	}
	if r := recs[3]; r.Kind != KindLogRecovered || r.Seq != 4 || r.Size != int64(len(torn)) || r.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("record 4 = %+v; want log_recovered with size %d and the torn bytes' hash", r, len(torn))
	}
	res := mustVerify(t, path)
	if !res.OK || res.Records != 5 || len(res.Notes) != 1 {
		t.Errorf("VerifyFile = %+v; want OK, 5 records, one note", res)
	}
}

func TestOpenRecordsMismatch(t *testing.T) {
	tests := []struct {
		name       string
		tamper     func(t *testing.T, path string)
		wantReason string // in the log_mismatch record; "" for none
		wantSeq    uint64 // seq of the first record Open appends
	}{
		{"intact", func(*testing.T, string) {}, "", 6},
		{"head one behind after a crash", func(t *testing.T, path string) {
			lines := readLines(t, path)
			h := Head{Seq: 4, Hash: hashLine([]byte(lines[3]))}
			os.WriteFile(headPath(path), h.appendLine(nil), 0o600)
		}, "", 6},
		{"last line removed", func(t *testing.T, path string) {
			writeLines(t, path, readLines(t, path)[:4])
		}, "records were removed from the end", 5},
		{"last line edited", func(t *testing.T, path string) {
			lines := readLines(t, path)
			lines[4] = strings.Replace(lines[4], "alice", "mallory", 1)
			writeLines(t, path, lines)
		}, "the end of the log was edited", 6},
		{"last line not a record", func(t *testing.T, path string) {
			lines := readLines(t, path)
			lines[4] = "garbage"
			writeLines(t, path, lines)
		}, "the last line is not a valid record", 6},
		{"head missing", func(t *testing.T, path string) {
			os.Remove(headPath(path))
		}, "the head file is missing", 6},
		{"head garbage", func(t *testing.T, path string) {
			os.WriteFile(headPath(path), []byte("{\"seq\":5,\"ha"), 0o600)
		}, "the head file is unreadable", 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeLog(t, 5)
			tt.tamper(t, path)
			l, err := Open(path)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if err := l.Append(Record{Kind: KindLogin}); err != nil {
				t.Fatal(err)
			}
			l.Close()
			recs := readAll(t, path)
			var added []Record
			for _, r := range recs {
				if r.Seq >= tt.wantSeq {
					added = append(added, r)
				}
			}
			wantKinds := []string{KindLogin}
			if tt.wantReason != "" {
				wantKinds = []string{KindLogMismatch, KindLogin}
			}
			if len(added) != len(wantKinds) {
				t.Fatalf("records from seq %d on: %+v; want kinds %v", tt.wantSeq, added, wantKinds)
			}
			for i, k := range wantKinds {
				if added[i].Kind != k {
					t.Errorf("record seq %d has kind %q; want %q", added[i].Seq, added[i].Kind, k)
				}
			}
			if tt.wantReason != "" && !strings.Contains(added[0].Reason, tt.wantReason) {
				t.Errorf("log_mismatch reason = %q; want it to say %q", added[0].Reason, tt.wantReason)
			}
			res := mustVerify(t, path)
			if res.OK != (tt.wantReason == "") {
				t.Errorf("VerifyFile after Open: OK = %v, problems %v; want OK %v", res.OK, res.Problems, tt.wantReason == "")
			}
		})
	}
}

func BenchmarkAppend(b *testing.B) {
	l, err := Open(filepath.Join(b.TempDir(), "activity.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	r := sample(2)
	b.SetBytes(int64(len(encode(b, r)) + 1))
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Append(r); err != nil {
			b.Fatal(err)
		}
	}
}
