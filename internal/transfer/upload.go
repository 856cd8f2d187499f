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
	"sync"

	"github.com/pkg/sftp"

	"github.com/buktu/buktu/internal/sshd"
)

// Meter hears of a transfer's progress; Bar is one file's.
type Meter interface {
	Start(name string, size int64) Bar
}

// Bar is one file's progress.
type Bar interface {
	SetCurrent(n int64)
	Add(n int)
	Done(err error)
}

type noMeter struct{}
type noBar struct{}

func (noMeter) Start(string, int64) Bar { return noBar{} }
func (noBar) SetCurrent(int64)          {}
func (noBar) Add(int)                   {}
func (noBar) Done(error)                {}

// resumeMin is the smallest file worth resuming: below it, sending again is cheaper than the
// round trips to check what arrived.
const resumeMin = 4 << 20

// smallFile is the largest file sent in one write request.
const smallFile = 128 << 10

// UploadOptions tune an upload.
type UploadOptions struct {
	Parallel int   // files at once; 0 means 8
	Meter    Meter // nil means silent
	// SFTPOnly moves every file by SFTP requests, as any SFTP client would, even when the
	// host offers buktu's get and put streams.
	SFTPOnly bool
}

// Result is what became of one file.
type Result struct {
	Local   string
	Remote  string // where the host placed it
	Size    int64
	SHA256  string
	Resumed int64
	Err     error

	tmp  *os.File      // a download not yet named (see tmpfile), until it is checked
	host *sshd.FileSum // the host's size and sum, when they came with the data
}

type job struct {
	local, remote string
	size          int64
}

// plan lists the files under the local paths with the remote names they get under base, and
// the folders to make first.
func plan(locals []string, base string) (dirs []string, jobs []job, err error) {
	for _, l := range locals {
		l = filepath.Clean(l)
		fi, err := os.Stat(l)
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", l, err)
		}
		name := filepath.Base(l)
		if !fi.IsDir() {
			if !fi.Mode().IsRegular() {
				return nil, nil, fmt.Errorf("%s is not a regular file", l)
			}
			jobs = append(jobs, job{l, path.Join(base, name), fi.Size()})
			continue
		}
		err = filepath.WalkDir(l, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(l, p)
			remote := path.Join(base, name, filepath.ToSlash(rel))
			if d.IsDir() {
				dirs = append(dirs, remote)
				return nil
			}
			if !d.Type().IsRegular() {
				return nil // sockets, devices, and symlinks are not sent
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			jobs = append(jobs, job{p, remote, info.Size()})
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", l, err)
		}
	}
	return dirs, jobs, nil
}

// Upload sends local files and folders to base on the host (the inbox top on the send port,
// a folder on the exchange port), resuming interrupted uploads and checking each file's
// SHA-256 against the host's. It returns one Result per file.
func (c *Client) Upload(ctx context.Context, locals []string, base string, o UploadOptions) ([]Result, error) {
	dirs, jobs, err := plan(locals, base)
	if err != nil {
		return nil, err
	}
	return c.upload(ctx, dirs, jobs, o)
}

func (c *Client) upload(ctx context.Context, dirs []string, jobs []job, o UploadOptions) ([]Result, error) {
	for _, d := range dirs {
		if err := c.sftp.Mkdir(d); err != nil {
			if fi, serr := c.sftp.Stat(d); serr != nil || !fi.IsDir() {
				return nil, fmt.Errorf("make folder %s on the host: %w", d, err)
			}
		}
	}
	// Cancelling drops the connection rather than closing files, which the host would take as
	// complete: what is in flight stays partial, to resume.
	stop := context.AfterFunc(ctx, func() { c.ssh.Close() })
	defer stop()
	// Files go on put streams; over SFTP with --sftp, or when the host does not take them.
	partials := c.partials(jobs)
	var results []Result
	if !o.SFTPOnly {
		results = make([]Result, len(jobs))
		if c.streamUpload(ctx, jobs, results, partials, o) != nil {
			results = nil
		}
	}
	if results == nil {
		results = c.run(ctx, jobs, o, nil, nil, func(sess *sftp.Client, j job, bar Bar) Result {
			return c.uploadOne(sess, j, partials[j.remote], bar)
		})
	}
	for i := range results {
		if results[i].Err == nil && results[i].SHA256 == "" {
			results[i].Err = ctx.Err()
			if results[i].Err == nil {
				results[i].Err = errors.New("not sent")
			}
		}
	}
	return results, ctx.Err()
}

