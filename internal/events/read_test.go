package events

import (
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReadFilter(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "activity.jsonl")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range []Record{
		{Kind: KindLogin, Account: "alice", Service: "send"},
		{Kind: KindFile, Account: "alice", Service: "send"},
		{Kind: KindLogin, Account: "bob", Service: "exchange"},
		{Kind: KindFile, Account: "bob", Service: "exchange"},
		{Kind: KindLogin, Account: "alice", Service: "exchange"},
	} {
		r.Time = t0.Add(time.Duration(i) * time.Hour)
		if err := l.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()

	tests := []struct {
		name string
		f    Filter
		want []uint64 // seqs
	}{
		{"all", Filter{}, []uint64{1, 2, 3, 4, 5}},
		{"account", Filter{Account: "alice"}, []uint64{1, 2, 5}},
		{"service", Filter{Service: "exchange"}, []uint64{3, 4, 5}},
		{"kind", Filter{Kind: KindFile}, []uint64{2, 4}},
		{"account and kind", Filter{Account: "bob", Kind: KindLogin}, []uint64{3}},
		{"since is inclusive", Filter{Since: t0.Add(3 * time.Hour)}, []uint64{4, 5}},
		{"until is exclusive", Filter{Until: t0.Add(2 * time.Hour)}, []uint64{1, 2}},
		{"window in another zone", Filter{Since: t0.Add(time.Hour).In(time.FixedZone("X", -5*3600)), Until: t0.Add(3 * time.Hour)}, []uint64{2, 3}},
		{"nobody", Filter{Account: "carol"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []uint64
			for _, r := range readAll(t, path) {
				if tt.f.Match(r) {
					got = append(got, r.Seq)
				}
			}
			var streamed []uint64
			err := Read(strings.NewReader(readFile(t, path)), tt.f, func(r Record) error {
				streamed = append(streamed, r.Seq)
				return nil
			})
			if err != nil || !slices.Equal(streamed, tt.want) || !slices.Equal(got, tt.want) {
				t.Errorf("Read(%+v) = %v, %v (Match: %v); want %v", tt.f, streamed, err, got, tt.want)
			}
		})
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	return strings.Join(readLines(t, path), "\n") + "\n"
}

func TestReadDamage(t *testing.T) {
	good := readFile(t, writeLog(t, 3))
	lines := strings.SplitAfter(good, "\n")
	tests := []struct {
		name    string
		in      string
		want    int // records delivered
		wantErr error
	}{
		{"whole", good, 3, nil},
		{"empty", "", 0, nil},
		{"final line being written", good + `{"seq":4,"ti`, 3, nil},
		{"damaged middle line", lines[0] + "{\n" + lines[1] + lines[2], 3, ErrDamaged},
		{"line too long", lines[0] + strings.Repeat("x", MaxLine+1) + "\n" + lines[1], 2, ErrDamaged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			err := Read(strings.NewReader(tt.in), Filter{}, func(Record) error { n++; return nil })
			if n != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("Read = %d records, %v; want %d, %v", n, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestReadStopsAtCallbackError(t *testing.T) {
	stop := errors.New("enough")
	n := 0
	err := Read(strings.NewReader(readFile(t, writeLog(t, 5))), Filter{}, func(Record) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Errorf("Read = %v after %d records; want the callback's error after 2", err, n)
	}
}

func TestLineReader(t *testing.T) {
	long := strings.Repeat("y", MaxLine)
	tests := []struct {
		name string
		in   string
		want []line // text as string in want.text
	}{
		{"empty", "", nil},
		{"lines", "a\n\nb\n", []line{{text: []byte("a"), n: 1, complete: true}, {text: []byte{}, n: 2, complete: true}, {text: []byte("b"), n: 3, complete: true}}},
		{"unterminated", "a\nb", []line{{text: []byte("a"), n: 1, complete: true}, {text: []byte("b"), n: 2}}},
		{"longest", long + "\n", []line{{text: []byte(long), n: 1, complete: true}}},
		{"too long", long + "yy\nc\n", []line{{n: 1, complete: true, tooLong: true}, {text: []byte("c"), n: 2, complete: true}}},
		{"too long at the end", long + "yy", []line{{n: 1, tooLong: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr := newLineReader(strings.NewReader(tt.in))
			var got []line
			for {
				l, err := lr.next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				l.text = slices.Clone(l.text)
				got = append(got, l)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("lines: got %d, want %d", len(got), len(tt.want))
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				if string(g.text) != string(w.text) || (g.text == nil) != (w.text == nil) || g.n != w.n || g.complete != w.complete || g.tooLong != w.tooLong {
					t.Errorf("line %d: got %.20q %+v; want %.20q %+v", i, g.text, g, w.text, w)
				}
			}
		})
	}
}
