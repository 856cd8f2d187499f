package transfer

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"

	"github.com/buktu/buktu/internal/sshd"
)

// streamBatch is how many files one get stream asks for: a lane asks again for the rest.
const streamBatch = 4096

// errNoStream says the host does not serve buktu's streams: use SFTP.
var errNoStream = errors.New("the host does not serve buktu's streams")

// openGet opens a get stream: a session channel running buktu's get subsystem.
func (c *Client) openGet() (io.ReadWriteCloser, error) {
	return c.openSubsystem(sshd.SubsystemGet)
}

// openSubsystem opens a session channel running one of buktu's subsystems, or returns
// errNoStream when the host does not serve it.
func (c *Client) openSubsystem(name string) (ssh.Channel, error) {
	ch, reqs, err := c.ssh.OpenChannel("session", nil)
	if err != nil {
		return nil, err
	}
	go func() {
		for r := range reqs {
			if r.WantReply {
				r.Reply(false, nil)
			}
		}
	}()
	ok, err := ch.SendRequest("subsystem", true, sshd.Marshal(struct{ Name string }{name}))
	if err != nil || !ok {
		ch.Close()
		if err == nil {
			err = errNoStream
		}
		return nil, err
	}
	return ch, nil
}

// split returns o's meter and the jobs of each lane: o.Parallel lanes (8 by default), no more
// than there are jobs, each taking every so-many-th job so that the sizes even out.
func split(o UploadOptions, n int) (Meter, [][]int) {
	meter := o.Meter
	if meter == nil {
		meter = noMeter{}
	}
	lanes := o.Parallel
	if lanes <= 0 {
		lanes = 8
	}
	jobs := make([][]int, min(lanes, max(n, 1)))
	for i := range n {
		jobs[i%len(jobs)] = append(jobs[i%len(jobs)], i)
	}
	return meter, jobs
}

// streamDownload fetches jobs over get streams, o.Parallel lanes at once, each a stream that
// carries its share of the files back to back. The host's SHA-256 of each file comes at its
// end, so checking costs no request; the verifier only syncs and names the files in batches.
// It returns errNoStream, having fetched nothing, when the host does not serve the stream.
func (c *Client) streamDownload(ctx context.Context, jobs []job, o UploadOptions) ([]Result, error) {
	probe, err := c.openGet()
	if err != nil {
		return nil, errNoStream
	}
	meter, lanes := split(o, len(jobs))
	results := make([]Result, len(jobs))
	v := newVerifier(c, syncDownloads, c.placeDownload)
	var wg sync.WaitGroup
	for l, mine := range lanes {
		first := io.ReadWriteCloser(nil)
		if l == 0 {
			first = probe
		}
		wg.Go(func() {
			if len(mine) == 0 && first != nil {
				first.Close() // nothing to fetch
			}
			for len(mine) > 0 {
				n := min(len(mine), streamBatch)
				c.lane(ctx, first, mine[:n], jobs, results, meter, v)
				first, mine = nil, mine[n:]
			}
		})
	}
	wg.Wait()
	v.close()
	return results, ctx.Err()
}

// lane fetches the jobs idx over one get stream (ch, or a new one when ch is nil).
func (c *Client) lane(ctx context.Context, ch io.ReadWriteCloser, idx []int, jobs []job, results []Result, meter Meter, v *verifier) {
	fail := func(from int, err error) {
		for _, i := range idx[from:] {
			results[i] = Result{Local: jobs[i].local, Remote: jobs[i].remote, Err: err}
			meter.Start(jobs[i].remote, jobs[i].size).Done(err)
		}
	}
	if ctx.Err() != nil {
		fail(0, ctx.Err())
		return
	}
	if ch == nil {
		var err error
		if ch, err = c.openGet(); err != nil {
			fail(0, fmt.Errorf("open a stream to the host: %w", err))
			return
		}
	}
	defer ch.Close()
	items := make([]sshd.GetItem, len(idx))
	for k, i := range idx {
		items[k] = sshd.GetItem{Path: jobs[i].remote, Offset: partialSize(jobs[i])}
	}
	if err := sshd.WriteGetRequest(ch, items); err != nil {
		fail(0, fmt.Errorf("ask the host: %w", err))
		return
	}
	g := sshd.NewGetReader(ch)
	for k, i := range idx {
		bar := meter.Start(jobs[i].remote, jobs[i].size)
		r, err := c.receive(g, jobs[i], items[k].Offset, bar)
		results[i] = r
		if err != nil { // the stream itself failed: nothing more comes on it
			bar.Done(r.Err)
			fail(k+1, err)
			return
		}
		if r.Err != nil {
			bar.Done(r.Err)
			continue
		}
		v.add(i, &results[i], bar)
	}
}

