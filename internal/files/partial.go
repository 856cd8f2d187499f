package files

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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

// partials keeps uploads in progress in a hidden folder at the top of a served folder: a data
// file and a small meta file with the offset up to which the data is synced and the SHA-256
// state there.
type partials struct {
	root *os.Root
	dir  *os.File // the partial folder, where unnamed uploads are made; nil without them
	log  *slog.Logger

	mu     sync.Mutex         // guards active
	active map[string]*upload // keys of uploads open now, nil while one opens or is swept away
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
	p := &partials{root: root, log: log, active: map[string]*upload{}}
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
		p.root.Remove(k + ".json.tmp") // a full disk leaves it half written
		return err
	}
	return p.root.Rename(k+".json.tmp", k+".json")
}

// remove removes a partial upload's files, the meta file first: it must never outlive its
// partial file, or a later upload of the same name would trust it.
func (p *partials) remove(k string) {
	p.root.Remove(k + ".json")
	p.root.Remove(k + ".json.tmp")
	p.root.Remove(k + ".part")
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
		p.root.Remove(k + ".part") // a half copy resumes nothing, and may fill the disk
		return nil, fmt.Errorf("copy the file to append to: %w", err)
	}
	m.Size = n
	return p.newUpload(k, m, f, h, limit), nil
}

// prefix returns the resumable size of a partial upload and the SHA-256 of that prefix.
func (p *partials) prefix(account, rel string) (int64, string, error) {
	k := p.key(account, rel)
	if _, err := p.root.Stat(k + ".part"); err != nil {
		return 0, "", ErrNotFound
	}
	m, err := p.readMeta(k)
	if err != nil || m.Account != account || m.Path != rel {
		sum := sha256.Sum256(nil)
		return 0, hex.EncodeToString(sum[:]), nil
	}
	h, err := restoreHash(m.State)
	if err != nil {
		sum := sha256.Sum256(nil)
		return 0, hex.EncodeToString(sum[:]), nil
	}
	return m.Size, hex.EncodeToString(h.Sum(nil)), nil
}
