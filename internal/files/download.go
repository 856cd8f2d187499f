package files

import (
	"encoding/hex"
	"io/fs"
	"os"
	"sync"
	"time"
)

// Download is a file being read: an io.ReaderAt that hashes what it serves, so the activity
// log records the SHA-256 of every file read whole.
type Download struct {
	f       *os.File
	fi      fs.FileInfo
	sums    *sumCache
	tr      *tracker
	size    int64
	started time.Time
	done    func(Transfer)
	t       Transfer
	hashed  bool
	known   string // the file's SHA-256 from the cache, when it was there at Open

	once sync.Once
}

// ReadAt reads from the file.
func (d *Download) ReadAt(b []byte, off int64) (int, error) {
	n, err := d.f.ReadAt(b, off)
	d.tr.finished(off, n)
	return n, err
}

// Size returns the file's size when it was opened.
func (d *Download) Size() int64 { return d.size }

// Close ends the download and reports it.
func (d *Download) Close() error {
	d.once.Do(func() {
		if !d.hashed {
			n, sum := d.tr.stop()
			d.t.Size = n
			if n == d.size && d.known != "" {
				d.t.SHA256, d.t.Complete = d.known, true
			} else if n == d.size {
				h, err := restoreHash(sum)
				if err == nil {
					d.t.SHA256 = fmtSum(h.Sum(nil))
					d.t.Complete = true
					if d.sums != nil {
						d.sums.put(d.fi, d.t.SHA256)
					}
				}
			}
		}
		d.t.Duration = time.Since(d.started)
		if d.done != nil {
			d.done(d.t)
		}
	})
	return d.f.Close()
}

func fmtSum(sum []byte) string { return hex.EncodeToString(sum) }

// Sum returns, after Close, the size and SHA-256 of the file as served, when it was read
// whole; ok is false otherwise.
func (d *Download) Sum() (size int64, sha256 string, ok bool) {
	return d.t.Size, d.t.SHA256, d.t.Complete
}
