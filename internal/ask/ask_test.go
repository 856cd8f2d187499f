package ask

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// result is what Ask returned.
type result struct {
	ok  bool
	err error
}

// ask calls q.Ask on a new goroutine and returns where its result arrives, once the request
// is waiting.
func ask(ctx context.Context, q *Queue, r Request) <-chan result {
	done := make(chan result, 1)
	go func() {
		ok, err := q.Ask(ctx, r)
		done <- result{ok, err}
	}()
	synctest.Wait()
	return done
}

func pendingIDs(q *Queue) []string {
	var ids []string
	for _, r := range q.Pending() {
		ids = append(ids, r.ID)
	}
	return ids
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name    string
		approve bool
	}{
		{"approved", true},
		{"denied", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var heard []Request
				q := &Queue{OnAsk: func(r Request) { heard = append(heard, r) }}
				in := Request{ID: "ignored", Account: "ann", Privilege: "control", Remote: "192.0.2.1:5000", Service: "control"}
				done := ask(t.Context(), q, in)
				want := in
				want.ID, want.Time = "a1", time.Now()
				if got := q.Pending(); len(got) != 1 || got[0] != want {
					t.Fatalf("Pending() = %+v; want [%+v]", got, want)
				}
				if len(heard) != 1 || heard[0] != want {
					t.Errorf("OnAsk heard %+v; want [%+v]", heard, want)
				}
				select {
				case r := <-done:
					t.Fatalf("Ask returned %+v before an answer", r)
				default:
				}
				if err := q.Decide("a1", tt.approve); err != nil {
					t.Fatalf("Decide(a1, %v) = %v", tt.approve, err)
				}
				if r := <-done; r.ok != tt.approve || r.err != nil {
					t.Errorf("Ask() = %v, %v; want %v, nil", r.ok, r.err, tt.approve)
				}
				if got := q.Pending(); len(got) != 0 {
					t.Errorf("Pending() after the answer = %+v; want none", got)
				}
				if err := q.Decide("a1", true); !errors.Is(err, ErrUnknown) {
					t.Errorf("second Decide(a1) = %v; want ErrUnknown", err)
				}
			})
		})
	}
}

func TestTimeout(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		want    time.Duration
	}{
		{"default", 0, 60 * time.Second},
		{"negative", -time.Second, 60 * time.Second},
		{"set", 5 * time.Second, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				q := &Queue{Timeout: tt.timeout}
				start := time.Now()
				done := ask(t.Context(), q, Request{Account: "ann", Privilege: "send"})
				changed := q.Changed()
				time.Sleep(tt.want - time.Nanosecond)
				synctest.Wait()
				select {
				case r := <-done:
					t.Fatalf("Ask returned %+v after %v; want it to wait %v", r, time.Since(start), tt.want)
				default:
				}
				r := <-done
				if r.ok || !errors.Is(r.err, ErrNoAnswer) || time.Since(start) != tt.want {
					t.Errorf("Ask() = %v, %v after %v; want false, ErrNoAnswer after %v", r.ok, r.err, time.Since(start), tt.want)
				}
				select {
				case <-changed:
				default:
					t.Error("the timeout did not close the Changed channel")
				}
				if got := q.Pending(); len(got) != 0 {
					t.Errorf("Pending() after the timeout = %+v; want none", got)
				}
				if err := q.Decide("a1", true); !errors.Is(err, ErrUnknown) {
					t.Errorf("Decide(a1) after the timeout = %v; want ErrUnknown", err)
				}
			})
		})
	}
}

func TestContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var q Queue
		ctx, cancel := context.WithCancel(t.Context())
		done := ask(ctx, &q, Request{Account: "ann"})
		other := ask(t.Context(), &q, Request{Account: "bob"})
		cancel()
		if r := <-done; r.ok || !errors.Is(r.err, context.Canceled) {
			t.Errorf("Ask() after cancel = %v, %v; want false, context.Canceled", r.ok, r.err)
		}
		if got := pendingIDs(&q); !slices.Equal(got, []string{"a2"}) {
			t.Errorf("Pending() = %v; want [a2]", got)
		}
		if err := q.Decide("a2", true); err != nil {
			t.Fatalf("Decide(a2) = %v", err)
		}
		if r := <-other; !r.ok || r.err != nil {
			t.Errorf("the other Ask() = %v, %v; want true, nil", r.ok, r.err)
		}
	})
}

func TestPendingOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var q Queue
		// Eleven at the same instant sort by number ("a10" after "a9"), a later one by time.
		for range 11 {
			ask(t.Context(), &q, Request{})
		}
		want := []string{"a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10", "a11"}
		time.Sleep(time.Second)
		ask(t.Context(), &q, Request{})
		want = append(want, "a12")
		if got := pendingIDs(&q); !slices.Equal(got, want) {
			t.Errorf("Pending() = %v; want %v", got, want)
		}
		for _, id := range want {
			q.Decide(id, false)
		}
	})
}

func TestChanged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var q Queue
		c1 := q.Changed()
		if q.Changed() != c1 {
			t.Error("Changed() gave two channels without a change between")
		}
		ask(t.Context(), &q, Request{})
		select {
		case <-c1:
		default:
			t.Fatal("Ask did not close the Changed channel")
		}
		c2 := q.Changed()
		if err := q.Decide("a9", true); !errors.Is(err, ErrUnknown) {
			t.Errorf("Decide(a9) = %v; want ErrUnknown", err)
		}
		select {
		case <-c2:
			t.Fatal("a Decide of an unknown request closed the Changed channel")
		default:
		}
		q.Decide("a1", true)
		select {
		case <-c2:
		default:
			t.Fatal("Decide did not close the Changed channel")
		}
	})
}

func TestConcurrent(t *testing.T) {
	q := &Queue{Timeout: time.Hour}
	var approved sync.WaitGroup
	for range 20 {
		approved.Go(func() {
			ok, err := q.Ask(t.Context(), Request{Account: "ann"})
			if !ok || err != nil {
				t.Errorf("Ask() = %v, %v; want true, nil", ok, err)
			}
		})
	}
	for decided := 0; decided < 20; {
		changed := q.Changed()
		for _, r := range q.Pending() {
			if q.Decide(r.ID, true) == nil {
				decided++
			}
		}
		if decided < 20 {
			<-changed
		}
	}
	approved.Wait()
}
