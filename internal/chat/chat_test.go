package chat

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
)

// open opens a room on a new transcript file in a temporary folder, closed at the end.
func open(t *testing.T) (*Room, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "chat.jsonl")
	r, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r, path
}

func post(t *testing.T, r *Room, from, text string) Message {
	t.Helper()
	m, err := r.Post(from, text)
	if err != nil {
		t.Fatalf("Post(%q, %q): %v", from, text, err)
	}
	return m
}

func seqs(ms []Message) []uint64 {
	var out []uint64
	for _, m := range ms {
		out = append(out, m.Seq)
	}
	return out
}

func TestPost(t *testing.T) {
	tests := []struct {
		name, text string
		want       string // the text posted, or the error's text
		wantErr    bool
	}{
		{"plain", "hello", "hello", false},
		{"trimmed", " \t\nhello there\r\n ", "hello there", false},
		{"lines and tabs", "a\n\tb", "a\n\tb", false},
		{"unicode", "grüß dich 👋", "grüß dich 👋", false},
		{"longest", strings.Repeat("x", MaxText), strings.Repeat("x", MaxText), false},
		{"empty", "", "bad chat message: it is empty", true},
		{"blank", " \n\t ", "bad chat message: it is empty", true},
		{"too long", strings.Repeat("é", MaxText/2) + "x", "bad chat message: it is longer than 4096 bytes", true},
		{"not utf-8", "a\xffb", "bad chat message: it is not valid UTF-8 text", true},
		{"escape", "a\x1b[2Jb", "bad chat message: it holds the control character U+001B", true},
		{"carriage return", "a\rb", "bad chat message: it holds the control character U+000D", true},
		{"nul", "a\x00b", "bad chat message: it holds the control character U+0000", true},
		{"delete", "a\x7fb", "bad chat message: it holds the control character U+007F", true},
		{"c1", "a\u0085b", "bad chat message: it holds the control character U+0085", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := open(t)
			m, err := r.Post("ann", tt.text)
			if tt.wantErr {
				if !errors.Is(err, ErrBadText) || err.Error() != tt.want {
					t.Errorf("Post(%q) = %v; want %q wrapping ErrBadText", tt.text, err, tt.want)
				}
				if got := r.Messages(); len(got) != 0 {
					t.Errorf("Messages() after a refused Post = %v; want none", got)
				}
				return
			}
			if err != nil || m.Text != tt.want || m.From != "ann" || m.Seq != 1 || m.Time.IsZero() {
				t.Errorf("Post(%q) = %+v, %v; want seq 1 from ann with text %q", tt.text, m, err, tt.want)
			}
		})
	}
}

func TestPostRefusesBadSender(t *testing.T) {
	for _, from := range []string{"", "a\nb", "\x1b[31mroot", strings.Repeat("a", 257), "a\xff"} {
		r, _ := open(t)
		if _, err := r.Post(from, "hi"); err == nil || errors.Is(err, ErrBadText) {
			t.Errorf("Post(%q, hi) = %v; want an error that is not ErrBadText", from, err)
		}
	}
}

func TestTranscriptSurvivesReopen(t *testing.T) {
	r, path := open(t)
	var want []Message
	for i := range Keep + 5 {
		want = append(want, post(t, r, "ann", strings.Repeat("x", i+1)))
	}
	want = want[5:]
	if got := r.Messages(); !sameMessages(got, want) {
		t.Errorf("Messages() = seqs %v; want %v", seqs(got), seqs(want))
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("transcript file mode = %v, %v; want 0600", fi.Mode(), err)
	}
	again, err := Open(path)
	if err != nil {
		t.Fatalf("Open again: %v", err)
	}
	t.Cleanup(func() { again.Close() })
	if got := again.Messages(); !sameMessages(got, want) {
		t.Errorf("Messages() after reopening = seqs %v; want %v", seqs(got), seqs(want))
	}
	if m := post(t, again, "host", "back"); m.Seq != Keep+6 {
		t.Errorf("Post after reopening: seq %d; want %d", m.Seq, Keep+6)
	}
}

// sameMessages compares messages field by field; times are compared as instants, since a time
// read back from the transcript has a fixed zone instead of time.Local.
func sameMessages(a, b []Message) bool {
	return slices.EqualFunc(a, b, func(x, y Message) bool {
		return x.Seq == y.Seq && x.From == y.From && x.Text == y.Text && x.Time.Equal(y.Time)
	})
}