// partialSize is where the download of j resumes: the size of what an earlier try left, when
// that is not more than the file has.
func partialSize(j job) int64 {
	fi, err := os.Lstat(j.local + partSuffix)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > j.size {
		return 0
	}
	return fi.Size()
}

// receive takes the next file off the stream into its local file (an unnamed one for a small
// file; else the partial file, which holds offset bytes already) and compares it with the
// sum the host sent. The returned error, when not nil, means the stream failed; a file that
// failed alone has its Result's Err set.
func (c *Client) receive(g *sshd.GetReader, j job, offset int64, bar Bar) (Result, error) {
	r := Result{Local: j.local, Remote: j.remote, Size: j.size, Resumed: offset}
	h := sha256.New()
	lf, unnamed, err := c.openLocal(j, offset, h)
	if lf != nil {
		if unnamed {
			r.tmp = lf // closed once it has its name, or below if it fails
		} else {
			defer lf.Close()
		}
	}
	bar.SetCurrent(offset)
	sink := newSink(lf, h, bar, offset, j.size, err)
	size, sum, serr := g.Next(sink)
	mine := sink.sum()
	var ge *sshd.FileError
	switch {
	case errors.As(serr, &ge):
		r.Err = fmt.Errorf("the host: %s", ge.Message)
	case serr != nil:
		r.Err = fmt.Errorf("receive: %w", serr)
	case sink.err != nil:
		r.Err = sink.err
	default:
		r.Size = offset + sink.n
		r.SHA256 = hex.EncodeToString(mine)
		r.host = &sshd.FileSum{Path: j.remote, Size: uint64(size), SHA256: sum}
	}
	if r.Err != nil && r.tmp != nil {
		r.tmp.Close()
		r.tmp = nil
	}
	if serr != nil && ge == nil {
		return r, serr
	}
	return r, nil
}

// openPartial opens the partial file of a download that resumes at offset, hashing what it
// holds into h and dropping anything past offset.
func openPartial(part string, offset int64, h hash.Hash) (*os.File, error) {
	lf, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if offset > 0 {
		if n, err := io.Copy(h, io.NewSectionReader(lf, 0, offset)); err != nil || n != offset {
			lf.Close()
			os.Remove(part)
			return nil, fmt.Errorf("read what arrived before (%d of %d bytes): %v; the next try starts afresh", n, offset, err)
		}
	}
	if err := lf.Truncate(offset); err != nil {
		lf.Close()
		return nil, err
	}
	if _, err := lf.Seek(offset, io.SeekStart); err != nil {
		lf.Close()
		return nil, err
	}
	return lf, nil
}

// sink writes a download to its local file: it hashes and counts every byte, and after a
// local write fails it keeps taking the file's data, so a stream stays in step, and remembers
// the error.
type sink struct {
	w   *os.File
	h   hash.Hash
	bar Bar
	n   int64
	err error

	flushed int64 // bytes of this stretch handed to the disk's write-back (see writeBehind)
	start   int64 // where in the file this stretch started
}

// newSink writes a download of a size-byte file, from offset on, to w (nil when err says
// why there is nowhere to write), hashing into h, which holds the hash of what comes before
// offset. A large one is hashed on a goroutine of its own, beside the disk writes; sum ends it.
func newSink(w *os.File, h hash.Hash, bar Bar, offset, size int64, err error) *sink {
	if size-offset >= resumeMin {
		h = newAsyncHash(h)
	}
	return &sink{w: w, h: h, bar: bar, err: err, start: offset}
}

// sum returns the hash of all the file, what came before offset included.
func (s *sink) sum() []byte { return s.h.Sum(nil) }

// writeBehind is how much a download writes before it asks the kernel to start writing it to
// disk (without waiting): the sync when the file is checked then has little left to do,
// instead of a whole large file at once.
const writeBehind = 8 << 20

func (s *sink) Write(b []byte) (int, error) {
	if s.err == nil {
		if _, err := s.w.Write(b); err != nil {
			s.err = err
		}
	}
	s.h.Write(b)
	s.n += int64(len(b))
	s.bar.Add(len(b))
	if s.err == nil && s.n-s.flushed >= writeBehind {
		unix.SyncFileRange(int(s.w.Fd()), s.start+s.flushed, s.n-s.flushed, unix.SYNC_FILE_RANGE_WRITE)
		s.flushed = s.n
	}
	return len(b), nil
}

// openPut opens a put stream: a session channel running buktu's put subsystem.
func (c *Client) openPut() (ssh.Channel, error) {
	return c.openSubsystem(sshd.SubsystemPut)
}

