package files

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
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
}

// partials keeps uploads in progress in a hidden folder at the top of a served folder: a data
// file and a small meta file with the offset up to which the data is synced and the SHA-256
// state there.
type partials struct {
	root *os.Root
	dir  *os.File // the partial folder, where unnamed uploads are made; nil without them
	log  *slog.Logger

	mu     sync.Mutex          // guards active
	active map[string]struct{} // keys of uploads open now
}

type meta struct {
	Account string    `json:"account"`
	Path    string    `json:"path"`
	Size    int64     `json:"size"`
	State   []byte    `json:"sha256_state"`
	Started time.Time `json:"started"`
}

func newPartials(root *os.Root, log *slog.Logger) (*partials, error) {
	if err := root.Mkdir(partialDir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("make partial folder: %w", err)
	}
	p := &partials{root: root, log: log, active: map[string]struct{}{}}
	if dir, err := root.Open(partialDir); err == nil {
		if tmpfile.Works(dir) {
			p.dir = dir
		} else {
			dir.Close()
		}
	}
	return p, nil
}

// close releases the partial folder.
func (p *partials) close() {
	if p.dir != nil {
		p.dir.Close()
	}
}

// key names the partial upload of account's path: one per account and path, so the same
// sender resumes it and nobody else sees it.
func (p *partials) key(account, rel string) string {
	sum := sha256.Sum256([]byte(account + "\x00" + rel))
	return partialDir + "/" + hex.EncodeToString(sum[:16])
}

// stat returns the resumable size of account's partial upload of rel, or false when there is
// none.
func (p *partials) stat(account, rel string) (int64, time.Time, bool) {
	k := p.key(account, rel)
	if _, err := p.root.Stat(k + ".part"); err != nil {
		return 0, time.Time{}, false
	}
	m, _ := p.readMeta(k)
	return m.Size, m.Started, true
}

func (p *partials) readMeta(k string) (meta, error) {
	var m meta
	b, err := p.root.ReadFile(k + ".json")
	if err != nil {
		return meta{}, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return meta{}, fmt.Errorf("read partial meta: %w", err)
	}
	return m, nil
}

func (p *partials) writeMeta(k string, m meta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := p.root.WriteFile(k+".json.tmp", b, 0o600); err != nil {
		return err
	}
	return p.root.Rename(k+".json.tmp", k+".json")
}

func (p *partials) remove(k string) {
	p.root.Remove(k + ".part")
	p.root.Remove(k + ".json")
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
	p.active[k] = struct{}{}
	p.mu.Unlock()
	u, err := p.openLocked(k, account, rel, resume, limit, base)
	if err != nil {
		p.release(k)
		return nil, err
	}
	return u, nil
}

func (p *partials) release(k string) {
	p.mu.Lock()
	delete(p.active, k)
	p.mu.Unlock()
}

func (p *partials) openLocked(k, account, rel string, resume bool, limit int64, base func() (*os.File, error)) (*upload, error) {
	m := meta{Account: account, Path: rel, Started: time.Now().UTC()}
	if resume && base != nil {
		return p.openFrom(k, m, limit, base)
	}
	if resume {
		if old, err := p.readMeta(k); err == nil && old.Account == account && old.Path == rel {
			if u, err := p.continueUpload(k, old, limit); err == nil {
				return u, nil
			}
		}
	}
	// A fresh start. The meta file exists only while its partial file does, so a partial
	// file created here has none; one left by an earlier try is started afresh. The data
	// goes to an unnamed file where the file system has them: it gets a name in the partial
	// folder only if it must be resumed (at its first checkpoint, or when interrupted), and
	// its final name in one link.
	if p.dir != nil {
		if f, err := tmpfile.CreateAt(p.dir, 0o600); err == nil {
			base := path.Base(k)
			unix.Unlinkat(int(p.dir.Fd()), base+".json", 0)
			unix.Unlinkat(int(p.dir.Fd()), base+".part", 0)
			u := p.newUpload(k, m, f, sha256.New(), limit)
			u.unnamed = true
			return u, nil
		}
	}
	f, err := p.root.OpenFile(k+".part", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		p.root.Remove(k + ".json")
		f, err = p.root.OpenFile(k+".part", os.O_RDWR|os.O_TRUNC, 0o600)
	}
	if err != nil {
		return nil, fmt.Errorf("open partial file: %w", err)
	}
	return p.newUpload(k, m, f, sha256.New(), limit), nil
}

