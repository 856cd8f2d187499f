// Package ask owns ask-for-permission: when an account's privilege is set to "ask", the
// request that needs it waits in a Queue until the person at the host approves or denies it,
// and no answer in time means no. Deciding when to ask (the privilege checks) is left to the
// services and host; showing the pending requests and taking the answer (console, `buktu
// approve`) to web and cli; recording the decision in the activity log to the caller.
package ask

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"time"
)

// DefaultTimeout is how long a request waits for an answer when Queue.Timeout is zero.
const DefaultTimeout = 60 * time.Second

// Errors of Ask and Decide. Their text is meant for the person on the other side.
var (
	// ErrNoAnswer is returned by Ask when the time to answer ran out.
	ErrNoAnswer = errors.New("no answer from the person at the host")
	// ErrUnknown is returned by Decide for a request that is not waiting (any more).
	ErrUnknown = errors.New("no such request waiting for an answer")
)

// Request is a request waiting for the person at the host to allow a privilege.
type Request struct {
	ID        string    `json:"id"`        // "a1", "a2", …, given by Ask
	Account   string    `json:"account"`   // who asks
	Privilege string    `json:"privilege"` // what they need, such as "control" or "exchange:write"
	Remote    string    `json:"remote"`    // from where, ip:port
	Service   string    `json:"service"`   // through which service: control, observe, send, exchange or console
	Time      time.Time `json:"time"`      // when Ask was called
}

// Queue holds the requests waiting for an answer. Its zero value is an empty queue with the
// default timeout; it is safe for concurrent use once in use (set its fields before).
type Queue struct {
	// Timeout is how long a request waits for an answer; zero or less means DefaultTimeout.
	Timeout time.Duration
	// OnAsk, when set, hears of every request as it starts waiting, so the host can show a
	// notice or log it. It is called on the asking goroutine and should return quickly.
	OnAsk func(Request)

	mu      sync.Mutex         // guards the fields below
	last    uint64             // the number in the last ID given out
	pending map[string]*waiter // by ID
	changed chan struct{}      // closed at the next change; nil until someone asks
}

type waiter struct {
	n      uint64 // the ID's number, so "a10" sorts after "a9"
	r      Request
	answer chan bool // buffered: Decide never blocks on it
}

// Ask adds r to the queue (with a new ID and the time now; r's own are ignored) and waits for
// the answer. It returns true once approved, false once denied; false and ErrNoAnswer when
// Timeout passes without an answer; false and ctx.Err() when ctx ends first. Either way the
// request has left the queue when Ask returns.
func (q *Queue) Ask(ctx context.Context, r Request) (bool, error) {
	w := q.add(r)
	if q.OnAsk != nil {
		q.OnAsk(w.r)
	}
	timeout := q.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var err error
	select {
	case ok := <-w.answer:
		return ok, nil
	case <-timer.C:
		err = ErrNoAnswer
	case <-ctx.Done():
		err = ctx.Err()
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.removeLocked(w.r.ID) == nil {
		// Decide took it in the meantime: its answer is on the way, and the person at the
		// host saw it accepted, so it counts.
		return <-w.answer, nil
	}
	return false, err
}

// add queues a copy of r under a new ID.
func (q *Queue) add(r Request) *waiter {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.last++
	r.ID = "a" + strconv.FormatUint(q.last, 10)
	r.Time = time.Now().Round(0)
	w := &waiter{n: q.last, r: r, answer: make(chan bool, 1)}
	if q.pending == nil {
		q.pending = map[string]*waiter{}
	}
	q.pending[r.ID] = w
	q.changedLocked()
	return w
}

// Pending returns the requests waiting for an answer, oldest first.
func (q *Queue) Pending() []Request {
	q.mu.Lock()
	ws := make([]*waiter, 0, len(q.pending))
	for _, w := range q.pending {
		ws = append(ws, w)
	}
	q.mu.Unlock()
	slices.SortFunc(ws, func(a, b *waiter) int {
		return cmp.Or(a.r.Time.Compare(b.r.Time), cmp.Compare(a.n, b.n))
	})
	rs := make([]Request, len(ws))
	for i, w := range ws {
		rs[i] = w.r
	}
	return rs
}

// Decide answers the request id: approve or deny. It returns ErrUnknown when no such request
// is waiting, because it was answered, timed out or given up, or never existed.
func (q *Queue) Decide(id string, approve bool) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	w := q.removeLocked(id)
	if w == nil {
		return ErrUnknown
	}
	w.answer <- approve
	return nil
}

// Changed returns a channel that is closed at the next change of the queue. Take it before
// reading Pending, so that no change falls between the two.
func (q *Queue) Changed() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.changed == nil {
		q.changed = make(chan struct{})
	}
	return q.changed
}

// removeLocked takes id out of the queue and returns it, or nil when it is not waiting.
func (q *Queue) removeLocked(id string) *waiter {
	w, ok := q.pending[id]
	if !ok {
		return nil
	}
	delete(q.pending, id)
	q.changedLocked()
	return w
}

// changedLocked wakes everyone waiting on Changed.
func (q *Queue) changedLocked() {
	if q.changed != nil {
		close(q.changed)
		q.changed = nil
	}
}
