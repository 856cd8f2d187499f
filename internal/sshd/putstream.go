package sshd

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// SubsystemPut is buktu's own subsystem for writing many files at once, the way back of
// SubsystemGet: the client streams files back to back and the host answers each, in order,
// once the file is durable and in place. The host makes the files of a batch durable with one
// sync of its disk rather than one per file, and the client never waits for a file before
// sending the next, so ten thousand small files cost neither ten thousand round trips nor ten
// thousand flushes of the disk.
//
// From the client, for each file: a header frame ('F', an SSH string (the path), a uint64 (the
// size) and a uint64 (the offset it starts at: not 0 to resume an interrupted upload from
// what the host has of it, which the host checks)), data frames ('D', a uint32 length and that many bytes), then an end frame ('S')
// or, when the client cannot read the rest of its file, an abort frame ('X'). The client ends
// the stream by closing its side. From the host, for each file in order: 'S', an SSH string
// (the path the file was placed under), a uint64 size and 32 bytes of SHA-256 computed by the
// host; or 'E' and an SSH string saying why the file was not stored.
const SubsystemPut = "put@buktu"

// Frame kinds of the put stream, beside frameData, frameEnd and frameError.
const (
	frameHeader = 'F'
	frameAbort  = 'X'
)

// putBatch is how many finished files the host holds (open, not yet durable) before it makes
// them durable and answers; putBatchBytes how many bytes.
const (
	putBatch      = 128
	putBatchBytes = 32 << 20
)

// PutFile is a file the host receives on a put stream. The message of an error from WriteAt
// goes to the client, so it must not reveal host paths.
type PutFile interface {
	io.WriterAt
	// Written says all of the file's data is written: the host may finish with it (hash the
	// rest, let go of buffers) while it waits for its batch.
	Written()
}

// PutSink is where the host puts the files of a put stream.
type PutSink interface {
	// Create starts a file, or with offset > 0 continues an interrupted upload that holds
	// offset bytes; an error's message goes to the client.
	Create(path string, size, offset int64) (PutFile, error)
	// Finish makes complete files durable and places them, and returns for each its placed
	// path, size and SHA-256, or an Error for the client.
	Finish(files []PutFile) []FileSum
	// Discard drops a file that will not be finished.
	Discard(f PutFile)
	// Interrupt keeps a file whose stream broke in the middle as a partial upload, to be
	// resumed as an interrupted SFTP upload would be.
	Interrupt(f PutFile)
}

// putAck is one answer the host owes, in order: a file to finish, or an error already known.
type putAck struct {
	f   PutFile
	err string
}

// ServePut receives one put stream from rw into sink. It returns when the client ends the
// stream, or with the error that broke it: the file it broke in is then interrupted (kept to
// resume), and files complete but not yet answered are discarded, since the client will send
// them again.
func ServePut(rw io.ReadWriter, sink PutSink) error {
	r := bufio.NewReaderSize(rw, 256<<10)
	w := bufio.NewWriterSize(rw, 64<<10)
	var (
		queue   []putAck
		batched int64
		cur     PutFile // the file being received; nil between files or after it failed
		inFile  bool
		curErr  string
		off     int64
	)
	fail := func(err error) error {
		if cur != nil {
			sink.Interrupt(cur)
		}
		for _, a := range queue {
			if a.f != nil {
				sink.Discard(a.f)
			}
		}
		return err
	}
	flush := func() error {
		var files []PutFile
		for _, a := range queue {
			if a.f != nil {
				files = append(files, a.f)
			}
		}
		var sums []FileSum
		if len(files) > 0 {
			sums = sink.Finish(files)
		}
		k := 0
		for _, a := range queue {
			if a.f == nil {
				if err := writeAckError(w, a.err); err != nil {
					return err
				}
				continue
			}
			if err := writeAck(w, sums[k]); err != nil {
				return err
			}
			k++
		}
		queue, batched = queue[:0], 0
		return w.Flush()
	}
	var hdr [8]byte
	for {
		kind, err := r.ReadByte()
		if errors.Is(err, io.EOF) && !inFile {
			if err := flush(); err != nil {
				return fail(err)
			}
			return nil
		}
		if err != nil {
			return fail(fmt.Errorf("read put stream: %w", unexpected(err)))
		}
		switch kind {
		case frameHeader:
			if inFile {
				return fail(errors.New("put stream: a file began inside another"))
			}
			p, err := readString(r, maxGetPath)
			if err != nil {
				return fail(err)
			}
			if _, err := io.ReadFull(r, hdr[:]); err != nil {
				return fail(fmt.Errorf("read put stream: %w", unexpected(err)))
			}
			size := binary.BigEndian.Uint64(hdr[:])
			if _, err := io.ReadFull(r, hdr[:]); err != nil {
				return fail(fmt.Errorf("read put stream: %w", unexpected(err)))
			}
			from := binary.BigEndian.Uint64(hdr[:])
			if size > 1<<62 || from > size {
				return fail(fmt.Errorf("put stream: size %d from %d is out of range", size, from))
			}
			inFile, off, curErr = true, int64(from), ""
			if cur, err = sink.Create(p, int64(size), int64(from)); err != nil {
				cur, curErr = nil, err.Error()
			}
		case frameData:
			if !inFile {
				return fail(errors.New("put stream: data outside a file"))
			}
			if _, err := io.ReadFull(r, hdr[:4]); err != nil {
				return fail(fmt.Errorf("read put stream: %w", unexpected(err)))
			}
			n := int(binary.BigEndian.Uint32(hdr[:4]))
			if n > maxFrame {
				return fail(fmt.Errorf("put stream frame of %d bytes: at most %d", n, maxFrame))
			}
			for n > 0 {
				b, err := r.Peek(min(n, r.Size()))
				if len(b) == 0 {
					return fail(fmt.Errorf("read put stream: %w", unexpected(err)))
				}
				if cur != nil {
					if _, err := cur.WriteAt(b, off); err != nil {
						sink.Discard(cur)
						cur, curErr = nil, err.Error()
					}
				}
				r.Discard(len(b))
				off += int64(len(b))
				n -= len(b)
			}
		case frameEnd, frameAbort:
			if !inFile {
				return fail(errors.New("put stream: end outside a file"))
			}
			inFile = false
			switch {
			case kind == frameAbort:
				if cur != nil {
					sink.Discard(cur)
				}
				queue = append(queue, putAck{err: "the sender could not read the file"})
			case cur != nil:
				cur.Written()
				queue = append(queue, putAck{f: cur})
				batched += off + 1 // an empty file counts too
			default:
				queue = append(queue, putAck{err: curErr})
			}
			cur = nil
			if len(queue) >= putBatch || batched >= putBatchBytes {
				if err := flush(); err != nil {
					return fail(err)
				}
			}
		default:
			return fail(fmt.Errorf("put stream: unknown frame %q", kind))
		}
	}
}