func TestDamagedTranscript(t *testing.T) {
	const (
		one  = `{"seq":1,"from":"ann","text":"hi","time":"2026-11-25T22:41:03Z"}`
		five = `{"seq":5,"from":"host","text":"hello","time":"2026-11-25T22:41:09+01:00"}`
	)
	tests := []struct {
		name, file string
		want       []uint64 // the seqs read back
		next       uint64   // the seq of the next message
	}{
		{"empty", "", nil, 1},
		{"good", one + "\n" + five + "\n", []uint64{1, 5}, 6},
		{"garbage between", one + "\nnot json\n\x00\xff\n" + five + "\n", []uint64{1, 5}, 6},
		{"torn end", one + "\n" + five + "\n" + `{"seq":6,"fr`, []uint64{1, 5}, 6},
		{"torn end after garbage", "junk", nil, 1},
		{"blank lines", "\n\n" + one + "\n\r\n\n", []uint64{1}, 2},
		{"crlf", one + "\r\n" + five + "\r\n", []uint64{1, 5}, 6},
		{"overlong line", one + "\n" + strings.Repeat("x", maxLine+10) + "\n" + five + "\n", []uint64{1, 5}, 6},
		{"overlong torn end", one + "\n" + strings.Repeat("x", maxLine+10), []uint64{1}, 2},
		{"out of order", five + "\n" + one + "\n", []uint64{5, 1}, 6},
		{"no seq", `{"from":"ann","text":"hi","time":"2026-11-25T22:41:03Z"}` + "\n", nil, 1},
		{"no time", `{"seq":3,"from":"ann","text":"hi"}` + "\n", nil, 1},
		{"control in text", `{"seq":3,"from":"ann","text":"\u001b[2J","time":"2026-11-25T22:41:03Z"}` + "\n", nil, 1},
		{"control in sender", `{"seq":3,"from":"a\nb","text":"hi","time":"2026-11-25T22:41:03Z"}` + "\n", nil, 1},
		{"trailing data", one + " {}\n" + five + "\n", []uint64{5}, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "chat.jsonl")
			if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			r, err := Open(path)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer r.Close()
			if got := seqs(r.Messages()); !slices.Equal(got, tt.want) {
				t.Errorf("Messages() = seqs %v; want %v", got, tt.want)
			}
			m := post(t, r, "ann", "after")
			if m.Seq != tt.next {
				t.Errorf("Post: seq %d; want %d", m.Seq, tt.next)
			}
			if err := r.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(b), tt.file) {
				t.Errorf("the transcript lost its old content: %q", b)
			}
			again, err := Open(path)
			if err != nil {
				t.Fatalf("Open again: %v", err)
			}
			defer again.Close()
			if got, want := seqs(again.Messages()), append(slices.Clone(tt.want), tt.next); !slices.Equal(got, want) {
				t.Errorf("Messages() after reopening = seqs %v; want %v", got, want)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "missing", "chat.jsonl")); err == nil {
		t.Error("Open in a missing folder succeeded")
	}
	if _, err := Open(dir); err == nil {
		t.Error("Open of a folder succeeded")
	}
}

func TestSince(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, _ := open(t)
		post(t, r, "ann", "one")
		post(t, r, "bob", "two")
		tests := []struct {
			name  string
			after uint64
			want  []uint64
		}{
			{"all", 0, []uint64{1, 2}},
			{"newer", 1, []uint64{2}},
			{"beyond the latest", 9, []uint64{1, 2}},
		}
		for _, tt := range tests {
			got, err := r.Since(t.Context(), tt.after)
			if err != nil || !slices.Equal(seqs(got), tt.want) {
				t.Errorf("%s: Since(%d) = seqs %v, %v; want %v", tt.name, tt.after, seqs(got), err, tt.want)
			}
		}

		var got []Message
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			got, err = r.Since(t.Context(), 2)
		}()
		synctest.Wait()
		select {
		case <-done:
			t.Fatalf("Since(2) returned %v, %v before a message was posted", got, err)
		default:
		}
		post(t, r, "host", "three")
		<-done
		if err != nil || !slices.Equal(seqs(got), []uint64{3}) || got[0].Text != "three" {
			t.Errorf("Since(2) = %+v, %v; want message 3", got, err)
		}
	})
}

func TestSinceEnds(t *testing.T) {
	tests := []struct {
		name    string
		end     func(r *Room, cancel func())
		wantErr error
	}{
		{"context", func(r *Room, cancel func()) { cancel() }, context.Canceled},
		{"close", func(r *Room, cancel func()) { r.Close() }, ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r, _ := open(t)
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				var err error
				done := make(chan struct{})
				go func() {
					defer close(done)
					_, err = r.Since(ctx, 0)
				}()
				synctest.Wait()
				tt.end(r, cancel)
				<-done
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("Since after %s = %v; want %v", tt.name, err, tt.wantErr)
				}
			})
		})
	}
}

func TestClosed(t *testing.T) {
	r, _ := open(t)
	post(t, r, "ann", "hi")
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close = %v; want nil", err)
	}
	if _, err := r.Post("ann", "hi"); !errors.Is(err, ErrClosed) {
		t.Errorf("Post after Close = %v; want ErrClosed", err)
	}
	if _, err := r.Since(t.Context(), 0); !errors.Is(err, ErrClosed) {
		t.Errorf("Since after Close = %v; want ErrClosed", err)
	}
	if got := seqs(r.Messages()); !slices.Equal(got, []uint64{1}) {
		t.Errorf("Messages() after Close = %v; want [1]", got)
	}
}

func TestConcurrentPosts(t *testing.T) {
	r, path := open(t)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for range 50 {
				if _, err := r.Post("ann", "x"+strings.Repeat("y", g)); err != nil {
					t.Errorf("Post: %v", err)
				}
				r.Messages()
			}
		})
	}
	wg.Wait()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := readTranscript(f, 0)
	if err != nil || tr.skipped != 0 || len(tr.recent) != 200 {
		t.Fatalf("readTranscript = %d messages, %d skipped, %v; want 200 and none skipped", len(tr.recent), tr.skipped, err)
	}
	for i, m := range tr.recent {
		if m.Seq != uint64(i+1) {
			t.Fatalf("line %d has seq %d; want the file in seq order", i+1, m.Seq)
		}
	}
}

// BenchmarkPost measures posting a message of a typical length, transcript write included.
func BenchmarkPost(b *testing.B) {
	r, err := Open(filepath.Join(b.TempDir(), "chat.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	text := "can you open the report on the desktop and send it to me?"
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := r.Post("ann", text); err != nil {
			b.Fatal(err)
		}
	}
}
