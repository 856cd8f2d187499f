package events

import (
	"container/list"
	"errors"
	"maps"
	"slices"
	"time"
)

// Bounds of what one source's aggregate remembers, so that a peer choosing names cannot make it
// grow: names and reasons beyond them are counted, not kept.
const (
	maxAccounts   = 8  // distinct names listed in Accounts
	maxReasons    = 8  // distinct reasons counted in Reasons
	maxNameLength = 64 // bytes of a name or reason that is kept
)

// otherReason counts, in Reasons, the refusals whose reason is not kept.
const otherReason = "other"

// refusals aggregates the refused logins of each source (an address on a service): the first
// refusal from a source is written at once and starts an interval; the refusals after it within
// the interval are counted, and written as one record with Count when the interval ends. A
// source that was refused again within an interval stays aggregated in the next one; one that
// was not is forgotten, so its next refusal is again written at once. Log guards it with rmu.
type refusals struct {
	interval time.Duration // < 0: no aggregation
	max      int           // sources tracked at most
	bySource map[string]*list.Element
	order    list.List // of *pending, by deadline: the next to end first
}

// Login appends the login record r (Kind KindLogin), aggregating refusals. A refusal (an
// Outcome other than OutcomeOK) from a source, r.Remote on r.Service, is written at once when it
// is the first in an interval (Options.RefusalInterval); the ones after it are counted into one
// record with Count, First, Last, Accounts, Reasons and the fields they share, written by Sweep
// once the interval ends, by Close, and before a login from the same source that succeeds, so
// that the log tells the refusals before the success. A source still refused in an interval
// stays aggregated in the next one. Other records go to Append.
func (l *Log) Login(r Record) error {
	if r.Kind == "" {
		r.Kind = KindLogin
	}
	now := l.now()
	if r.Time.IsZero() {
		r.Time = now
	}
	r.Time = r.Time.UTC()
	l.rmu.Lock()
	defer l.rmu.Unlock()
	if l.rclosed {
		return l.Append(r) // says that the log is closed
	}
	if r.Outcome == OutcomeOK {
		var err error
		if agg := l.ref.forget(r); agg != nil {
			err = l.Append(*agg)
		}
		return errors.Join(err, l.Append(r))
	}
	writeNow, evicted := l.ref.add(r, now)
	var err error
	if evicted != nil {
		err = l.Append(*evicted)
	}
	if writeNow {
		err = errors.Join(err, l.Append(r))
	}
	return err
}

// Sweep writes the aggregated refusals whose interval has ended. The host calls it about once
// a second, which is how late an aggregate can be.
func (l *Log) Sweep() error {
	l.rmu.Lock()
	defer l.rmu.Unlock()
	var errs []error
	for _, r := range l.ref.due(l.now()) {
		errs = append(errs, l.Append(r))
	}
	return errors.Join(errs...)
}

// flushRefusals writes every aggregated refusal and makes later ones be written at once: the
// log is closing.
func (l *Log) flushRefusals() error {
	l.rmu.Lock()
	defer l.rmu.Unlock()
	l.rclosed = true
	var errs []error
	for _, r := range l.ref.all() {
		errs = append(errs, l.Append(r))
	}
	return errors.Join(errs...)
}

// pending is what a source's current interval has counted.
type pending struct {
	key      string
	deadline time.Time
	rec      Record // the aggregate so far; Count is how many refusals it holds, not the first one written at once
	mixed    bool   // whether the refusals used more than one method
}

func newRefusals(interval time.Duration, max int) refusals {
	return refusals{interval: interval, max: max, bySource: map[string]*list.Element{}}
}

// sourceKey identifies the source of a login record.
func sourceKey(r Record) string { return r.Remote + "\x00" + r.Service }

