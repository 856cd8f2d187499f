package progress

import (
	"io"
	"io/fs"
)

// Wrapping a file to count its bytes can cost speed: pkg/sftp's File.ReadFrom writes
// concurrently only when its source tells its length (Len, Size, *io.LimitedReader or Stat),
// and a plain counting wrapper hides that, halving upload speed. So the wrappers here keep
// what the transfer code relies on: ReadAt and WriteAt pass through for concurrent use, and
// NewReader keeps the size.

// CountingReaderAt counts the bytes ReadAt returns against Item. It is safe for concurrent
// use when R is (an *os.File is). For pkg/sftp's concurrent File.ReadFrom, pass
// io.NewSectionReader(CountingReaderAt{f, it}, off, n), whose Size tells the length.
type CountingReaderAt struct {
	R    io.ReaderAt
	Item *Item
}

// ReadAt reads from R and counts what was read.
func (c CountingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.R.ReadAt(p, off)
	c.Item.Add(n)
	return n, err
}

// CountingWriterAt counts the bytes WriteAt writes against Item, as downloads written at
// offsets by concurrent readers need. It is safe for concurrent use when W is.
type CountingWriterAt struct {
	W    io.WriterAt
	Item *Item
}

// WriteAt writes to W and counts what was written.
func (c CountingWriterAt) WriteAt(p []byte, off int64) (int, error) {
	n, err := c.W.WriteAt(p, off)
	c.Item.Add(n)
	return n, err
}

// NewReader returns a reader that counts what r reads against it. When r tells its length the
// way pkg/sftp looks for it (Len, Size, *io.LimitedReader, or Stat of a regular file), the
// returned reader has a Size method reporting the bytes left (for a file: left when NewReader
// was called), so
// io.Copy(sftpFile, NewReader(f, it)) still uploads concurrently.
func NewReader(r io.Reader, it *Item) io.Reader {
	c := &reader{r: r, it: it}
	if size, ok := sizeOf(r); ok {
		return &sizedReader{reader: c, size: size}
	}
	return c
}

// NewWriter returns a writer that counts what it writes to w against it. A download through
// io.Copy(NewWriter(f, it), sftpFile) keeps pkg/sftp's concurrent reads, because io.Copy
// prefers the source's WriteTo.
func NewWriter(w io.Writer, it *Item) io.Writer {
	return &writer{w: w, it: it}
}

type reader struct {
	r  io.Reader
	it *Item
}

func (c *reader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.it.Add(n)
	return n, err
}

type sizedReader struct {
	*reader
	size func() int64
}

// Size returns the bytes left to read.
func (c *sizedReader) Size() int64 { return c.size() }

type writer struct {
	w  io.Writer
	it *Item
}

func (c *writer) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.it.Add(n)
	return n, err
}

// sizeOf finds how many bytes r has left, in the order pkg/sftp's File.ReadFrom looks.
func sizeOf(r io.Reader) (func() int64, bool) {
	switch r := r.(type) {
	case interface{ Len() int }:
		return func() int64 { return int64(r.Len()) }, true
	case interface{ Size() int64 }:
		return r.Size, true
	case *io.LimitedReader:
		return func() int64 { return r.N }, true
	case interface{ Stat() (fs.FileInfo, error) }:
		info, err := r.Stat()
		if err != nil || !info.Mode().IsRegular() {
			return nil, false
		}
		var off int64
		if s, ok := r.(io.Seeker); ok {
			off, _ = s.Seek(0, io.SeekCurrent) // a resumed upload starts past the beginning
		}
		return func() int64 { return max(info.Size()-off, 0) }, true
	}
	return nil, false
}