// readString reads a uint32 length and that many bytes, at most max.
func readString(r *bufio.Reader, max int) (string, error) {
	var l [4]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return "", fmt.Errorf("read put stream: %w", unexpected(err))
	}
	n := binary.BigEndian.Uint32(l[:])
	if n > uint32(max) {
		return "", fmt.Errorf("put stream: string of %d bytes, at most %d", n, max)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("read put stream: %w", unexpected(err))
	}
	return string(b), nil
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func writeAck(w *bufio.Writer, s FileSum) error {
	if s.Error != "" {
		return writeAckError(w, s.Error)
	}
	raw, err := hex.DecodeString(s.SHA256)
	if err != nil || len(raw) != 32 {
		return writeAckError(w, "no SHA-256 for the file")
	}
	b := appendString([]byte{frameEnd}, s.Path)
	b = binary.BigEndian.AppendUint64(b, s.Size)
	_, err = w.Write(append(b, raw...))
	return err
}

func writeAckError(w *bufio.Writer, msg string) error {
	if len(msg) > maxMessage {
		msg = msg[:maxMessage]
	}
	_, err := w.Write(appendString([]byte{frameError}, msg))
	return err
}

// PutWriter sends files on a put stream.
type PutWriter struct {
	w   *bufio.Writer
	buf []byte
}

// NewPutWriter writes a put stream to w.
func NewPutWriter(w io.Writer) *PutWriter {
	return &PutWriter{w: bufio.NewWriterSize(w, 64<<10), buf: make([]byte, 5+maxFrame)}
}

// Send sends one file: its path, its size and what r yields from offset on (offset > 0
// resumes an upload the host holds offset bytes of), and returns how many bytes it sent. When
// r fails, the file is aborted on the stream (the host drops it) and r's error is returned as
// a *SourceError; any other error means the stream failed.
func (p *PutWriter) Send(path string, size, offset int64, r io.Reader) (int64, error) {
	if len(path) > maxGetPath || size < 0 || offset < 0 || offset > size {
		return 0, fmt.Errorf("cannot send %q of %d bytes from %d", path, size, offset)
	}
	hdr := binary.BigEndian.AppendUint64(appendString([]byte{frameHeader}, path), uint64(size))
	hdr = binary.BigEndian.AppendUint64(hdr, uint64(offset))
	if _, err := p.w.Write(hdr); err != nil {
		return 0, err
	}
	var sent int64
	for {
		n, rerr := io.ReadFull(r, p.buf[5:])
		if n > 0 {
			p.buf[0] = frameData
			binary.BigEndian.PutUint32(p.buf[1:5], uint32(n))
			if _, err := p.w.Write(p.buf[:5+n]); err != nil {
				return sent, err
			}
			sent += int64(n)
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			return sent, p.w.WriteByte(frameEnd)
		}
		if rerr != nil {
			if err := p.w.WriteByte(frameAbort); err != nil {
				return sent, err
			}
			return sent, &SourceError{rerr}
		}
	}
}

// Flush sends what is buffered.
func (p *PutWriter) Flush() error { return p.w.Flush() }

// SourceError is a local file that could not be read while it was sent.
type SourceError struct{ Err error }

func (e *SourceError) Error() string { return e.Err.Error() }
func (e *SourceError) Unwrap() error { return e.Err }

// ReadPutAck reads the host's answer for the next file: the FileSum of the file as placed,
// or a *FileError saying why it was not stored. Any other error means the stream failed.
func ReadPutAck(r *bufio.Reader) (FileSum, error) {
	kind, err := r.ReadByte()
	if err != nil {
		return FileSum{}, fmt.Errorf("read put answers: %w", unexpected(err))
	}
	switch kind {
	case frameEnd:
		p, err := readString(r, maxGetPath)
		if err != nil {
			return FileSum{}, err
		}
		var b [8 + 32]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return FileSum{}, fmt.Errorf("read put answers: %w", unexpected(err))
		}
		return FileSum{Path: p, Size: binary.BigEndian.Uint64(b[:8]), SHA256: hex.EncodeToString(b[8:])}, nil
	case frameError:
		msg, err := readString(r, maxMessage)
		if err != nil {
			return FileSum{}, err
		}
		return FileSum{}, &FileError{Message: msg}
	}
	return FileSum{}, fmt.Errorf("put answers: unknown frame %q", kind)
}
