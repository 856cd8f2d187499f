package events

import (
	"os"
	"strings"
	"testing"
)

func TestVerifyFile(t *testing.T) {
	tests := []struct {
		name      string
		tamper    func(t *testing.T, path string, lines []string)
		wantOK    bool
		wantLine  int    // of the first problem
		wantMsg   string // in the first problem
		wantNotes int
	}{
		{"intact", func(*testing.T, string, []string) {}, true, 0, "", 0},
		{"edited line", func(t *testing.T, path string, lines []string) {
			lines[3] = strings.Replace(lines[3], "alice", "mallory", 1)
			writeLines(t, path, lines)
		}, false, 5, "prev does not match line 4: line 4 was edited", 0},
		{"line made invalid", func(t *testing.T, path string, lines []string) {
			lines[3] = lines[3][:len(lines[3])-1]
			writeLines(t, path, lines)
		}, false, 4, "not a valid record: invalid JSON", 0},
		{"blank line inserted", func(t *testing.T, path string, lines []string) {
			writeLines(t, path, append(lines[:3:3], append([]string{""}, lines[3:]...)...))
		}, false, 4, "not a valid record", 0},
		{"middle line deleted", func(t *testing.T, path string, lines []string) {
			writeLines(t, path, append(lines[:4:4], lines[5:]...))
		}, false, 5, "seq jumps from 4 to 6 and prev does not match line 4: 1 record removed or moved", 0},
		{"first line deleted", func(t *testing.T, path string, lines []string) {
			writeLines(t, path, lines[1:])
		}, false, 1, "removed from the start", 0},
		{"last line deleted", func(t *testing.T, path string, lines []string) {
			writeLines(t, path, lines[:len(lines)-1])
		}, false, 0, "the log ends at seq 9 but the head says 10", 0},
		{"everything deleted", func(t *testing.T, path string, lines []string) {
			writeLines(t, path, nil)
		}, false, 0, "the log ends at seq 0 but the head says 10", 0},
		{"last line edited", func(t *testing.T, path string, lines []string) {
			lines[9] = strings.Replace(lines[9], "alice", "mallory", 1)
			writeLines(t, path, lines)
		}, false, 10, "hash does not match the head file", 0},
		{"lines swapped", func(t *testing.T, path string, lines []string) {
			lines[2], lines[3] = lines[3], lines[2]
			writeLines(t, path, lines)
		}, false, 3, "seq jumps from 2 to 4 and prev does not match line 2", 0},
		{"line repeated", func(t *testing.T, path string, lines []string) {
			writeLines(t, path, append(lines[:5:5], lines[4:]...))
		}, false, 6, "seq goes back from 5 to 5 and prev does not match line 5: lines were reordered or repeated", 0},
		{"seq edited", func(t *testing.T, path string, lines []string) {
			lines[3] = strings.Replace(lines[3], `"seq":4`, `"seq":40`, 1)
			writeLines(t, path, lines)
		}, false, 4, "this line's seq was edited", 0},
		{"final line being written", func(t *testing.T, path string, lines []string) {
			f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			f.WriteString(`{"seq":11,"ti`)
			f.Close()
		}, true, 0, "", 1},
		{"head missing", func(t *testing.T, path string, lines []string) {
			os.Remove(headPath(path))
		}, false, 0, "the head file is missing", 0},
		{"head unreadable", func(t *testing.T, path string, lines []string) {
			os.WriteFile(headPath(path), []byte("{}x"), 0o600)
		}, false, 0, "the head file is unreadable", 0},
		{"head behind, as while the host appends", func(t *testing.T, path string, lines []string) {
			h := Head{Seq: 7, Hash: hashLine([]byte(lines[6]))}
			os.WriteFile(headPath(path), h.appendLine(nil), 0o600)
		}, true, 0, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeLog(t, 10)
			tt.tamper(t, path, readLines(t, path))
			res := mustVerify(t, path)
			t.Logf("problems %v, notes %v", res.Problems, res.Notes)
			if res.OK != tt.wantOK || len(res.Notes) != tt.wantNotes {
				t.Fatalf("VerifyFile: OK %v, problems %v, notes %v; want OK %v and %d notes", res.OK, res.Problems, res.Notes, tt.wantOK, tt.wantNotes)
			}
			if tt.wantOK {
				return
			}
			if p := res.Problems[0]; p.Line != tt.wantLine || !strings.Contains(p.Message, tt.wantMsg) {
				t.Errorf("VerifyFile: first problem %q; want line %d saying %q (all: %v)", p, tt.wantLine, tt.wantMsg, res.Problems)
			}
		})
	}
}

func TestVerifyReportsOnlyTheDamagedLine(t *testing.T) {
	path := writeLog(t, 10)
	lines := readLines(t, path)
	lines[3] = "not json"
	writeLines(t, path, lines)
	res := mustVerify(t, path)
	if len(res.Problems) != 1 || res.Records != 9 {
		t.Errorf("VerifyFile: problems %v, %d records; want one problem and 9 records", res.Problems, res.Records)
	}
}

func TestVerifySummary(t *testing.T) {
	path := writeLog(t, 4)
	recs := readAll(t, path)
	res := mustVerify(t, path)
	if !res.First.Equal(recs[0].Time) || !res.Last.Equal(recs[3].Time) || res.LastSeq != 4 || res.Records != 4 {
		t.Errorf("VerifyFile = %+v; want records 4, last seq 4, first %v, last %v", res, recs[0].Time, recs[3].Time)
	}
}

