package files

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/buktu/buktu/internal/tmpfile"
)

// checkpointEvery is how many bytes an upload takes between checkpoints: the data is synced to
// disk and the hash state written beside it, so a resume after a crash starts there.
const checkpointEvery = 32 << 20

// ErrTooLarge is returned when an upload passes the host's file size limit.
var ErrTooLarge = errors.New("files: file too large")

// ErrBusy is returned when the same file is being uploaded on another connection.
var ErrBusy = errors.New("files: upload already in progress")

// Transfer describes one finished (or interrupted) transfer, for the activity log.
type Transfer struct {
	Account  string
	Remote   string
	Service  string // "send" or "exchange"
	Upload   bool
	Path     string // where the file is, relative to the served folder
	Size     int64
	SHA256   string // hex; "" when the file was not transferred whole
	Resumed  int64  // the offset an upload resumed from
	Complete bool
	Duration time.Duration
	// Err is why an upload failed, when it did not merely stop; Explain gives the words a
	// client may hear of it.
	Err error
	// Kept says an incomplete upload stays as a partial file, to be resumed.
	Kept bool
}

// upload is the common work of inbox and exchange uploads: opening or resuming the partial
// file, and the SHA-256 of the data that arrives.
type upload struct {
	p       *partials
	key     string
	account string
	path    string
	f       *os.File
	tr      *tracker
	limit   int64
	resumed int64
	started time.Time
	place   func(f *os.File, partName string) (string, error) // partName is "" for an unnamed file
	done    func(Transfer)
	remote  string
	service string

	mu          sync.Mutex // guards the fields below
	interrupted bool
	metaWritten bool    // a meta file exists for this upload
	unnamed     bool    // the data is in an unnamed file, not yet linked as key.part
	written     *hashed // set by Written
	rehash      bool    // a write landed in the resumed prefix, so its saved hash no longer holds
	cut         bool    // truncated while open: no checkpoint describes the data, so it cannot resume
	attrs       attrs   // what the client set while it was open
	closed      bool
	writeErr    error
}

// openUpload starts, or with resume continues, account's upload of rel. A non-nil base is a
// complete file the client was told of (by stat) and means to append to, as OpenSSH's reput
// does: the upload then starts as a copy of it.
func (p *partials) openUpload(account, rel string, resume bool, limit int64, base func() (*os.File, error)) (*upload, error) {
	k := p.key(account, rel)
	p.mu.Lock()
	if _, busy := p.active[k]; busy {
		p.mu.Unlock()
		return nil, ErrBusy
	}
	p.active[k] = nil // claimed; the upload once it is open
	p.mu.Unlock()
	u, err := p.openLocked(k, account, rel, resume, limit, base)
	if err != nil {
		p.release(k)
		return nil, err
	}
	p.mu.Lock()
	p.active[k] = u
	p.mu.Unlock()
	return u, nil
}

// open returns account's upload of rel open now, on any connection, or nil.
func (p *partials) open(account, rel string) *upload {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.active[p.key(account, rel)]
}

func (p *partials) newUpload(k string, m meta, f *os.File, h hash.Hash, limit int64) *upload {
	u := &upload{p: p, key: k, account: m.Account, path: m.Path, f: f, limit: limit,
		resumed: m.Size, started: time.Now()}
	u.tr = newTracker(f, h, m.Size)
	u.tr.every = checkpointEvery
	u.tr.checkpoint = func(n int64, state []byte) {
		u.mu.Lock()
		cut := u.cut
		u.mu.Unlock()
		if cut {
			return
		}
		if err := u.name(); err != nil {
			p.log.Warn("checkpoint partial upload", "path", m.Path, "err", err)
			return
		}
		if err := f.Sync(); err != nil {
			return
		}
		m.Size, m.State = n, state
		if err := p.writeMeta(k, m); err != nil {
			p.log.Warn("checkpoint partial upload", "path", m.Path, "err", err)
			return
		}
		u.metaWritten = true // read by Close only after the tracker has stopped
	}
	u.tr.start()
	return u
}

// name links an unnamed upload into the partial folder as key.part, to be resumed. It is
// called by the tracker's goroutine, or by Close once that has stopped.
func (u *upload) name() error {
	if !u.unnamed {
		return nil
	}
	if err := tmpfile.Link(u.f, u.p.dir, path.Base(u.key)+".part"); err != nil {
		return err
	}
	u.unnamed = false
	return nil
}

