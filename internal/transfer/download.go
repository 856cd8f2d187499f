package transfer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/pkg/sftp"
	"golang.org/x/sys/unix"

	"github.com/buktu/buktu/internal/tmpfile"
)

// partSuffix marks a download in progress: it is renamed to its name only when complete and
// checked.
const partSuffix = ".buktu-part"

// Download fetches remote files or folders into localDir (or, for one file, to a local file
// name), resuming interrupted downloads and checking each file's SHA-256 against the host's.
func (c *Client) Download(ctx context.Context, remotes []string, local string, o UploadOptions) ([]Result, error) {
	stop := context.AfterFunc(ctx, func() { c.ssh.Close() })
	defer stop()
	lfi, lerr := os.Stat(local)
	localIsDir := lerr == nil && lfi.IsDir()
	var jobs []job
	for _, r := range remotes {
		fi, err := c.sftp.Stat(r)
		if err != nil {
			return nil, fmt.Errorf("%s on the host: %w", r, err)
		}
		if !fi.IsDir() {
			dst := local
			if localIsDir || len(remotes) > 1 {
				dst = filepath.Join(local, path.Base(r))
			}
			jobs = append(jobs, job{local: dst, remote: r, size: fi.Size()})
			continue
		}
		base := filepath.Join(local, path.Base(path.Clean("/"+r)))
		if !localIsDir && len(remotes) == 1 {
			base = local
		}
		w := c.sftp.Walk(r)
		for w.Step() {
			if err := w.Err(); err != nil {
				return nil, fmt.Errorf("list %s on the host: %w", w.Path(), err)
			}
			rel := pathRel(r, w.Path())
			dst := filepath.Join(base, filepath.FromSlash(rel))
			switch {
			case w.Stat().IsDir():
				if err := os.MkdirAll(dst, 0o755); err != nil {
					return nil, err
				}
			case w.Stat().Mode().IsRegular():
				jobs = append(jobs, job{local: dst, remote: w.Path(), size: w.Stat().Size()})
			}
		}
	}
	c.unnamed = unnamedWorks(local)
	if !o.SFTPOnly {
		if results, err := c.streamDownload(ctx, jobs, o); !errors.Is(err, errNoStream) {
			return results, err
		}
	}
	results := c.run(ctx, jobs, o, syncDownloads, c.placeDownload, c.downloadOne)
	return results, ctx.Err()
}

// syncDownloads makes a batch of downloaded files durable before any of them gets its name:
// one syncfs for the batch, instead of an fsync for each of thousands of small files.
func syncDownloads(batch []pending) {
	if len(batch) == 0 {
		return
	}
	dir, err := os.Open(filepath.Dir(batch[0].r.Local))
	if err != nil {
		return
	}
	defer dir.Close()
	if err := unix.Syncfs(int(dir.Fd())); err != nil {
		for _, p := range batch {
			if p.r.tmp != nil {
				p.r.tmp.Sync()
			} else if f, err := os.OpenFile(p.r.Local+partSuffix, os.O_RDWR, 0); err == nil {
				f.Sync()
				f.Close()
			}
		}
	}
}

// placeDownload gives a checked download its name; one that failed the check after a resume
// is removed, so the next try starts afresh.
func (c *Client) placeDownload(p pending) {
	part := p.r.Local + partSuffix
	if f := p.r.tmp; f != nil {
		p.r.tmp = nil
		defer f.Close()
		if p.r.Err != nil {
			return
		}
		err := tmpfile.Link(f, nil, p.r.Local)
		if errors.Is(err, fs.ErrExist) {
			// A get replaces a local file of the same name, as a rename would.
			os.Remove(part)
			if err = tmpfile.Link(f, nil, part); err == nil {
				err = os.Rename(part, p.r.Local)
			}
		}
		p.r.Err = err
		return
	}
	if p.r.Err != nil {
		if p.r.Resumed > 0 {
			os.Remove(part)
		}
		return
	}
	if err := os.Rename(part, p.r.Local); err != nil {
		p.r.Err = err
	}
}

func pathRel(base, p string) string {
	base = path.Clean(base)
	p = path.Clean(p)
	if p == base {
		return "."
	}
	if base == "." || base == "/" {
		return p
	}
	return p[len(base)+1:]
}