func TestVerifyBoundsProblems(t *testing.T) {
	res, err := Verify(strings.NewReader(strings.Repeat("x\n", 3*maxProblems)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || len(res.Problems) != maxProblems+1 || !strings.Contains(res.Problems[maxProblems].Message, "more problems") {
		t.Errorf("Verify of garbage: %d problems, last %v; want %d and a count of the rest", len(res.Problems), res.Problems[len(res.Problems)-1], maxProblems+1)
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		name string
		p    Problem
		want string
	}{
		{"on a line", Problem{Line: 17, Seq: 17, Message: "prev does not match line 16"}, "line 17: prev does not match line 16"},
		{"whole log", Problem{Message: "the head file is missing"}, "the head file is missing"},
		{"in a rotated file", Problem{File: "activity.log.3", Line: 1, Message: "prev does not match"}, "activity.log.3 line 1: prev does not match"},
		{"about a rotated file", Problem{File: "activity.log.3", Message: "cut"}, "activity.log.3: cut"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.String(); got != tt.want {
				t.Errorf("Problem.String() = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestVerifyAcrossFiles(t *testing.T) {
	// rotated returns the path of the n-th rotated file of the log at path.
	rotated := func(path string, n int) string { return rotatedPath(path, n) }
	tests := []struct {
		name      string
		tamper    func(t *testing.T, path string)
		wantOK    bool
		wantFile  string // of the first problem, or of the note when OK
		wantLine  int
		wantMsg   string // in the first problem, or in the note when OK
		wantNotes int
	}{
		{"intact", func(*testing.T, string) {}, true, "", 0, "", 0},
		{"oldest file removed by rotation", func(t *testing.T, path string) {
			os.Remove(rotated(path, 1))
		}, true, "activity.log.2", 1, "the chain starts at seq", 1},
		{"last line of a rotated file edited", func(t *testing.T, path string) {
			lines := readLines(t, rotated(path, 2))
			lines[len(lines)-1] = strings.Replace(lines[len(lines)-1], "alice", "mallory", 1)
			writeLines(t, rotated(path, 2), lines)
		}, false, "activity.log.3", 1, "the chain breaks at the file boundary: this file does not continue activity.log.2: prev does not match line", 0},
		{"last line of a rotated file removed", func(t *testing.T, path string) {
			lines := readLines(t, rotated(path, 2))
			writeLines(t, rotated(path, 2), lines[:len(lines)-1])
		}, false, "activity.log.3", 1, "1 record missing (a rotated file removed, or records cut from the end of activity.log.2)", 0},
		{"a rotated file in the middle removed", func(t *testing.T, path string) {
			os.Remove(rotated(path, 2))
		}, false, "activity.log.3", 1, "this file does not continue activity.log.1: seq jumps", 0},
		{"rotated files swapped", func(t *testing.T, path string) {
			os.Rename(rotated(path, 2), rotated(path, 99))
			os.Rename(rotated(path, 3), rotated(path, 2))
			os.Rename(rotated(path, 99), rotated(path, 3))
		}, false, "activity.log.2", 1, "the chain breaks at the file boundary", 0},
		{"start of the oldest kept file removed", func(t *testing.T, path string) {
			os.Remove(rotated(path, 1))
			writeLines(t, rotated(path, 2), readLines(t, rotated(path, 2))[1:])
		}, false, "activity.log.2", 1, "records were removed from the start", 0},
		{"continuation record edited", func(t *testing.T, path string) {
			lines := readLines(t, rotated(path, 3))
			lines[0] = strings.Replace(lines[0], "activity.log.2", "activity.log.7", 1)
			writeLines(t, rotated(path, 3), lines)
		}, false, "activity.log.3", 2, "prev does not match line 1: line 1 was edited", 0},
		{"a rotated file ends in half a line", func(t *testing.T, path string) {
			f, _ := os.OpenFile(rotated(path, 2), os.O_WRONLY|os.O_APPEND, 0)
			f.WriteString(`{"seq":`)
			f.Close()
		}, false, "activity.log.2", 0, "a line without a newline, and a newer file follows", 0},
		{"the log's file edited at the end", func(t *testing.T, path string) {
			lines := readLines(t, path)
			lines[len(lines)-1] = strings.Replace(lines[len(lines)-1], "alice", "mallory", 1)
			writeLines(t, path, lines)
		}, false, "activity.log", 0, "hash does not match the head file", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeRotated(t, 40, 1024, -1)
			if n := len(rotatedFiles(t, path)); n < 4 {
				t.Fatalf("%d rotated files; want 4 or more", n)
			}
			tt.tamper(t, path)
			res := mustVerify(t, path)
			t.Logf("problems %v, notes %v", res.Problems, res.Notes)
			if res.OK != tt.wantOK || len(res.Notes) != tt.wantNotes {
				t.Fatalf("VerifyFile: OK %v, problems %v, notes %v; want OK %v and %d notes", res.OK, res.Problems, res.Notes, tt.wantOK, tt.wantNotes)
			}
			p := Problem{}
			switch {
			case !tt.wantOK:
				p = res.Problems[0]
			case tt.wantNotes > 0:
				p = res.Notes[0]
			default:
				return
			}
			if p.File != tt.wantFile || tt.wantLine != 0 && p.Line != tt.wantLine || !strings.Contains(p.Message, tt.wantMsg) {
				t.Errorf("VerifyFile: %q; want %s line %d saying %q", p, tt.wantFile, tt.wantLine, tt.wantMsg)
			}
		})
	}
}
