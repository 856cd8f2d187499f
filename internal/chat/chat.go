// Package chat owns the chat room of a host: the conversation between the person at the host
// and the people connected to it, and its transcript on disk. It checks what may be posted,
// numbers the messages, keeps the recent ones in memory for late joiners, and lets readers
// wait for the next message. Who may chat, and carrying messages to browsers and the CLI, are
// left to web and host.
//
// # The transcript
//
// The transcript is a file of JSON lines, one Message per line, readable by people and tools
// (jq). Post appends each line with a single write and does not fsync: a chat line is not
// worth a disk flush on every message, and a crash of the host process loses nothing Post
// returned for. Open reads the file back, keeps the last 200 messages and continues numbering
// after the highest Seq found. It never rewrites or truncates the file: a damaged line (a torn
// write after a power failure, an edit by hand) is skipped and stays in the file, and the rest
// is kept. When the file ends in a torn line, the next message starts on a new line.
package chat

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// Keep is how many of the latest messages a Room holds in memory, and serves to late joiners.
const Keep = 200

// ErrClosed is returned by a Room after Close.
var ErrClosed = errors.New("chat room closed")

// Message is one chat message, as the transcript and the console API carry it.
type Message struct {
	Seq  uint64    `json:"seq"`  // 1 for the first message of the transcript, then one more each
	From string    `json:"from"` // the account, or who is at the host
	Text string    `json:"text"`
	Time time.Time `json:"time"`
}

// Room is a host's chat room, backed by its transcript file. It is safe for concurrent use.
type Room struct {
	mu     sync.Mutex    // guards the fields below
	f      *os.File      // the transcript, opened for appending; nil after Close
	torn   bool          // the file does not end in a newline: the next write starts with one
	last   uint64        // Seq of the latest message
	recent []Message     // the last Keep messages, oldest first
	posted chan struct{} // closed at the next message or at Close; nil until someone waits
}

// Open opens the room whose transcript is the file at path, creating it (mode 0600) when it
// does not exist.
func Open(path string) (*Room, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open chat transcript: %w", err)
	}
	t, err := readTranscript(f, Keep)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Room{f: f, torn: t.torn, last: t.last, recent: t.recent}, nil
}

// Post adds a message from the sender from. The text is trimmed of surrounding white space;
// it must then be non-empty valid UTF-8 of at most MaxText bytes, without control characters
// other than new line and tab, or Post returns an error wrapping ErrBadText. The message is
// appended to the transcript before Post returns it.
func (r *Room) Post(from, text string) (Message, error) {
	text = strings.TrimSpace(text)
	if err := checkText(text); err != nil {
		return Message{}, err
	}
	if err := checkFrom(from); err != nil {
		return Message{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return Message{}, ErrClosed
	}
	// The number is used up even when the write fails: a part of the line may have reached the
	// file, and a gap in the numbers is harmless where a repeat is not.
	r.last++
	m := Message{Seq: r.last, From: from, Text: text, Time: time.Now().Round(0)}
	var line []byte
	if r.torn {
		line = append(line, '\n')
	}
	line, err := appendLine(line, m)
	if err != nil {
		return Message{}, err
	}
	if _, err := r.f.Write(line); err != nil {
		r.torn = true
		return Message{}, fmt.Errorf("save chat message: %w", err)
	}
	r.torn = false
	if len(r.recent) == Keep {
		r.recent = append(r.recent[:0], r.recent[1:]...)
	}
	r.recent = append(r.recent, m)
	r.wakeLocked()
	return m, nil
}

// Messages returns the latest messages (at most Keep), oldest first.
func (r *Room) Messages() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Message(nil), r.recent...)
}

// Since returns the messages held in memory whose Seq is greater than after, oldest first. When
// there are none it waits until one is posted, or until ctx ends (ctx.Err()) or the room is
// closed (ErrClosed). An after beyond the latest message (a reader that knew an older
// transcript) counts as 0, so the reader gets the whole of the current one.
func (r *Room) Since(ctx context.Context, after uint64) ([]Message, error) {
	for {
		r.mu.Lock()
		if r.f == nil {
			r.mu.Unlock()
			return nil, ErrClosed
		}
		if after > r.last {
			after = 0
		}
		var got []Message
		for _, m := range r.recent {
			if m.Seq > after {
				got = append(got, m)
			}
		}
		if len(got) > 0 {
			r.mu.Unlock()
			return got, nil
		}
		if r.posted == nil {
			r.posted = make(chan struct{})
		}
		posted := r.posted
		r.mu.Unlock()
		select {
		case <-posted:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Close flushes the transcript to disk and closes it, and ends the waits of Since. Closing a
// closed room does nothing.
func (r *Room) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	f := r.f
	r.f = nil
	r.wakeLocked()
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close chat transcript: %w", err)
	}
	return nil
}

// wakeLocked wakes everyone waiting in Since.
func (r *Room) wakeLocked() {
	if r.posted != nil {
		close(r.posted)
		r.posted = nil
	}
}
