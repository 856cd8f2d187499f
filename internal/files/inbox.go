package files

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/buktu/buktu/internal/tmpfile"
)

// ErrDenied is returned for what the policy never allows.
var ErrDenied = errors.New("files: permission denied")

// ErrNotFound is returned for what does not exist, or must look as if it did not.
var ErrNotFound = errors.New("files: no such file")

// Options are the limits a served folder enforces. The zero value means no size limit and
// paths up to 1024 bytes.
type Options struct {
	MaxFileSize   int64
	MaxPathLength int
	Logger        *slog.Logger
}

func (o Options) maxPath() int {
	if o.MaxPathLength <= 0 {
		return 1024
	}
	return o.MaxPathLength
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// Inbox is the Send service's folder: every sender writes into a folder of their own name, may
// create files and folders there, and may never list, read, remove or overwrite anything. A name
// that is taken gets a distinct one; both files are kept.
type Inbox struct {
	opts  Options
	root  *os.Root
	parts *partials

	mu     sync.Mutex        // guards recent
	recent map[string]Result // recent uploads by account and the path they named
}

// Recent uploads stay known to their sender for recentFor, so that a client that checks a
// file after sending it works even on another connection (rclone keeps a pool of them).
const (
	recentFor = 15 * time.Minute
	recentMax = 20000
)

// OpenInbox opens (and creates) the inbox folder dir.
func OpenInbox(dir string, opts Options) (*Inbox, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("make inbox folder: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open inbox folder: %w", err)
	}
	parts, err := newPartials(root, opts.logger())
	if err != nil {
		root.Close()
		return nil, err
	}
	return &Inbox{opts: opts, root: root, parts: parts, recent: map[string]Result{}}, nil
}

// Close releases the folder.
func (in *Inbox) Close() error {
	in.parts.close()
	return in.root.Close()
}

// Result is what became of one upload.
type Result struct {
	Path   string // where the file was placed, relative to the sender's folder (or the exchange top)
	Size   int64
	SHA256 string
	Mod    time.Time
}

// InboxSession is one sender's connection to the inbox. The sender may check (stat, SHA-256)
// what they sent in the last minutes, and nothing else.
type InboxSession struct {
	in      *Inbox
	account string
	remote  string
	onDone  func(Transfer)

	active atomic.Int32 // uploads open now
	ended  atomic.Int64 // when the last upload ended, in Unix nanoseconds
}

// finishWindow is how long after a transfer a session still counts as busy: the client's
// check of what it sent (its SHA-256, asked right after the close) belongs to the transfer,
// and a stopping host must not cut the connection in between.
const finishWindow = 2 * time.Second

// Busy says whether an upload is open on this session, or ended a moment ago.
func (s *InboxSession) Busy() bool {
	return s.active.Load() > 0 || time.Since(time.Unix(0, s.ended.Load())) < finishWindow
}

// Session starts account's session from remote; onDone, which may be nil, hears of every
// finished or interrupted upload.
func (in *Inbox) Session(account, remote string, onDone func(Transfer)) *InboxSession {
	return &InboxSession{in: in, account: account, remote: remote, onDone: onDone}
}

func (s *InboxSession) clean(name string) (string, error) {
	rel, err := Clean(name, s.in.opts.maxPath())
	if err != nil {
		return "", err
	}
	return rel, nil
}

// Create starts an upload of name. With resume, an interrupted upload of the same name by the
// same sender continues from its resumable size; otherwise it starts afresh.
func (s *InboxSession) Create(name string, resume bool) (*Upload, error) {
	rel, err := s.clean(name)
	if err != nil {
		return nil, err
	}
	if rel == "." {
		return nil, ErrDenied
	}
	var base func() (*os.File, error)
	if r, ok := s.in.recall(s.account, rel); ok && resume {
		// The sender was told (by stat) of this recent upload and appends to it; the result
		// is placed under a new name, as always.
		base = func() (*os.File, error) { return s.in.root.Open(path.Join(s.account, r.Path)) }
	}
	u, err := s.in.parts.openUpload(s.account, rel, resume, s.in.opts.MaxFileSize, base)
	if err != nil {
		return nil, err
	}
	u.remote, u.service = s.remote, "send"
	u.place = func(f *os.File, part string) (string, error) { return s.place(f, part, rel) }
	s.active.Add(1)
	u.done = func(t Transfer) {
		s.ended.Store(time.Now().UnixNano())
		s.active.Add(-1)
		if t.Complete {
			s.in.remember(s.account, rel, Result{Path: strings.TrimPrefix(t.Path, s.account+"/"), Size: t.Size, SHA256: t.SHA256, Mod: time.Now()})
		}
		if s.onDone != nil {
			s.onDone(t)
		}
	}
	return &Upload{u}, nil
}

