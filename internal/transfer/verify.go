package transfer

import (
	"fmt"

	"github.com/buktu/buktu/internal/sshd"
)

// verifyBatch is how many files one SHA-256 request checks at most, and verifyBytes how many
// bytes of paths: SSH packets are at most 256 KiB, and the answer repeats each path.
const (
	verifyBatch = 512
	verifyBytes = 64 << 10
)

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
	fill:
		for len(batch) < verifyBatch && size < verifyBytes {
			select {
			case q, ok := <-v.in:
				if !ok {
					break fill
				}
				batch = append(batch, q)
				size += len(q.r.Remote)
			default:
				break fill
			}
		}
		v.check(batch)
	}
}

func (v *verifier) check(batch []pending) {
	if v.before != nil {
		v.before(batch)
	}
	paths := make([]string, len(batch))
	for i, p := range batch {
		paths[i] = p.r.Remote
	}
	sums, err := v.c.Sums(paths)
	for i, p := range batch {
		switch {
		case err != nil:
			p.r.Err = fmt.Errorf("check SHA-256 with the host: %w", err)
		case sums[i].Error != "":
			p.r.Err = fmt.Errorf("check SHA-256 with the host: %s", sums[i].Error)
		case sums[i].SHA256 != p.r.SHA256 || int64(sums[i].Size) != p.r.Size:
			p.r.Err = fmt.Errorf("SHA-256 mismatch: the host has %d bytes with %.16s…, this side %d bytes with %.16s…",
				sums[i].Size, sums[i].SHA256, p.r.Size, p.r.SHA256)
		default:
			p.r.Remote = sums[i].Path
		}
		if v.after != nil {
			v.after(p)
		}
		p.bar.Done(p.r.Err)
	}
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