// streamUpload sends jobs over put streams, o.Parallel lanes at once, resuming those the
// host holds a partial upload of (partials), and fills their results from the host's answers,
// which carry the sum of each file as placed. It returns errNoStream, having sent nothing,
// when the host does not take the stream.
func (c *Client) streamUpload(ctx context.Context, jobs []job, results []Result, partials map[string]sshd.FileSum, o UploadOptions) error {
	probe, err := c.openPut()
	if err != nil {
		return errNoStream
	}
	meter, lanes := split(o, len(jobs))
	var wg sync.WaitGroup
	for l, mine := range lanes {
		ch := ssh.Channel(nil)
		if l == 0 {
			ch = probe
		}
		wg.Go(func() { c.putLane(ctx, ch, mine, jobs, results, partials, meter) })
	}
	wg.Wait()
	return nil
}

// putLane sends the jobs idx over one put stream (ch, or a new one when ch is nil), while a
// second goroutine reads the host's answers.
func (c *Client) putLane(ctx context.Context, ch ssh.Channel, idx []int, jobs []job, results []Result, partials map[string]sshd.FileSum, meter Meter) {
	bars := make(map[int]Bar, len(idx))
	for _, i := range idx {
		results[i] = Result{Local: jobs[i].local, Remote: jobs[i].remote, Size: jobs[i].size}
	}
	// finished[i] says file i's bar is done: written by the sender for files it never sent,
	// by the answer reader for the others, and read once both have ended.
	finished := make(map[int]bool, len(idx))
	var mu sync.Mutex // guards bars and finished
	finish := func(i int, err error) {
		if results[i].Err == nil {
			results[i].Err = err
		}
		mu.Lock()
		defer mu.Unlock()
		if bars[i] == nil {
			bars[i] = meter.Start(jobs[i].remote, jobs[i].size)
		}
		bars[i].Done(results[i].Err)
		finished[i] = true
	}
	failRest := func(err error) {
		for _, i := range idx {
			mu.Lock()
			done := finished[i]
			mu.Unlock()
			if !done {
				finish(i, err)
			}
		}
	}
	if ch == nil {
		var err error
		if ch, err = c.openPut(); err != nil {
			failRest(fmt.Errorf("open a stream to the host: %w", err))
			return
		}
	}
	defer ch.Close()
	sent := make(chan int, len(idx))
	answered := make(chan error, 1)
	go func() { answered <- readAnswers(ch, sent, results, finish) }()
	pw := sshd.NewPutWriter(ch)
	var err error
	for _, i := range idx {
		if err = ctx.Err(); err != nil {
			break
		}
		j := jobs[i]
		mu.Lock()
		bar := meter.Start(j.remote, j.size)
		bars[i] = bar
		mu.Unlock()
		f, oerr := os.Open(j.local)
		if oerr != nil {
			finish(i, oerr)
			continue
		}
		h := sha256.New()
		offset := resumeFrom(f, h, j.size, partials[j.remote])
		results[i].Resumed = offset
		bar.SetCurrent(offset)
		var src io.Reader = &hashReader{r: f, h: h, bar: bar}
		if j.size-offset >= resumeMin {
			src = newAheadReader(src)
		}
		n, serr := pw.Send(j.remote, j.size, offset, src)
		if ahead, ok := src.(*aheadReader); ok {
			ahead.Close() // before h is read
		}
		f.Close()
		var se *sshd.SourceError
		if errors.As(serr, &se) {
			results[i].Err = se.Err
			sent <- i // the host answers an aborted file too
			continue
		}
		if serr != nil {
			err = fmt.Errorf("send: %w", serr)
			break
		}
		results[i].Size, results[i].SHA256 = offset+n, hex.EncodeToString(h.Sum(nil))
		sent <- i
	}
	close(sent)
	if err == nil {
		if err = pw.Flush(); err == nil {
			err = ch.CloseWrite()
		}
	}
	if err != nil {
		ch.Close() // the answers will not all come
	}
	if aerr := <-answered; err == nil {
		err = aerr
	}
	if err != nil {
		failRest(err)
	}
}

// readAnswers reads the host's answer for each file sent, in order, checks it and finishes
// the file.
func readAnswers(ch ssh.Channel, sent <-chan int, results []Result, finish func(int, error)) error {
	r := bufio.NewReader(ch)
	for i := range sent {
		sum, err := sshd.ReadPutAck(r)
		var fe *sshd.FileError
		switch {
		case errors.As(err, &fe):
			finish(i, fmt.Errorf("the host: %s", fe.Message))
		case err != nil:
			ch.Close()
			for range sent { // the sender stops once the stream fails
			}
			return fmt.Errorf("read the host's answers: %w", err)
		case results[i].Err != nil:
			finish(i, nil)
		default:
			finish(i, compare(&results[i], sum))
		}
	}
	return nil
}