// place moves a finished upload to the sender's folder under a name nobody has: the name asked
// for, or "name (2).ext" and so on. A hard link never replaces what is there, so two uploads
// finishing at once cannot overwrite each other.
func (s *InboxSession) place(f *os.File, part, rel string) (string, error) {
	dir, file := path.Split(path.Join(s.account, rel))
	dir = strings.TrimSuffix(dir, "/")
	ext := path.Ext(file)
	stem := strings.TrimSuffix(file, ext)
	if stem == "" { // ".bashrc" keeps its name whole
		stem, ext = file, ""
	}
	move, err := s.in.mover(f, part, dir)
	if err != nil {
		return "", err
	}
	defer move.close()
	for i := 1; i <= 10000; i++ {
		name := file
		if i > 1 {
			name = stem + " (" + strconv.Itoa(i) + ")" + ext
		}
		err := move.noReplace(name)
		if err == nil {
			return dir + "/" + name, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("place upload: %w", err)
		}
	}
	return "", fmt.Errorf("place upload: %w: too many files named %q", ErrDenied, file)
}

// mover moves one partial file into a folder of the inbox without ever replacing a file.
type mover struct {
	in       *Inbox
	f        *os.File // the upload's data
	part     string   // the partial file, relative to the inbox; "" when f is unnamed
	from, to *os.File // the partial folder (nil for an unnamed file) and the target folder, opened inside the root
}

// mover opens the folders of a move, making the target folder when it is missing. Both are
// opened through the root, so the names used with their descriptors (no slashes) cannot
// leave it.
func (in *Inbox) mover(f *os.File, part, dir string) (*mover, error) {
	if part == "" {
		to, err := in.openTarget(dir)
		if err != nil {
			return nil, err
		}
		return &mover{in: in, f: f, to: to}, nil
	}
	from, err := in.root.Open(path.Dir(part))
	if err != nil {
		return nil, fmt.Errorf("open partial folder: %w", err)
	}
	to, err := in.openTarget(dir)
	if err != nil {
		from.Close()
		return nil, err
	}
	return &mover{in: in, f: f, part: part, from: from, to: to}, nil
}

// openTarget opens a folder of the inbox, making it when it is missing.
func (in *Inbox) openTarget(dir string) (*os.File, error) {
	to, err := in.root.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := in.root.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("make inbox folder: %w", err)
		}
		to, err = in.root.Open(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("open inbox folder: %w", err)
	}
	return to, nil
}

func (m *mover) close() {
	if m.from != nil {
		m.from.Close()
	}
	m.to.Close()
}

// noReplace moves the partial file to name in the target folder, or fails with fs.ErrExist.
// An unnamed file gets the name by a link; a named one by one renameat2(RENAME_NOREPLACE), or
// on a file system without it a hard link and an unlink. None ever replaces a file.
func (m *mover) noReplace(name string) error {
	if m.part == "" {
		err := tmpfile.Link(m.f, m.to, name)
		if errors.Is(err, fs.ErrExist) {
			return fs.ErrExist
		}
		return err
	}
	err := unix.Renameat2(int(m.from.Fd()), path.Base(m.part), int(m.to.Fd()), name, unix.RENAME_NOREPLACE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EEXIST):
		return fs.ErrExist
	case !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOSYS):
		return err
	}
	if err := unix.Linkat(int(m.from.Fd()), path.Base(m.part), int(m.to.Fd()), name, 0); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return fs.ErrExist
		}
		return err
	}
	return unix.Unlinkat(int(m.from.Fd()), path.Base(m.part), 0)
}

// Mkdir makes a folder in the sender's folder; one that exists already is fine.
func (s *InboxSession) Mkdir(name string) error {
	rel, err := s.clean(name)
	if err != nil {
		return err
	}
	return s.in.root.MkdirAll(path.Join(s.account, rel), 0o755)
}

