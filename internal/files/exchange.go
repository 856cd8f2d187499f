package files

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/buktu/buktu/internal/tmpfile"
)

// Access is what an account may do in the exchange folder.
type Access struct {
	Read, Write, Delete bool
}

// Exchange is the Exchange service's shared folder. Every operation is checked against the
// account's Access and stays inside the folder: os.Root refuses any path or symlink that leads
// out. Replacing or truncating an existing file destroys data, so it needs Delete as well as
// Write.
type Exchange struct {
	opts  Options
	root  *os.Root
	parts *partials
	sums  sumCache
}

// OpenExchange opens (and creates) the exchange folder dir.
func OpenExchange(dir string, opts Options) (*Exchange, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("make exchange folder: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open exchange folder: %w", err)
	}
	parts, err := newPartials(root, opts.logger())
	if err != nil {
		root.Close()
		return nil, err
	}
	return &Exchange{opts: opts, root: root, parts: parts}, nil
}

// Close releases the folder.
func (x *Exchange) Close() error {
	x.parts.close()
	return x.root.Close()
}

// ExchangeSession is one account's connection to the exchange folder.
type ExchangeSession struct {
	x       *Exchange
	account string
	remote  string
	access  Access
	onDone  func(Transfer)
	active  atomic.Int32 // transfers open now
	ended   atomic.Int64 // when the last transfer ended, in Unix nanoseconds
}

// Busy says whether a transfer is open on this session, or ended a moment ago (see
// finishWindow).
func (s *ExchangeSession) Busy() bool {
	return s.active.Load() > 0 || time.Since(time.Unix(0, s.ended.Load())) < finishWindow
}

// done counts a transfer out and passes it on.
func (s *ExchangeSession) done(t Transfer) {
	s.ended.Store(time.Now().UnixNano())
	s.active.Add(-1)
	if s.onDone != nil {
		s.onDone(t)
	}
}

// Session starts account's session from remote with the given access; onDone, which may be nil,
// hears of every finished or interrupted transfer.
func (x *Exchange) Session(account, remote string, access Access, onDone func(Transfer)) *ExchangeSession {
	return &ExchangeSession{x: x, account: account, remote: remote, access: access, onDone: onDone}
}

// Access returns what this session may do.
func (s *ExchangeSession) Access() Access { return s.access }

func (s *ExchangeSession) clean(name string, allowed bool) (string, error) {
	if !allowed {
		return "", ErrDenied
	}
	return Clean(name, s.x.opts.maxPath())
}

// rootErr maps what os.Root says to what a client may hear: escapes are denials, and nothing
// carries a host path.
func rootErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return ErrNotFound
	case errors.Is(err, fs.ErrExist):
		return fs.ErrExist
	case errors.Is(err, fs.ErrPermission), strings.Contains(err.Error(), "escapes"),
		errors.Is(err, syscall.ELOOP), errors.Is(err, syscall.EXDEV):
		return ErrDenied
	case errors.Is(err, syscall.ENOTEMPTY):
		return syscall.ENOTEMPTY
	case errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.EISDIR):
		return ErrNotFound
	}
	return err
}

// Stat returns a file's attributes, following symlinks that stay inside the folder.
func (s *ExchangeSession) Stat(name string) (fs.FileInfo, error) {
	rel, err := s.clean(name, s.access.Read)
	if err != nil {
		return nil, err
	}
	fi, err := s.x.root.Stat(rel)
	return fi, rootErr(err)
}

// Lstat returns a file's attributes without following a symlink.
func (s *ExchangeSession) Lstat(name string) (fs.FileInfo, error) {
	rel, err := s.clean(name, s.access.Read)
	if err != nil {
		return nil, err
	}
	fi, err := s.x.root.Lstat(rel)
	return fi, rootErr(err)
}