// run transfers jobs, o.Parallel at a time, each worker on an SFTP session of its own, and
// checks every file that arrived with the host's SHA-256 in batches; before runs on each
// batch, after once a file is checked.
func (c *Client) run(ctx context.Context, jobs []job, o UploadOptions, before func([]pending), after func(pending), one func(*sftp.Client, job, Bar) Result) []Result {
	meter := o.Meter
	if meter == nil {
		meter = noMeter{}
	}
	parallel := o.Parallel
	if parallel <= 0 {
		parallel = 8
	}
	results := make([]Result, len(jobs))
	v := newVerifier(c, before, after)
	next := make(chan int)
	var wg sync.WaitGroup
	for w := range min(parallel, max(len(jobs), 1)) {
		wg.Go(func() {
			sess, err := c.session(w)
			for i := range next {
				j := jobs[i]
				bar := meter.Start(j.remote, j.size)
				if err != nil {
					results[i] = Result{Local: j.local, Remote: j.remote, Err: err}
				} else {
					results[i] = one(sess, j, bar)
				}
				if results[i].Err != nil {
					bar.Done(results[i].Err)
					continue
				}
				v.add(i, &results[i], bar)
			}
		})
	}
	for i := range jobs {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	v.close()
	return results
}

// partials asks the host, in one request, what arrived of interrupted uploads of big files.
func (c *Client) partials(jobs []job) map[string]sshd.FileSum {
	var paths []string
	for _, j := range jobs {
		if j.size >= resumeMin {
			paths = append(paths, j.remote)
		}
	}
	found := map[string]sshd.FileSum{}
	if len(paths) == 0 {
		return found
	}
	ok, reply, err := c.ssh.SendRequest(sshd.ReqPartial, true, sshd.MarshalPaths(paths))
	if err != nil || !ok {
		return found
	}
	sums, err := sshd.UnmarshalSums(reply)
	if err != nil || len(sums) != len(paths) {
		return found
	}
	for i, s := range sums {
		if s.Error == "" && s.Size > 0 {
			found[paths[i]] = s
		}
	}
	return found
}

// hashReader hashes and counts what is read through it.
type hashReader struct {
	r   io.Reader
	h   hash.Hash
	bar Bar
}

func (h *hashReader) Read(b []byte) (int, error) {
	n, err := h.r.Read(b)
	h.h.Write(b[:n])
	h.bar.Add(n)
	return n, err
}

// resumeFrom returns where an upload of f (size bytes) continues, given what the host holds of
// an interrupted one: there when f starts with exactly that, else 0. f is left at that offset,
// and h holds the hash of what lies before it.
func resumeFrom(f *os.File, h hash.Hash, size int64, partial sshd.FileSum) int64 {
	if partial.Size == 0 || int64(partial.Size) > size {
		return 0
	}
	if _, err := io.CopyN(h, f, int64(partial.Size)); err == nil && hex.EncodeToString(h.Sum(nil)) == partial.SHA256 {
		return int64(partial.Size)
	}
	h.Reset()
	f.Seek(0, io.SeekStart)
	return 0
}

func (c *Client) uploadOne(sess *sftp.Client, j job, partial sshd.FileSum, bar Bar) Result {
	r := Result{Local: j.local, Remote: j.remote, Size: j.size}
	f, err := os.Open(j.local)
	if err != nil {
		r.Err = err
		return r
	}
	defer f.Close()
	h := sha256.New()
	offset := resumeFrom(f, h, j.size, partial)
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if offset > 0 {
		flags = os.O_WRONLY | os.O_CREATE // no truncation: the host continues the partial file
	}
	rf, err := sess.OpenFile(j.remote, flags)
	if err != nil {
		r.Err = fmt.Errorf("open on the host: %w", err)
		return r
	}
	r.Resumed = offset
	bar.SetCurrent(offset)
	src := &hashReader{r: f, h: h, bar: bar}
	remaining := j.size - offset
	if remaining <= smallFile {
		buf, rerr := io.ReadAll(io.LimitReader(src, remaining))
		if rerr == nil && len(buf) > 0 {
			_, rerr = rf.WriteAt(buf, offset)
		}
		err = rerr
	} else {
		if _, err = rf.Seek(offset, io.SeekStart); err == nil {
			_, err = rf.ReadFromWithConcurrency(io.LimitReader(src, remaining), 64)
		}
	}
	if err != nil {
		// Closing the file would tell the host it is complete. Dropping the connection leaves
		// it partial, to resume; the other files in flight stay partial too.
		c.ssh.Close()
		r.Err = fmt.Errorf("send: %w", err)
		return r
	}
	if err := rf.Close(); err != nil {
		r.Err = fmt.Errorf("finish on the host: %w", err)
		return r
	}
	r.SHA256 = hex.EncodeToString(h.Sum(nil))
	return r
}