// continueUpload reopens a partial upload at the offset its meta file vouches for.
func (p *partials) continueUpload(k string, m meta, limit int64) (*upload, error) {
	h, err := restoreHash(m.State)
	if err != nil {
		return nil, err
	}
	f, err := p.root.OpenFile(k+".part", os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	// What lies past the last checkpoint may have holes (requests arrive out of order) or may
	// not have reached the disk: drop it, so the resumable size is a true prefix.
	if err := f.Truncate(m.Size); err != nil {
		f.Close()
		return nil, fmt.Errorf("truncate partial file: %w", err)
	}
	u := p.newUpload(k, m, f, h, limit)
	u.metaWritten = true
	return u, nil
}

// openFrom starts an upload as a copy of a complete file, to be appended to.
func (p *partials) openFrom(k string, m meta, limit int64, base func() (*os.File, error)) (*upload, error) {
	src, err := base()
	if err != nil {
		return nil, err
	}
	defer src.Close()
	p.root.Remove(k + ".json")
	f, err := p.root.OpenFile(k+".part", os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open partial file: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), src)
	if err == nil && limit > 0 && n > limit {
		err = ErrTooLarge
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("copy the file to append to: %w", err)
	}
	m.Size = n
	return p.newUpload(k, m, f, h, limit), nil
}

func (p *partials) newUpload(k string, m meta, f *os.File, h hash.Hash, limit int64) *upload {
	u := &upload{p: p, key: k, account: m.Account, path: m.Path, f: f, limit: limit,
		resumed: m.Size, started: time.Now()}
	u.tr = newTracker(f, h, m.Size)
	u.tr.every = checkpointEvery
	u.tr.checkpoint = func(n int64, state []byte) {
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
// true; a complete one it leaves alone.
func (u *upload) keepPartial() (bool, error) {
	u.mu.Lock()
	interrupted, werr := u.interrupted, u.writeErr
	u.mu.Unlock()
	if !interrupted && werr == nil {
		return false, nil
	}
	defer u.p.release(u.key)
	t := u.transfer()
	n, state := u.tr.stop()
	err := u.name()
	if err == nil {
		err = u.f.Sync()
	}
	u.f.Close()
	if err == nil {
		m, _ := u.p.readMeta(u.key)
		m.Account, m.Path, m.Size, m.State = u.account, u.path, n, state
		if m.Started.IsZero() {
			m.Started = u.started.UTC()
		}
		err = u.p.writeMeta(u.key, m)
	}
	t.Size, t.Duration = n, time.Since(u.started)
	u.report(t)
	if werr != nil {
		return true, werr
	}
	return true, err
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
	if err == nil && rehash {
		n, sum, err = hashFile(u.f)
	}
	return n, sum, err
}

// complete places an upload whose data is durable (err says if it is not) and reports it.
func (u *upload) complete(n int64, sum []byte, err error) (Transfer, error) {
	defer u.p.release(u.key)
	t := u.transfer()
	if err != nil {
		u.f.Close()
		u.p.log.Warn("finish upload", "path", u.path, "err", err)
		t.Duration = time.Since(u.started)
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
		t.Size, t.Duration = n, time.Since(u.started)
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
// has a name already stays as a partial file to resume, as after an interruption.
func (u *upload) Discard() {
	u.Interrupt()
	if !u.markClosed() {
		return
	}
	u.tr.stop() // from here on, u.unnamed is this goroutine's to read
	if !u.unnamed {
		u.keepPartial()
		return
	}
	defer u.p.release(u.key)
	u.f.Close()
	t := u.transfer()
	t.Duration = time.Since(u.started)
	u.report(t)
}
