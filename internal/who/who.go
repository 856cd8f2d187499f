// Package who keeps the list of who is connected to a host: every session on every port
// (screen, files, console), with a way to disconnect one. The services add their sessions and
// remove them when they end; host and web show the list and offer the disconnect button.
// Deciding who may see the list or disconnect someone is left to web and host, and recording
// sessions in the activity log to the services and events.
package who

import (
	"cmp"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Session is one connection to the host, as "who is connected" shows it.
type Session struct {
	ID      string    `json:"id"`
	Account string    `json:"account"`
	Remote  string    `json:"remote"`  // the peer's address, ip:port
	Service string    `json:"service"` // control, observe, send, exchange or console
	Since   time.Time `json:"since"`
}

// Registry is the set of current sessions. Its zero value is an empty registry, ready to use
// from several goroutines.
type Registry struct {
	mu       sync.Mutex        // guards the fields below
	last     uint64            // the number in the last ID given out
	sessions map[string]*entry // by ID
	changed  chan struct{}     // closed at the next change; nil until someone asks
}

type entry struct {
	n          uint64 // the ID's number, so "s10" sorts after "s9"
	s          Session
	disconnect func()
}

// Add registers s under a new ID ("s1", "s2", …; s.ID is ignored) and returns the ID and a
// function that removes the session again. Calling remove more than once, or after the
// session was disconnected, does nothing. disconnect is what Disconnect calls to end the
// session; it may be nil. A zero s.Since means now.
func (r *Registry) Add(s Session, disconnect func()) (id string, remove func()) {
	if s.Since.IsZero() {
		s.Since = time.Now()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last++
	s.ID = "s" + strconv.FormatUint(r.last, 10)
	if r.sessions == nil {
		r.sessions = map[string]*entry{}
	}
	r.sessions[s.ID] = &entry{n: r.last, s: s, disconnect: disconnect}
	r.changedLocked()
	id = s.ID
	return id, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.removeLocked(id)
	}
}

// List returns the current sessions, oldest first (by Since, then by ID).
func (r *Registry) List() []Session {
	r.mu.Lock()
	es := make([]*entry, 0, len(r.sessions))
	for _, e := range r.sessions {
		es = append(es, e)
	}
	r.mu.Unlock()
	slices.SortFunc(es, func(a, b *entry) int {
		return cmp.Or(a.s.Since.Compare(b.s.Since), cmp.Compare(a.n, b.n))
	})
	list := make([]Session, len(es))
	for i, e := range es {
		list[i] = e.s
	}
	return list
}

// Disconnect ends the session id: it removes it from the list and calls its disconnect
// function. It reports whether there was such a session.
func (r *Registry) Disconnect(id string) bool {
	r.mu.Lock()
	e := r.removeLocked(id)
	r.mu.Unlock()
	if e == nil {
		return false
	}
	// Outside the lock: ending a connection usually makes its service call remove, which
	// takes the lock again.
	if e.disconnect != nil {
		e.disconnect()
	}
	return true
}

// Changed returns a channel that is closed at the next change of the list. Take it before
// reading the list, so that no change falls between the two.
func (r *Registry) Changed() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.changed == nil {
		r.changed = make(chan struct{})
	}
	return r.changed
}

// removeLocked removes id and returns what it removed, or nil when id is not listed.
func (r *Registry) removeLocked(id string) *entry {
	e, ok := r.sessions[id]
	if !ok {
		return nil
	}
	delete(r.sessions, id)
	r.changedLocked()
	return e
}

// changedLocked wakes everyone waiting on Changed.
func (r *Registry) changedLocked() {
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
}