// WriteAt writes data at off, as an SFTP write request asks.
func (u *upload) WriteAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, ErrBadPath
	}
	if u.limit > 0 && off+int64(len(b)) > u.limit {
		u.mu.Lock()
		u.writeErr = ErrTooLarge
		u.mu.Unlock()
		return 0, ErrTooLarge
	}
	n, err := u.f.WriteAt(b, off)
	u.tr.finished(off, n)
	if err != nil || off < u.resumed {
		u.mu.Lock()
		if err != nil {
			u.writeErr = err
		}
		if off < u.resumed {
			u.rehash = true
		}
		u.mu.Unlock()
	}
	return n, err
}

// TransferError is called by the SFTP server when the connection ends with the file open: the
// upload is then kept as a partial file to resume, never placed as complete.
func (u *upload) TransferError(error) {
	u.mu.Lock()
	u.interrupted = true
	u.mu.Unlock()
}

// Interrupt makes a later Close keep the upload as partial, as when the host shuts down.
func (u *upload) Interrupt() { u.TransferError(nil) }

// Close ends the upload: a complete one is synced, hashed and placed; an interrupted one is
// kept, synced, as a partial file to resume.
func (u *upload) Close() error {
	if !u.markClosed() {
		return nil
	}
	if kept, err := u.keepPartial(); kept {
		return err
	}
	n, sum, err := u.finishData()
	if err == nil {
		err = u.f.Sync()
	}
	_, err = u.complete(n, sum, err)
	return err
}

// CloseAll closes complete uploads together: one syncfs makes the data of all of them durable,
// instead of an fsync each, and then each is placed as Close would place it. It returns what
// became of each, as Close reports it, and Close's error; an upload interrupted or failed is
// kept as a partial file as Close keeps it.
func CloseAll(us []*Upload) ([]Transfer, []error) {
	ts, errs := make([]Transfer, len(us)), make([]error, len(us))
	type done struct {
		n   int64
		sum []byte
		err error
	}
	ready := make([]*done, len(us))
	fd := -1
	for i, u := range us {
		if !u.markClosed() {
			errs[i] = errors.New("finish upload: closed already")
			continue
		}
		if kept, err := u.keepPartial(); kept {
			errs[i] = err
			if errs[i] == nil {
				errs[i] = errors.New("finish upload: interrupted")
			}
			continue
		}
		n, sum, err := u.finishData()
		ready[i] = &done{n, sum, err}
		if err == nil && fd < 0 {
			fd = int(u.f.Fd())
		}
	}
	if fd >= 0 && unix.Syncfs(fd) != nil {
		// No syncfs here: each file is synced on its own.
		for i, d := range ready {
			if d != nil && d.err == nil {
				d.err = us[i].f.Sync()
			}
		}
	}
	for i, d := range ready {
		if d != nil {
			ts[i], errs[i] = us[i].complete(d.n, d.sum, d.err)
		}
	}
	return ts, errs
}

// markClosed marks the upload closed, and says false when it was already.
func (u *upload) markClosed() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return false
	}
	u.closed = true
	return true
}

// keepPartial keeps an interrupted or failed upload as a partial file to resume, and says
// true; a complete one it leaves alone. One that can never complete (its disk is full, it is
// too large) is removed instead, so it does not hold the space it took.
func (u *upload) keepPartial() (bool, error) {
	u.mu.Lock()
	interrupted, werr, cut := u.interrupted, u.writeErr, u.cut
	u.mu.Unlock()
	if !interrupted && werr == nil {
		return false, nil
	}
	defer u.p.release(u.key)
	t := u.transfer()
	n, state := u.tr.stop()
	t.Size, t.Err = n, werr
	err := werr
	if cut && !cannotComplete(werr) {
		// Cut while open: what it holds matches no saved hash state, so nothing can resume it.
		u.f.Close()
		if !u.unnamed {
			u.p.remove(u.key)
		}
	} else if !cannotComplete(werr) {
		err = u.keep(n, state)
		t.Kept = err == nil
		if t.Err == nil {
			t.Err = err
		}
	}
	if cannotComplete(err) {
		u.drop(n, err)
	}
	t.Duration = time.Since(u.started)
	u.report(t)
	if werr != nil {
		return true, werr
	}
	return true, err
}

// keep names, syncs and closes the upload's file, with a meta file that vouches for its first
// n bytes, whose hash state is state.
func (u *upload) keep(n int64, state []byte) error {
	err := u.name()
	if err == nil {
		err = u.f.Sync()
	}
	u.f.Close()
	if err != nil {
		return err
	}
	m, _ := u.p.readMeta(u.key)
	m.Account, m.Path, m.Size, m.State = u.account, u.path, n, state
	if m.Started.IsZero() {
		m.Started = u.started.UTC()
	}
	return u.p.writeMeta(u.key, m)
}