// add counts the refusal r, refused at now. It returns whether r must be written at once, being
// the first of an interval, and an aggregate that must be written first when a source had to
// be forgotten to make room.
func (a *refusals) add(r Record, now time.Time) (writeNow bool, evicted *Record) {
	if a.interval < 0 {
		return true, nil
	}
	key := sourceKey(r)
	if e, ok := a.bySource[key]; ok {
		e.Value.(*pending).count1(r)
		return false, nil
	}
	if len(a.bySource) >= a.max {
		// The source tracked longest gives way: its count is written now rather than lost.
		evicted = a.remove(a.order.Front())
	}
	p := &pending{key: key, deadline: now.Add(a.interval)}
	p.reset(r)
	a.bySource[key] = a.order.PushBack(p)
	return true, evicted
}

// forget removes the source of r, returning its aggregate if it counted any refusals: a login
// from that source succeeded, and the aggregate goes before it in the log.
func (a *refusals) forget(r Record) *Record {
	if e, ok := a.bySource[sourceKey(r)]; ok {
		return a.remove(e)
	}
	return nil
}

// due returns the aggregates of the intervals that ended by now, and starts the next interval
// of each source that had any.
func (a *refusals) due(now time.Time) []Record {
	var out []Record
	for e := a.order.Front(); e != nil; e = a.order.Front() {
		p := e.Value.(*pending)
		if p.deadline.After(now) {
			break
		}
		if p.rec.Count == 0 {
			a.remove(e)
			continue
		}
		out = append(out, p.aggregate())
		p.reset(p.rec)
		p.deadline = now.Add(a.interval)
		a.order.MoveToBack(e)
	}
	return out
}

// all returns every aggregate and forgets every source: the log is closing.
func (a *refusals) all() []Record {
	var out []Record
	for e := a.order.Front(); e != nil; e = a.order.Front() {
		if r := a.remove(e); r != nil {
			out = append(out, *r)
		}
	}
	return out
}

// remove forgets the source of e, returning its aggregate if it counted any refusals.
func (a *refusals) remove(e *list.Element) *Record {
	p := a.order.Remove(e).(*pending)
	delete(a.bySource, p.key)
	if p.rec.Count == 0 {
		return nil
	}
	r := p.aggregate()
	return &r
}

// reset starts counting afresh for the source of r, keeping what identifies the source.
func (p *pending) reset(r Record) {
	p.rec, p.mixed = Record{Kind: KindLogin, Outcome: OutcomeFailed, Service: r.Service, Remote: r.Remote}, false
}

// count1 counts the refusal r.
func (p *pending) count1(r Record) {
	a := &p.rec
	a.Count++
	if a.Count == 1 {
		a.First, a.Method = r.Time, r.Method
	} else if a.Method != r.Method {
		p.mixed = true
	}
	a.Last = r.Time
	if p.mixed {
		a.Method = ""
	}

	switch {
	case len(r.Account) > maxNameLength:
		a.OtherAccounts++
	case slices.Contains(a.Accounts, r.Account):
	case len(a.Accounts) < maxAccounts:
		a.Accounts = append(a.Accounts, r.Account)
	default:
		a.OtherAccounts++
	}

	if a.Reasons == nil {
		a.Reasons = map[string]uint64{}
	}
	reason := r.Reason
	if _, ok := a.Reasons[reason]; !ok && (len(reason) > maxNameLength || len(a.Reasons) >= maxReasons) {
		reason = otherReason
	}
	a.Reasons[reason]++
}

// aggregate returns the record of what p counted. Account and Reason are set when every
// refusal had the same; Accounts is kept only when it names more than one.
func (p *pending) aggregate() Record {
	r := p.rec
	r.Account, r.Accounts = "", append([]string(nil), r.Accounts...)
	if len(r.Accounts) == 1 && r.OtherAccounts == 0 {
		r.Account, r.Accounts = r.Accounts[0], nil
	}
	r.Reasons = maps.Clone(r.Reasons)
	for k, n := range r.Reasons {
		if n == r.Count {
			r.Reason = k
		}
	}
	return r
}
