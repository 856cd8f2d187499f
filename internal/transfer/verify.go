package transfer

import (
	"fmt"
	"time"

	"github.com/buktu/buktu/internal/sshd"
)

// verifyBatch is how many files one SHA-256 request checks at most, and verifyBytes how many
// bytes of paths: SSH packets are at most 256 KiB, and the answer repeats each path.
const (
	verifyBatch = 512
	verifyBytes = 64 << 10
)

// batchWait is how long a batch waits for more files once its first is in.
const batchWait = 20 * time.Millisecond

// verifier checks finished files against the host's SHA-256 in batches: SSH global requests
// go one at a time, so one per file would make thousands of small files wait on round trips.
type verifier struct {
	c      *Client
	before func([]pending) // runs on each batch before it is checked; may be nil
	after  func(pending)   // runs once a file is checked, before its bar is done; may be nil
	in     chan pending
	done   chan struct{}
}

type pending struct {
	i   int
	r   *Result
	bar Bar
}

func newVerifier(c *Client, before func([]pending), after func(pending)) *verifier {
	v := &verifier{c: c, before: before, after: after, in: make(chan pending, verifyBatch), done: make(chan struct{})}
	go v.run()
	return v
}

func (v *verifier) add(i int, r *Result, bar Bar) { v.in <- pending{i, r, bar} }

func (v *verifier) close() {
	close(v.in)
	<-v.done
}

func (v *verifier) run() {
	defer close(v.done)
	for p := range v.in {
		batch := []pending{p}
		size := len(p.r.Remote)
		// Files that finish within a short while share a batch: one round trip, and for
		// downloads one sync of the disk, for all of them.
		wait := time.NewTimer(batchWait)
	fill:
		for len(batch) < verifyBatch && size < verifyBytes {
			select {
			case q, ok := <-v.in:
				if !ok {
					break fill
				}
				batch = append(batch, q)
				size += len(q.r.Remote)
			case <-wait.C:
				break fill
			}
		}
		wait.Stop()
		v.check(batch)
	}
}

func (v *verifier) check(batch []pending) {
	if v.before != nil {
		v.before(batch)
	}
	// Files that came on a get stream carry the host's sum already; the others are asked for.
	sums := make([]sshd.FileSum, len(batch))
	var ask []string
	var at []int
	for i, p := range batch {
		if p.r.host != nil {
			sums[i] = *p.r.host
			continue
		}
		ask = append(ask, p.r.Remote)
		at = append(at, i)
	}
	var err error
	if len(ask) > 0 {
		var got []sshd.FileSum
		got, err = v.c.Sums(ask)
		for k, i := range at {
			if err == nil {
				sums[i] = got[k]
			}
		}
	}
	for i, p := range batch {
		if err != nil && p.r.host == nil {
			p.r.Err = fmt.Errorf("check SHA-256 with the host: %w", err)
		} else {
			p.r.Err = compare(p.r, sums[i])
		}
		if v.after != nil {
			v.after(p)
		}
		p.bar.Done(p.r.Err)
	}
}

// compare checks a file against the host's size and SHA-256 of it; when they match, the
// result takes the name the host has it under.
func compare(r *Result, s sshd.FileSum) error {
	switch {
	case s.Error != "":
		return fmt.Errorf("check SHA-256 with the host: %s", s.Error)
	case s.SHA256 != r.SHA256 || int64(s.Size) != r.Size:
		return fmt.Errorf("SHA-256 mismatch: the host has %d bytes with %.16s…, this side %d bytes with %.16s…",
			s.Size, s.SHA256, r.Size, r.SHA256)
	}
	r.Remote = s.Path
	return nil
}

// Sums asks the host for the size and SHA-256 of files, in one round trip.
func (c *Client) Sums(paths []string) ([]sshd.FileSum, error) {
	ok, reply, err := c.ssh.SendRequest(sshd.ReqSHA256, true, sshd.MarshalPaths(paths))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("the host refused: %s", reply)
	}
	sums, err := sshd.UnmarshalSums(reply)
	if err != nil {
		return nil, fmt.Errorf("read the host's answer: %w", err)
	}
	if len(sums) != len(paths) {
		return nil, fmt.Errorf("the host answered for %d files of %d", len(sums), len(paths))
	}
	return sums, nil
}

// Note stores a note with a send, naming the files it goes with, and returns the note's name
// in the inbox.
func (c *Client) Note(text string, files []string) (string, error) {
	ok, reply, err := c.ssh.SendRequest(sshd.ReqNote, true, sshd.MarshalNote(text, files))
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("the host refused the note: %s", reply)
	}
	var r sshd.NoteReply
	if err := sshd.Unmarshal(reply, &r); err != nil {
		return "", err
	}
	return r.Name, nil
}