// drop removes an upload that can never complete, for err, once its tracker has stopped: an
// unnamed file vanishes as it is closed, a named one and its meta file are removed. It logs
// why, since the sender may only learn that the host is out of space.
func (u *upload) drop(n int64, err error) {
	u.f.Close()
	if !u.unnamed {
		u.p.remove(u.key)
	}
	u.p.log.Warn("upload removed: it cannot complete", "account", u.account, "service", u.service,
		"path", u.path, "size", n, "err", err)
}

func (u *upload) transfer() Transfer {
	return Transfer{Account: u.account, Remote: u.remote, Service: u.service, Upload: true,
		Path: u.path, Resumed: u.resumed}
}

// Written says all the upload's data is written: its hash is finished now, and the hashing
// goroutine ends, so an upload waiting to be closed in a batch (CloseAll) holds nothing but
// its file. Nothing may be written after it (the put stream calls it at a file's end).
func (u *upload) Written() {
	n, sum, err := u.finishData()
	u.mu.Lock()
	defer u.mu.Unlock()
	u.written = &hashed{n, sum, err}
}

// hashed is an upload's size and SHA-256 once all of it is written.
type hashed struct {
	n   int64
	sum []byte
	err error
}

// finishData waits for the hash of all the data and returns the size and the sum.
func (u *upload) finishData() (int64, []byte, error) {
	u.mu.Lock()
	rehash, done := u.rehash, u.written
	u.mu.Unlock()
	if done != nil {
		return done.n, done.sum, done.err
	}
	n, sum, err := u.tr.finish()
	if rehash {
		// What the tracker read may be past a cut end, or before a rewrite: the file says.
		n, sum, err = hashFile(u.f)
	}
	return n, sum, err
}

// complete places an upload whose data is durable (err says if it is not) and reports it.
func (u *upload) complete(n int64, sum []byte, err error) (Transfer, error) {
	defer u.p.release(u.key)
	t := u.transfer()
	if err != nil {
		if cannotComplete(err) {
			u.drop(n, err)
		} else {
			u.f.Close()
			u.p.log.Warn("finish upload", "path", u.path, "err", err)
			t.Kept = !u.unnamed && u.metaWritten
		}
		t.Size, t.Duration, t.Err = n, time.Since(u.started), err
		u.report(t)
		return t, fmt.Errorf("finish upload: %w", err)
	}
	// The meta file goes first: it must never outlive its partial file, or a later upload
	// of the same name would trust it.
	if u.metaWritten {
		u.p.root.Remove(u.key + ".json")
	}
	part := u.key + ".part"
	if u.unnamed {
		part = ""
	}
	final, err := u.place(u.f, part)
	if cerr := u.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("finish upload: %w", cerr)
	}
	if err != nil {
		// Its meta file is gone, so nothing can resume it: a named partial file goes too.
		if cannotComplete(err) {
			u.drop(n, err)
		} else if !u.unnamed {
			u.p.remove(u.key)
		}
		t.Size, t.Duration, t.Err = n, time.Since(u.started), err
		u.report(t)
		return t, err
	}
	t.Path, t.Size, t.SHA256, t.Complete, t.Duration = final, n, hex.EncodeToString(sum), true, time.Since(u.started)
	u.report(t)
	return t, nil
}

// hashFile returns the size and SHA-256 of all of f.
func hashFile(f *os.File) (int64, []byte, error) {
	h := sha256.New()
	n, err := io.Copy(h, io.NewSectionReader(f, 0, 1<<62))
	return n, h.Sum(nil), err
}

func (u *upload) report(t Transfer) {
	if u.done != nil {
		u.done(t)
	}
}

// Offset is where the upload continues: what it held when it was opened.
func (u *upload) Offset() int64 { return u.resumed }

// Discard drops an upload its sender will send again: an unnamed file vanishes, and one that
// has a name already stays as a partial file to resume, as after an interruption, unless it
// can never complete.
func (u *upload) Discard() {
	u.Interrupt()
	if !u.markClosed() {
		return
	}
	n, _ := u.tr.stop() // from here on, u.unnamed is this goroutine's to read
	if !u.unnamed {
		u.keepPartial()
		return
	}
	defer u.p.release(u.key)
	t := u.transfer()
	u.mu.Lock()
	t.Size, t.Err = n, u.writeErr
	u.mu.Unlock()
	if cannotComplete(t.Err) {
		u.drop(n, t.Err)
	} else {
		u.f.Close()
	}
	t.Duration = time.Since(u.started)
	u.report(t)
}