// List returns a folder's entries, sorted by name, without the host's bookkeeping.
func (s *ExchangeSession) List(name string) ([]fs.FileInfo, error) {
	rel, err := s.clean(name, s.access.Read)
	if err != nil {
		return nil, err
	}
	f, err := s.x.root.Open(rel)
	if err != nil {
		return nil, rootErr(err)
	}
	defer f.Close()
	entries, err := f.Readdir(-1)
	if err != nil {
		return nil, rootErr(err)
	}
	entries = slices.DeleteFunc(entries, func(fi fs.FileInfo) bool { return fi.Name() == partialDir })
	slices.SortFunc(entries, func(a, b fs.FileInfo) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, nil
}

// Open opens a file to read.
func (s *ExchangeSession) Open(name string) (*Download, error) {
	rel, err := s.clean(name, s.access.Read)
	if err != nil {
		return nil, err
	}
	f, err := s.x.root.Open(rel)
	if err != nil {
		return nil, rootErr(err)
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, ErrDenied
	}
	s.active.Add(1)
	d := &Download{f: f, fi: fi, sums: &s.x.sums, size: fi.Size(), started: time.Now(), done: s.done,
		t: Transfer{Account: s.account, Remote: s.remote, Service: "exchange", Path: rel}}
	d.tr = newTracker(f, nil, 0)
	// A file whose sum is known (hashed when it arrived, or when it was last served) is not
	// hashed again while it is served: the tracker only sees that all of it went out.
	if sum, ok := s.x.sums.get(fi); ok {
		d.known, d.tr.countOnly = sum, true
	}
	d.tr.start()
	return d, nil
}

// Create starts an upload of name that replaces nothing until it is complete. With resume, an
// interrupted upload of the same name by the same account continues.
func (s *ExchangeSession) Create(name string, resume bool) (*Upload, error) {
	rel, err := s.clean(name, s.access.Write)
	if err != nil {
		return nil, err
	}
	if rel == "." {
		return nil, ErrDenied
	}
	if fi, err := s.x.root.Stat(path.Dir(rel)); err != nil || !fi.IsDir() {
		return nil, ErrNotFound
	}
	var base func() (*os.File, error)
	if fi, err := s.x.root.Lstat(rel); err == nil {
		if !fi.Mode().IsRegular() || !s.access.Delete {
			return nil, ErrDenied
		}
		if resume {
			// Appending (OpenSSH's reput) continues the file that stat reported.
			base = func() (*os.File, error) { return s.x.root.Open(rel) }
		}
	}
	u, err := s.x.parts.openUpload(s.account, rel, resume, s.x.opts.MaxFileSize, base)
	if err != nil {
		return nil, err
	}
	s.active.Add(1)
	u.remote, u.service = s.remote, "exchange"
	var placed fs.FileInfo // the partial file as it was renamed into place
	u.done = func(t Transfer) {
		if t.Complete && placed != nil {
			s.x.sums.put(placed, t.SHA256) // the client checks its upload right after
		}
		s.done(t)
	}
	u.place = func(f *os.File, part string) (string, error) {
		// Between open and close the name may have come to exist: the same rule holds then.
		fi, err := s.x.root.Lstat(rel)
		if err == nil && (!fi.Mode().IsRegular() || !s.access.Delete) {
			return "", ErrDenied
		}
		// Partial files are private; a placed file is shared like the folder it is in, or
		// has the mode and times its client set while it was open.
		if err := u.applyAttrs(f, 0o644); err != nil {
			return "", err
		}
		if part == "" && err != nil {
			// An unnamed file and a free name: one link places it.
			fi, _ := f.Stat()
			if err := s.linkNew(f, rel); err == nil {
				placed = fi
				return rel, nil
			} else if !errors.Is(err, fs.ErrExist) {
				return "", rootErr(err)
			}
			// The name came to exist meanwhile: the same rule holds for what is there now.
			if fi, err := s.x.root.Lstat(rel); err == nil && (!fi.Mode().IsRegular() || !s.access.Delete) {
				return "", ErrDenied
			}
		}
		if part == "" {
			// A file to replace: it takes a name in the partial folder, then renames over.
			if err := u.name(); err != nil {
				return "", err
			}
			part = u.key + ".part"
		}
		fi, _ = s.x.root.Stat(part) // a rename keeps the inode, size and times
		if err := s.x.root.Rename(part, rel); err != nil {
			return "", rootErr(err)
		}
		placed = fi
		return rel, nil
	}
	return &Upload{u}, nil
}

// linkNew gives the unnamed file f the name rel, which must be free.
func (s *ExchangeSession) linkNew(f *os.File, rel string) error {
	dir, err := s.x.root.Open(path.Dir(rel))
	if err != nil {
		return err
	}
	defer dir.Close()
	return tmpfile.Link(f, dir, path.Base(rel))
}

// Partial returns the resumable size of this account's interrupted upload of name and the
// SHA-256 of that prefix.
func (s *ExchangeSession) Partial(name string) (int64, string, error) {
	rel, err := s.clean(name, s.access.Write)
	if err != nil {
		return 0, "", err
	}
	return s.x.parts.prefix(s.account, rel)
}

// PartialInfo returns the partial upload of name as a file, for a client that stats the name
// to resume (OpenSSH's reput), or false.
func (s *ExchangeSession) PartialInfo(name string) (fs.FileInfo, bool) {
	rel, err := s.clean(name, s.access.Write)
	if err != nil {
		return nil, false
	}
	size, started, ok := s.x.parts.stat(s.account, rel)
	if !ok {
		return nil, false
	}
	return fileInfo{name: path.Base(rel), size: size, mod: started}, true
}

// Mkdir makes a folder.
func (s *ExchangeSession) Mkdir(name string) error {
	rel, err := s.clean(name, s.access.Write)
	if err != nil {
		return err
	}
	if rel == "." {
		return fs.ErrExist
	}
	return rootErr(s.x.root.Mkdir(rel, 0o755))
}

// Remove removes a file, or an empty folder.
func (s *ExchangeSession) Remove(name string) error {
	rel, err := s.clean(name, s.access.Delete)
	if err != nil {
		return err
	}
	if rel == "." {
		return ErrDenied
	}
	return rootErr(s.x.root.Remove(rel))
}

// Rename moves from to to. With replace (POSIX rename) an existing file at to is replaced,
// which needs Delete; without it, an existing to is an error, as SFTP's rename says.
func (s *ExchangeSession) Rename(from, to string, replace bool) error {
	src, err := s.clean(from, s.access.Write)
	if err != nil {
		return err
	}
	dst, err := s.clean(to, s.access.Write)
	if err != nil {
		return err
	}
	if src == "." || dst == "." {
		return ErrDenied
	}
	if _, err := s.x.root.Lstat(src); err != nil {
		return rootErr(err)
	}
	if fi, err := s.x.root.Lstat(dst); err == nil {
		if !replace {
			return fs.ErrExist
		}
		if !s.access.Delete || fi.IsDir() {
			return ErrDenied
		}
	}
	return rootErr(s.x.root.Rename(src, dst))
}

// StatFS returns the file system's numbers for the folder.
func (s *ExchangeSession) StatFS() (syscall.Statfs_t, error) {
	var st syscall.Statfs_t
	if !s.access.Read {
		return st, ErrDenied
	}
	f, err := s.x.root.Open(".")
	if err != nil {
		return st, rootErr(err)
	}
	defer f.Close()
	err = syscall.Fstatfs(int(f.Fd()), &st)
	return st, err
}

// SHA256 returns the SHA-256 of a file in the folder, read from disk.
func (s *ExchangeSession) SHA256(name string) (int64, string, error) {
	rel, err := s.clean(name, s.access.Read)
	if err != nil {
		return 0, "", err
	}
	f, err := s.x.root.Open(rel)
	if err != nil {
		return 0, "", rootErr(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return 0, "", ErrDenied
	}
	// A file just served whole, or just uploaded, was hashed then: a client checking its
	// download asks right after, and reading the file again would double the work.
	if sum, ok := s.x.sums.get(fi); ok {
		return fi.Size(), sum, nil
	}
	h := sha256.New()
	n, err := io.Copy(h, io.NewSectionReader(f, 0, fi.Size()))
	if err != nil {
		return 0, "", err
	}
	sum := fmtSum(h.Sum(nil))
	s.x.sums.put(fi, sum)
	return n, sum, nil
}

// sumCache remembers the SHA-256 of recently hashed files, by inode, size and modification
// time, so a file changed since is hashed again.
type sumCache struct {
	mu    sync.Mutex // guards m and order
	m     map[sumKey]string
	order []sumKey
}

type sumKey struct {
	dev, ino uint64
	size     int64
	mtime    int64
}

// sumCacheSize bounds the remembered sums.
const sumCacheSize = 4096

func keyOf(fi fs.FileInfo) (sumKey, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return sumKey{}, false
	}
	return sumKey{uint64(st.Dev), st.Ino, fi.Size(), fi.ModTime().UnixNano()}, true
}

func (c *sumCache) get(fi fs.FileInfo) (string, bool) {
	k, ok := keyOf(fi)
	if !ok {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	sum, ok := c.m[k]
	return sum, ok
}

func (c *sumCache) put(fi fs.FileInfo, sum string) {
	k, ok := keyOf(fi)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[sumKey]string{}
	}
	if _, had := c.m[k]; !had {
		c.order = append(c.order, k)
	}
	c.m[k] = sum
	for len(c.order) > sumCacheSize {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
}
