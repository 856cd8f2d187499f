package web

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/buktu/buktu/internal/ask"
	"github.com/buktu/buktu/internal/auth"
)

// event is one item of GET /api/v1/events. Each type uses some of the fields.
type event struct {
	Seq       uint64     `json:"seq"`
	Type      string     `json:"type"`           // chat, approval, approval_done, notify, sessions
	From      string     `json:"from,omitempty"` // chat
	Text      string     `json:"text,omitempty"` // chat, notify
	ID        string     `json:"id,omitempty"`   // approval, approval_done
	Account   string     `json:"account,omitempty"`
	Privilege string     `json:"privilege,omitempty"`
	Remote    string     `json:"remote,omitempty"`
	Service   string     `json:"service,omitempty"`
	Approved  *bool      `json:"approved,omitempty"` // approval_done, when answered through this port
	Time      *time.Time `json:"time,omitempty"`     // chat, approval

	to *session // notify: the only session that sees it
}

// feedKeep is how many events the feed holds for polls that come late.
const feedKeep = 1024

// feed numbers what happens for the consoles of one port. It is filled lazily: each poll
// first turns what changed in the chat room, who's list and the ask queue since the last
// poll into events, so nothing runs while nobody polls. Polls wait on those sources, so a
// console that keeps polling hears of each change; a request asked and answered while
// nobody polled leaves no events, which is fine: nobody saw it come.
type feed struct {
	mu      sync.Mutex             // guards the fields below
	events  []event                // the newest feedKeep events, oldest first
	seq     uint64                 // of the newest event
	wake    chan struct{}          // closed at the next event; nil until someone waits
	started bool                   // the sources below have been read once
	chat    uint64                 // Seq of the newest chat message seen
	who     <-chan struct{}        // who's Changed as of the last sync
	ask     <-chan struct{}        // the ask queue's Changed as of the last sync
	pending map[string]ask.Request // the ask queue as of the last sync and the answers since
}

// addLocked appends e with the next seq and wakes the polls.
func (f *feed) addLocked(e event) {
	f.seq++
	e.Seq = f.seq
	f.events = append(f.events, e)
	if len(f.events) > feedKeep {
		f.events = slices.Delete(f.events, 0, len(f.events)-feedKeep)
	}
	if f.wake != nil {
		close(f.wake)
		f.wake = nil
	}
}

func (f *feed) add(e event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addLocked(e)
}

// sync turns what changed in the sources into events now.
func (f *feed) sync(s *Server) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.syncLocked(s)
}

// decide tells the consoles that approval id was answered through this port, with the
// answer; the sync that later finds it gone from the queue then has nothing to add.
func (f *feed) decide(id string, approve bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.pending[id]; ok {
		delete(f.pending, id)
		f.addLocked(event{Type: "approval_done", ID: id, Approved: &approve})
	}
}

// syncLocked turns what changed in the sources since the last sync into events. The first
// sync only notes where they stand: a console fetches their state itself.
func (f *feed) syncLocked(s *Server) {
	if !f.started {
		f.started = true
		if s.Chat != nil {
			if msgs := s.Chat.Messages(); len(msgs) > 0 {
				f.chat = msgs[len(msgs)-1].Seq
			}
		}
		if s.Who != nil {
			f.who = s.Who.Changed()
		}
		if s.Ask != nil {
			f.ask = s.Ask.Changed()
			f.pending = byID(s.Ask.Pending())
		}
		return
	}
	if s.Chat != nil {
		for _, m := range s.Chat.Messages() {
			if m.Seq > f.chat {
				f.addLocked(event{Type: "chat", From: m.From, Text: m.Text, Time: &m.Time})
				f.chat = m.Seq
			}
		}
	}
	if s.Who != nil && closed(f.who) {
		f.who = s.Who.Changed()
		f.addLocked(event{Type: "sessions"})
	}
	if s.Ask != nil && closed(f.ask) {
		f.ask = s.Ask.Changed()
		list := s.Ask.Pending()
		now := byID(list)
		for _, r := range list {
			if _, ok := f.pending[r.ID]; !ok {
				f.addLocked(event{Type: "approval", ID: r.ID, Account: r.Account, Privilege: r.Privilege,
					Remote: r.Remote, Service: r.Service, Time: &r.Time})
			}
		}
		var gone []string
		for id := range f.pending {
			if _, ok := now[id]; !ok {
				gone = append(gone, id)
			}
		}
		slices.Sort(gone)
		for _, id := range gone {
			// Answered elsewhere (`buktu approve`, another port) or not in time: the
			// answer is not known here.
			f.addLocked(event{Type: "approval_done", ID: id})
		}
		f.pending = now
	}
}

func byID(list []ask.Request) map[string]ask.Request {
	m := make(map[string]ask.Request, len(list))
	for _, r := range list {
		m[r.ID] = r
	}
	return m
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// sources are what a poll waits on for something new.
type sources struct {
	feed, who, ask <-chan struct{}
	chat           uint64
}

// since syncs the feed and returns the events from seq after on, the cursor for the next
// poll, and what to wait on. With after 0, or after beyond the end, it returns no events
// and no sources: the poll answers at once with the cursor of now.
func (f *feed) since(s *Server, after uint64) ([]event, uint64, *sources) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.syncLocked(s)
	next := f.seq + 1
	if after == 0 || after > next {
		return nil, next, nil
	}
	i, _ := slices.BinarySearchFunc(f.events, after, func(e event, seq uint64) int {
		return cmp.Compare(e.Seq, seq)
	})
	out := slices.Clone(f.events[i:])
	if f.wake == nil {
		f.wake = make(chan struct{})
	}
	return out, next, &sources{feed: f.wake, who: f.who, ask: f.ask, chat: f.chat}
}

// visible says whether c may see e.
func (s *Server) visible(c caller, e event) bool {
	switch e.Type {
	case "chat":
		return s.has(c, auth.PrivChat)
	case "approval", "approval_done":
		return s.has(c, auth.PrivAdmin)
	case "notify":
		return e.to == c.session
	}
	return true
}

// wait waits until one of src may have something new, or ctx ends (false).
func (s *Server) wait(ctx context.Context, src *sources) bool {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	chat := make(chan struct{})
	if s.Chat != nil {
		wg.Go(func() {
			if _, err := s.Chat.Since(ctx, src.chat); err == nil {
				close(chat)
			}
		})
	}
	select {
	case <-src.feed:
	case <-src.who:
	case <-src.ask:
	case <-chat:
	case <-ctx.Done():
		return false
	}
	return true
}

type eventsReply struct {
	Events []event `json:"events"`
	Next   uint64  `json:"next"`
}

// events is the long poll: it answers as soon as c may see an event from after on, or after
// the poll's wait with none.
func (s *Server) events(w http.ResponseWriter, r *http.Request, c caller) {
	after, err := parseCount(r.URL.Query().Get("after"), 0, 1<<62)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), pollWait)
	defer cancel()
	for {
		all, next, src := s.feed.since(s, after)
		seen := []event{}
		for _, e := range all {
			if s.visible(c, e) {
				seen = append(seen, e)
			}
		}
		if len(seen) > 0 || src == nil || !s.wait(ctx, src) {
			writeJSON(w, http.StatusOK, eventsReply{Events: seen, Next: next})
			return
		}
	}
}