// downloadOne fetches one file over SFTP, into the local file openLocal gives it.
func (c *Client) downloadOne(sess *sftp.Client, j job, bar Bar) Result {
	r := Result{Local: j.local, Remote: j.remote, Size: j.size}
	h := sha256.New()
	offset := partialSize(j)
	lf, unnamed, err := c.openLocal(j, offset, h)
	if err != nil {
		r.Err = err
		return r
	}
	bar.SetCurrent(offset)
	r = fetch(sess, j, lf, offset, h, bar)
	if unnamed && r.Err == nil {
		r.tmp = lf // closed once it has its name
	} else {
		lf.Close()
	}
	return r
}

// openLocal opens where the download of j goes. A small one with nothing left of an earlier
// try goes to an unnamed file (unnamed is true), which gets its name once checked: one change
// to the folder instead of a create and a rename, and nothing to clean up if it fails. Others
// go to the partial file beside their name, which holds offset bytes from an earlier try;
// their hash goes into h.
func (c *Client) openLocal(j job, offset int64, h hash.Hash) (f *os.File, unnamed bool, err error) {
	dir := filepath.Dir(j.local)
	if err := c.mkdirOnce(dir); err != nil {
		return nil, false, err
	}
	part := j.local + partSuffix
	if offset == 0 && j.size < resumeMin && c.unnamed {
		if _, err := os.Lstat(part); errors.Is(err, fs.ErrNotExist) {
			if f, err := tmpfile.Create(dir, 0o644); err == nil {
				return f, true, nil
			}
		}
	}
	f, err = openPartial(part, offset, h)
	return f, false, err
}

// fetch receives the host's file from offset on into lf, at its offset, hashing it into h,
// which holds the hash of what lf has before offset.
func fetch(sess *sftp.Client, j job, lf *os.File, offset int64, h hash.Hash, bar Bar) Result {
	r := Result{Local: j.local, Remote: j.remote, Size: j.size, Resumed: offset}
	rf, err := sess.Open(j.remote)
	if err != nil {
		r.Err = fmt.Errorf("open on the host: %w", err)
		return r
	}
	defer rf.Close()
	if _, err := rf.Seek(offset, io.SeekStart); err != nil {
		r.Err = err
		return r
	}
	w := newSink(lf, h, bar, offset, j.size, nil)
	_, err = rf.WriteTo(w)
	sum := w.sum()
	switch {
	case err != nil:
		r.Err = fmt.Errorf("receive: %w", err)
	case w.err != nil:
		r.Err = w.err
	default:
		r.Size = offset + w.n
		r.SHA256 = hex.EncodeToString(sum)
	}
	return r
}

// unnamedWorks says whether downloads into local (a folder, or a file in one) can go to
// unnamed files (see tmpfile).
func unnamedWorks(local string) bool {
	dir := local
	if fi, err := os.Stat(local); err != nil || !fi.IsDir() {
		dir = filepath.Dir(local)
	}
	d, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer d.Close()
	return tmpfile.Works(d)
}

// mkdirOnce makes a local folder, once per download.
func (c *Client) mkdirOnce(dir string) error {
	if _, ok := c.made.Load(dir); ok {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	c.made.Store(dir, true)
	return nil
}

// List returns the entries of a folder on the host, or the file itself.
func (c *Client) List(p string) ([]fs.FileInfo, error) {
	fi, err := c.sftp.Stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return []fs.FileInfo{fi}, nil
	}
	return c.sftp.ReadDir(p)
}

// Remove removes a file, or with recursive a folder and all in it.
func (c *Client) Remove(p string, recursive bool) error {
	fi, err := c.sftp.Lstat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		if recursive {
			return c.sftp.RemoveAll(p)
		}
		return c.sftp.RemoveDirectory(p)
	}
	return c.sftp.Remove(p)
}

// Mkdir makes a folder on the host, with parents makes missing parents too.
func (c *Client) Mkdir(p string, parents bool) error {
	if parents {
		return c.sftp.MkdirAll(p)
	}
	return c.sftp.Mkdir(p)
}