// Stat tells the sender only what they may know: their own folders, their own interrupted
// uploads (with the size to resume from) and what this connection sent.
func (s *InboxSession) Stat(name string) (fs.FileInfo, error) {
	rel, err := s.clean(name)
	if err != nil {
		return nil, err
	}
	if rel == "." {
		return dirInfo{name: "/"}, nil
	}
	if r, ok := s.in.recall(s.account, rel); ok {
		return fileInfo{name: path.Base(rel), size: r.Size, mod: r.Mod}, nil
	}
	if size, started, ok := s.in.parts.stat(s.account, rel); ok {
		return fileInfo{name: path.Base(rel), size: size, mod: started}, nil
	}
	fi, err := s.in.root.Lstat(path.Join(s.account, rel))
	if err == nil && fi.IsDir() {
		return dirInfo{name: path.Base(rel), mod: fi.ModTime()}, nil
	}
	return nil, ErrNotFound
}

// Result returns what became of this connection's upload of name.
func (s *InboxSession) Result(name string) (Result, bool) {
	rel, err := s.clean(name)
	if err != nil {
		return Result{}, false
	}
	return s.in.recall(s.account, rel)
}

func (in *Inbox) remember(account, rel string, r Result) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.recent) >= recentMax {
		for k, v := range in.recent {
			if time.Since(v.Mod) > recentFor || len(in.recent) >= recentMax {
				delete(in.recent, k)
			}
		}
	}
	in.recent[account+"\x00"+rel] = r
}

func (in *Inbox) recall(account, rel string) (Result, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	r, ok := in.recent[account+"\x00"+rel]
	if !ok || time.Since(r.Mod) > recentFor {
		return Result{}, false
	}
	return r, true
}

// Partial returns the resumable size of the sender's interrupted upload of name and the
// SHA-256 of that prefix, so a client can check what arrived before it resumes.
func (s *InboxSession) Partial(name string) (int64, string, error) {
	rel, err := s.clean(name)
	if err != nil {
		return 0, "", err
	}
	return s.in.parts.prefix(s.account, rel)
}

// Note stores a note that came with a send beside the files, as note-<time>.txt, and returns
// its name.
func (s *InboxSession) Note(text string, files []string) (string, error) {
	if len(text) > 64<<10 {
		return "", fmt.Errorf("%w: note longer than 64 KiB", ErrDenied)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s (%s)\nDate: %s\n", s.account, s.remote, time.Now().Format(time.RFC1123Z))
	if len(files) > 0 {
		fmt.Fprintf(&b, "Files: %s\n", strings.Join(files, ", "))
	}
	b.WriteString("\n" + text)
	if !strings.HasSuffix(text, "\n") {
		b.WriteString("\n")
	}
	if err := s.in.root.MkdirAll(s.account, 0o755); err != nil {
		return "", fmt.Errorf("make inbox folder: %w", err)
	}
	stamp := time.Now().Format("20060102-150405")
	for i := 1; i <= 1000; i++ {
		name := path.Join(s.account, "note-"+stamp+".txt")
		if i > 1 {
			name = path.Join(s.account, "note-"+stamp+"-"+strconv.Itoa(i)+".txt")
		}
		f, err := s.in.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("write note: %w", err)
		}
		_, err = f.WriteString(b.String())
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return strings.TrimPrefix(name, s.account+"/"), err
	}
	return "", fmt.Errorf("write note: %w", fs.ErrExist)
}

// Upload is a file being uploaded: an io.WriterAt whose Close places it when complete.
type Upload struct{ *upload }

type fileInfo struct {
	name string
	size int64
	mod  time.Time
}

func (f fileInfo) Name() string       { return f.name }
func (f fileInfo) Size() int64        { return f.size }
func (f fileInfo) Mode() fs.FileMode  { return 0o600 }
func (f fileInfo) ModTime() time.Time { return f.mod }
func (f fileInfo) IsDir() bool        { return false }
func (f fileInfo) Sys() any           { return nil }

type dirInfo struct {
	name string
	mod  time.Time
}

func (d dirInfo) Name() string       { return d.name }
func (d dirInfo) Size() int64        { return 0 }
func (d dirInfo) Mode() fs.FileMode  { return fs.ModeDir | 0o700 }
func (d dirInfo) ModTime() time.Time { return d.mod }
func (d dirInfo) IsDir() bool        { return true }
func (d dirInfo) Sys() any           { return nil }
