package who

import (
	"slices"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)

func ids(list []Session) []string {
	var out []string
	for _, s := range list {
		out = append(out, s.ID)
	}
	return out
}

func TestList(t *testing.T) {
	tests := []struct {
		name   string
		since  []time.Duration // the Since of each added session, after t0
		remove []int           // indexes of sessions removed again
		want   []string
	}{
		{"empty", nil, nil, nil},
		{"by since", []time.Duration{3, 1, 2}, nil, []string{"s2", "s3", "s1"}},
		{"same since by number", make([]time.Duration, 11), []int{1, 2, 3, 4, 5, 6, 7, 8},
			[]string{"s1", "s10", "s11"}},
		{"removed", []time.Duration{1, 2, 3}, []int{1}, []string{"s1", "s3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Registry
			var removes []func()
			for _, d := range tt.since {
				_, remove := r.Add(Session{ID: "ignored", Since: t0.Add(d)}, nil)
				removes = append(removes, remove)
			}
			for _, i := range tt.remove {
				removes[i]()
			}
			if got := ids(r.List()); !slices.Equal(got, tt.want) {
				t.Errorf("List() = %v; want %v", got, tt.want)
			}
		})
	}
}

func TestAdd(t *testing.T) {
	var r Registry
	before := time.Now()
	id, _ := r.Add(Session{ID: "x", Account: "ann", Remote: "192.0.2.1:5000", Service: "control"}, nil)
	if id != "s1" {
		t.Errorf("Add() id = %q; want s1", id)
	}
	got := r.List()
	if len(got) != 1 {
		t.Fatalf("List() = %v; want one session", got)
	}
	s := got[0]
	if s.ID != "s1" || s.Account != "ann" || s.Remote != "192.0.2.1:5000" || s.Service != "control" || s.Since.Before(before) {
		t.Errorf("List()[0] = %+v; want s1 of ann from 192.0.2.1:5000 on control since now", s)
	}
}

func TestRemoveIsIdempotent(t *testing.T) {
	var r Registry
	_, remove1 := r.Add(Session{Since: t0}, nil)
	r.Add(Session{Since: t0}, nil)
	remove1()
	changed := r.Changed()
	remove1()
	select {
	case <-changed:
		t.Error("a second remove changed the list")
	default:
	}
	if got := ids(r.List()); !slices.Equal(got, []string{"s2"}) {
		t.Errorf("List() = %v; want [s2]", got)
	}
	if id, _ := r.Add(Session{}, nil); id != "s3" {
		t.Errorf("Add() after removes = %q; want s3 (IDs are never reused)", id)
	}
}

func TestDisconnect(t *testing.T) {
	var r Registry
	calls := 0
	var remove func()
	// The disconnect function does what a real service does: it ends the connection, whose
	// handler then removes the session. That must not deadlock.
	id, remove := r.Add(Session{Since: t0}, func() { calls++; remove() })
	changed := r.Changed()
	if !r.Disconnect(id) {
		t.Errorf("Disconnect(%q) = false; want true", id)
	}
	if calls != 1 {
		t.Errorf("disconnect called %d times; want 1", calls)
	}
	select {
	case <-changed:
	default:
		t.Error("Disconnect did not close the Changed channel")
	}
	if got := r.List(); len(got) != 0 {
		t.Errorf("List() after Disconnect = %v; want none", got)
	}
	if r.Disconnect(id) {
		t.Errorf("second Disconnect(%q) = true; want false", id)
	}
	if r.Disconnect("s99") {
		t.Error("Disconnect(s99) = true; want false")
	}
	if calls != 1 {
		t.Errorf("disconnect called %d times; want 1", calls)
	}
	nilID, _ := r.Add(Session{}, nil)
	if !r.Disconnect(nilID) {
		t.Errorf("Disconnect(%q) with a nil func = false; want true", nilID)
	}
}

func TestChanged(t *testing.T) {
	var r Registry
	c1 := r.Changed()
	if c2 := r.Changed(); c1 != c2 {
		t.Error("Changed() gave two channels without a change between")
	}
	select {
	case <-c1:
		t.Fatal("Changed() closed before any change")
	default:
	}
	_, remove := r.Add(Session{}, nil)
	select {
	case <-c1:
	default:
		t.Fatal("Add did not close the Changed channel")
	}
	c3 := r.Changed()
	if c3 == c1 {
		t.Fatal("Changed() after a change gave the closed channel again")
	}
	remove()
	select {
	case <-c3:
	default:
		t.Fatal("remove did not close the Changed channel")
	}
}

func TestConcurrent(t *testing.T) {
	var r Registry
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				changed := r.Changed()
				id, remove := r.Add(Session{}, nil)
				<-changed
				r.List()
				if !r.Disconnect(id) {
					t.Errorf("Disconnect(%q) of a listed session = false", id)
				}
				remove()
			}
		})
	}
	wg.Wait()
	if got := r.List(); len(got) != 0 {
		t.Errorf("List() after all sessions ended = %d sessions; want none", len(got))
	}
	if id, _ := r.Add(Session{}, nil); id != "s801" {
		t.Errorf("Add() after 800 = %q; want s801", id)
	}
}
