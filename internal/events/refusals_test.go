package events

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// openTest opens a log in a new folder with o, on the clock c.
func openTest(t *testing.T, c *fakeClock, o Options) (*Log, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "activity.log")
	o.Now = c.now
	l, err := OpenWith(path, o)
	if err != nil {
		t.Fatalf("OpenWith: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l, path
}

// refused returns a refused login from address on send.
func refused(address, account, reason string) Record {
	return Record{Kind: KindLogin, Outcome: OutcomeFailed, Service: "send", Remote: address, Account: account,
		Method: "password", Reason: reason}
}

// mustLogin records r with Login.
func mustLogin(t *testing.T, l *Log, r Record) {
	t.Helper()
	if err := l.Login(r); err != nil {
		t.Fatalf("Login(%+v): %v", r, err)
	}
}

// describe returns the records as "address count" items: "a 1" is a single refusal written at
// once, "a 5" an aggregate of five, "a ok" a success.
func describe(recs []Record) string {
	var s []string
	for _, r := range recs {
		switch {
		case r.Outcome == OutcomeOK:
			s = append(s, r.Remote+" ok")
		default:
			s = append(s, fmt.Sprintf("%s %d", r.Remote, r.Events()))
		}
	}
	return strings.Join(s, ", ")
}

func TestLoginAggregatesBySource(t *testing.T) {
	c := &fakeClock{time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)}
	l, path := openTest(t, c, Options{RefusalInterval: time.Minute})
	start := c.t
	at := func(d time.Duration) { c.t = start.Add(d) }
	steps := []struct {
		name string
		at   time.Duration
		do   func()
		want string // every record written so far
	}{
		{"first refusal is written at once", 0, func() { mustLogin(t, l, refused("a", "root", "no such account")) }, "a 1"},
		{"repeats are counted", time.Second, func() {
			for i := range 5 {
				at(time.Duration(i+1) * time.Second)
				mustLogin(t, l, refused("a", "root", "throttled"))
			}
		}, "a 1"},
		{"another source is written at once", 10 * time.Second, func() { mustLogin(t, l, refused("b", "admin", "bad password")) }, "a 1, b 1"},
		{"nothing is due within the interval", 59 * time.Second, func() { l.Sweep() }, "a 1, b 1"},
		{"the interval ends", time.Minute, func() { l.Sweep() }, "a 1, b 1, a 5"},
		{"b had no repeats and is forgotten", 71 * time.Second, func() { l.Sweep() }, "a 1, b 1, a 5"},
		{"a source refused again stays aggregated", 90 * time.Second, func() { mustLogin(t, l, refused("a", "root", "throttled")) }, "a 1, b 1, a 5"},
		{"b again is written at once", 91 * time.Second, func() { mustLogin(t, l, refused("b", "admin", "bad password")) }, "a 1, b 1, a 5, b 1"},
		{"a's second interval ends", 2 * time.Minute, func() { l.Sweep() }, "a 1, b 1, a 5, b 1, a 1"},
		{"a is forgotten after a quiet interval", 3 * time.Minute, func() { l.Sweep() }, "a 1, b 1, a 5, b 1, a 1"},
		{"a again is written at once", 4 * time.Minute, func() { mustLogin(t, l, refused("a", "root", "throttled")) }, "a 1, b 1, a 5, b 1, a 1, a 1"},
	}
	for _, s := range steps {
		at(s.at)
		s.do()
		if got := describe(readAll(t, path)); got != s.want {
			t.Fatalf("%s: the log holds %q; want %q", s.name, got, s.want)
		}
	}
	agg := readAll(t, path)[2]
	want := Record{Kind: KindLogin, Outcome: OutcomeFailed, Account: "root", Service: "send", Remote: "a", Method: "password",
		Reason: "throttled", Count: 5, First: start.Add(time.Second), Last: start.Add(5 * time.Second),
		Reasons: map[string]uint64{"throttled": 5}}
	want.Seq, want.Time, want.Prev = agg.Seq, start.Add(time.Minute), agg.Prev
	if got, w := string(encode(t, agg)), string(encode(t, want)); got != w {
		t.Errorf("the aggregate of a is\n%s\nwant\n%s", got, w)
	}
	if res := mustVerify(t, path); !res.OK {
		t.Errorf("VerifyFile: %v", res.Problems)
	}
}

func TestLoginSuccessWritesTheRefusalsBeforeIt(t *testing.T) {
	c := &fakeClock{time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)}
	l, path := openTest(t, c, Options{})
	for range 4 {
		mustLogin(t, l, refused("a", "alice", "bad password"))
	}
	mustLogin(t, l, refused("b", "alice", "bad password"))
	mustLogin(t, l, refused("b", "alice", "bad password"))
	ok := refused("a", "alice", "")
	ok.Outcome = OutcomeOK
	mustLogin(t, l, ok)
	mustLogin(t, l, refused("a", "alice", "bad password"))
	if got, want := describe(readAll(t, path)), "a 1, b 1, a 3, a ok, a 1"; got != want {
		t.Errorf("the log holds %q; want %q", got, want)
	}
}

func TestCloseWritesCountedRefusals(t *testing.T) {
	c := &fakeClock{time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)}
	l, path := openTest(t, c, Options{})
	for range 3 {
		mustLogin(t, l, refused("a", "root", "throttled"))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := describe(readAll(t, path)), "a 1, a 2"; got != want {
		t.Errorf("after Close the log holds %q; want %q", got, want)
	}
	if err := l.Login(refused("a", "root", "throttled")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Login after Close = %v; want os.ErrClosed", err)
	}
}

func TestLoginBoundsSources(t *testing.T) {
	c := &fakeClock{time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)}
	l, path := openTest(t, c, Options{MaxSources: 2})
	for _, a := range []string{"a", "a", "b", "b", "b"} {
		c.t = c.t.Add(time.Second)
		mustLogin(t, l, refused(a, "root", "throttled"))
	}
	mustLogin(t, l, refused("c", "root", "throttled"))
	if got, want := describe(readAll(t, path)), "a 1, b 1, a 1, c 1"; got != want {
		t.Errorf("a third source: the log holds %q; want %q (the oldest source written to make room)", got, want)
	}
	if n := len(l.ref.bySource); n != 2 {
		t.Errorf("%d sources tracked; want 2", n)
	}
}

func TestLoginBoundsNamesAndReasons(t *testing.T) {
	c := &fakeClock{time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)}
	l, path := openTest(t, c, Options{})
	const n = 40
	mustLogin(t, l, refused("a", "first", "bad password"))
	for i := range n {
		name := fmt.Sprintf("user%d", i)
		if i%7 == 0 {
			name = strings.Repeat("x", maxNameLength+1)
		}
		mustLogin(t, l, refused("a", name, fmt.Sprintf("reason %d", i%12)))
	}
	l.Close()
	recs := readAll(t, path)
	if len(recs) != 2 {
		t.Fatalf("the log holds %d records; want 2", len(recs))
	}
	agg := recs[1]
	var reasons uint64
	for _, k := range agg.Reasons {
		reasons += k
	}
	switch {
	case agg.Count != n || reasons != n:
		t.Errorf("count %d, reasons adding up to %d; want %d", agg.Count, reasons, n)
	case len(agg.Accounts) != maxAccounts || agg.OtherAccounts != n-maxAccounts:
		t.Errorf("accounts %q and %d others; want %d listed, %d others", agg.Accounts, agg.OtherAccounts, maxAccounts, n-maxAccounts)
	case len(agg.Reasons) != maxReasons+1 || agg.Reasons[otherReason] == 0:
		t.Errorf("reasons %v; want %d and %q", agg.Reasons, maxReasons, otherReason)
	case agg.Account != "" || agg.Reason != "":
		t.Errorf("account %q, reason %q; want none, as the refusals differ", agg.Account, agg.Reason)
	}
	if got := (Filter{Account: "user3"}).Match(agg); !got {
		t.Errorf("Filter{Account: user3}.Match(%+v) = false; want true: it is in Accounts", agg)
	}
}

func TestLoginWithoutAggregation(t *testing.T) {
	c := &fakeClock{time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)}
	l, path := openTest(t, c, Options{RefusalInterval: -1})
	for range 3 {
		mustLogin(t, l, refused("a", "root", "throttled"))
	}
	if got, want := describe(readAll(t, path)), "a 1, a 1, a 1"; got != want {
		t.Errorf("the log holds %q; want %q", got, want)
	}
}

func TestFilterMatchesTheSpanOfACount(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)
	agg := Record{Kind: KindLogin, Time: t0.Add(time.Minute), Count: 3, First: t0, Last: t0.Add(50 * time.Second)}
	tests := []struct {
		name string
		f    Filter
		want bool
	}{
		{"until after the first", Filter{Until: t0.Add(time.Second)}, true},
		{"until at the first", Filter{Until: t0}, false},
		{"since before it was written", Filter{Since: t0.Add(59 * time.Second)}, true},
		{"since after it was written", Filter{Since: t0.Add(61 * time.Second)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.Match(agg); got != tt.want {
				t.Errorf("%+v.Match(aggregate) = %v; want %v", tt.f, got, tt.want)
			}
		})
	}
}

// TestLoginConcurrentCountsAddUp refuses logins from several goroutines and sources while
// intervals end and the file rotates: once the log is closed, the counts add up.
func TestLoginConcurrentCountsAddUp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "activity.log")
	l, err := OpenWith(path, Options{RefusalInterval: time.Millisecond, MaxSources: 3, MaxSize: 4096, Keep: -1})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 300
	stop := make(chan struct{})
	var sweeper, wg sync.WaitGroup
	sweeper.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				if err := l.Sweep(); err != nil {
					t.Errorf("Sweep: %v", err)
					return
				}
			}
		}
	})
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := l.Login(refused(fmt.Sprintf("10.0.0.%d", (w+i)%5), "root", "throttled")); err != nil {
					t.Errorf("Login: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	sweeper.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	var n uint64
	recs := readChain(t, path)
	for _, r := range recs {
		if r.Kind == KindLogin {
			n += r.Events()
		}
	}
	if n != writers*each {
		t.Errorf("the log's login records stand for %d refusals; want %d", n, writers*each)
	}
	if res := mustVerify(t, path); !res.OK {
		t.Errorf("VerifyFile: %v", res.Problems)
	}
	t.Logf("%d refusals in %d records", n, len(recs))
}
