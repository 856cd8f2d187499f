package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/buktu/buktu/internal/auth"
	"github.com/buktu/buktu/internal/files"
)

// copyBuffer is the buffer an upload is copied through: large writes keep the disk busy and
// the upload's hashing cheap per byte.
const copyBuffer = 256 << 10

// maxNote is the longest note of a send; the inbox refuses longer ones too.
const maxNote = 64 << 10

// bodyReader remembers a read error, to tell a body that did not arrive from a disk that
// could not take it.
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// store streams body into u and places the file when all of it arrived. On any error the
// upload is kept as a partial file, never placed, so a half-sent file never looks complete.
func store(u *files.Upload, body io.Reader) error {
	br := &bodyReader{r: body}
	_, err := io.CopyBuffer(io.NewOffsetWriter(u, 0), br, make([]byte, copyBuffer))
	if err != nil {
		u.Interrupt()
		u.Close()
		if br.err != nil {
			return badRequest("the file did not arrive whole")
		}
		return err
	}
	return u.Close()
}

// drainIdle bounds each read of a body that is read only to be thrown away: a client that
// stops sending gets its answer and a closed connection.
const drainIdle = 30 * time.Second

// failBody answers an upload with err once the rest of its body has arrived. Go's server,
// answering before the body is read, discards at most 256 KiB of it and then closes the
// connection; a browser still sending sees only the reset, and may send the request again.
// Reading the rest costs the time the browser takes to send it, which it spends anyway.
func (s *Server) failBody(w http.ResponseWriter, r *http.Request, err error) {
	rc := http.NewResponseController(w)
	buf := make([]byte, copyBuffer)
	for r.Context().Err() == nil {
		rc.SetReadDeadline(time.Now().Add(drainIdle))
		if _, rerr := r.Body.Read(buf); rerr != nil {
			break
		}
	}
	rc.SetReadDeadline(time.Time{})
	s.fail(w, r, err)
}

// transferred returns the files callback that reports c's transfers to the activity log.
func (s *Server) transferred(c caller) func(files.Transfer) {
	return func(t files.Transfer) {
		if s.OnTransfer != nil {
			s.OnTransfer(c.account, c.remote, t)
		}
	}
}

// partFileName returns the file name of a multipart part from its Content-Disposition,
// folders and all: multipart.Part.FileName keeps only the last element.
func partFileName(disposition string) (string, error) {
	_, params, err := mime.ParseMediaType(disposition)
	if err != nil || params["filename"] == "" {
		return "", badRequest("bad request: a file part without a file name")
	}
	return params["filename"], nil
}

type sentFile struct {
	Name   string `json:"name"` // as stored, relative to the sender's inbox folder
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

type sendReply struct {
	Files []sentFile `json:"files"`
	Note  string     `json:"note"`
}

// send stores the files of a multipart form in the inbox, as they stream in, and the note
// beside them.
func (s *Server) send(w http.ResponseWriter, r *http.Request, c caller) {
	if err := s.need(r.Context(), c, auth.PrivSend); err != nil {
		s.failBody(w, r, err)
		return
	}
	if s.Inbox == nil {
		s.failBody(w, r, errUnavailable)
		return
	}
	mr, err := r.MultipartReader()
	if err != nil {
		s.failBody(w, r, badRequest("bad request: a multipart/form-data body is needed"))
		return
	}
	in := s.Inbox.Session(c.account, c.remote, s.transferred(c))
	reply := sendReply{Files: []sentFile{}}
	var note string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			s.failBody(w, r, badRequest("bad request: the form did not arrive whole"))
			return
		}
		switch p.FormName() {
		case "note":
			b, err := io.ReadAll(io.LimitReader(p, maxNote+1))
			switch {
			case err != nil:
				err = badRequest("bad request: the form did not arrive whole")
			case len(b) > maxNote:
				err = &apiError{http.StatusRequestEntityTooLarge, "note longer than 64 KiB"}
			}
			if err != nil {
				s.failBody(w, r, err)
				return
			}
			note = string(b)
		case "file":
			f, err := s.sendFile(in, p)
			if err != nil {
				s.failBody(w, r, err)
				return
			}
			reply.Files = append(reply.Files, f)
		default:
			s.failBody(w, r, badRequest("bad request: form fields are note and file"))
			return
		}
		p.Close()
	}
	if strings.TrimSpace(note) != "" {
		names := make([]string, len(reply.Files))
		for i, f := range reply.Files {
			names[i] = f.Name
		}
		if reply.Note, err = in.Note(note, names); err != nil {
			s.failBody(w, r, err)
			return
		}
	} else if len(reply.Files) == 0 {
		s.failBody(w, r, badRequest("nothing to send: no file and no note"))
		return
	}
	writeJSON(w, http.StatusOK, reply)
}

// sendFile streams one file part into the inbox.
func (s *Server) sendFile(in *files.InboxSession, p *multipart.Part) (sentFile, error) {
	name, err := partFileName(p.Header.Get("Content-Disposition"))
	if err != nil {
		return sentFile{}, err
	}
	u, err := in.Create(name, false)
	if err != nil {
		return sentFile{}, err
	}
	if err := store(u, p); err != nil {
		return sentFile{}, err
	}
	res, ok := in.Result(name)
	if !ok {
		return sentFile{}, fmt.Errorf("find the placed upload of %q", name)
	}
	return sentFile{Name: res.Path, Size: res.Size, SHA256: res.SHA256}, nil
}

// exchange returns c's session on the exchange folder with what c holds now. last, when not
// nil, receives the transfer the session reports.
func (s *Server) exchange(c caller, last *files.Transfer) *files.ExchangeSession {
	report := s.transferred(c)
	access := files.Access{
		Read:   s.has(c, auth.PrivExchangeRead),
		Write:  s.has(c, auth.PrivExchangeWrite),
		Delete: s.has(c, auth.PrivExchangeDelete),
	}
	return s.Exchange.Session(c.account, c.remote, access, func(t files.Transfer) {
		if last != nil {
			*last = t
		}
		report(t)
	})
}

// needExchange checks that there is an exchange folder and that c may use privs in it.
func (s *Server) needExchange(w http.ResponseWriter, r *http.Request, c caller, privs ...auth.Privilege) bool {
	if s.Exchange == nil {
		s.fail(w, r, errUnavailable)
		return false
	}
	for _, p := range privs {
		if err := s.need(r.Context(), c, p); err != nil {
			s.fail(w, r, err)
			return false
		}
	}
	return true
}

type entry struct {
	Name     string    `json:"name"`
	Size     int64     `json:"size"`
	Dir      bool      `json:"dir"`
	Modified time.Time `json:"modified"`
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, c caller) {
	if !s.needExchange(w, r, c, auth.PrivExchangeRead) {
		return
	}
	name := r.URL.Query().Get("path")
	rel, err := files.Clean(name, maxPath)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.exchange(c, nil).List(name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	entries := make([]entry, 0, len(list))
	for _, fi := range list {
		e := entry{Name: fi.Name(), Dir: fi.IsDir(), Modified: fi.ModTime().UTC()}
		if !e.Dir {
			e.Size = fi.Size()
		}
		entries = append(entries, e)
	}
	if rel == "." {
		rel = ""
	}
	writeJSON(w, http.StatusOK, struct {
		Path    string  `json:"path"`
		Entries []entry `json:"entries"`
	}{rel, entries})
}

func (s *Server) download(w http.ResponseWriter, r *http.Request, c caller) {
	if !s.needExchange(w, r, c, auth.PrivExchangeRead) {
		return
	}
	name := r.URL.Query().Get("path")
	d, err := s.exchange(c, nil).Open(name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer d.Close()
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(name)})
	if disposition == "" {
		disposition = "attachment"
	}
	w.Header().Set("Content-Disposition", disposition)
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", time.Time{}, io.NewSectionReader(d, 0, d.Size()))
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request, c caller) {
	if s.Exchange == nil {
		s.failBody(w, r, errUnavailable)
		return
	}
	if err := s.need(r.Context(), c, auth.PrivExchangeWrite); err != nil {
		s.failBody(w, r, err)
		return
	}
	name := r.URL.Query().Get("path")
	var t files.Transfer
	u, err := s.exchange(c, &t).Create(name, false)
	if errors.Is(err, files.ErrDenied) && s.mode(c, auth.PrivExchangeDelete) == auth.Ask {
		// Replacing a file destroys it, so it needs delete too: ask for that, then try again.
		if err := s.need(r.Context(), c, auth.PrivExchangeDelete); err != nil {
			s.failBody(w, r, err)
			return
		}
		u, err = s.exchange(c, &t).Create(name, false)
	}
	if err == nil {
		err = store(u, r.Body)
	}
	if err != nil {
		s.failBody(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, struct {
		Size   int64  `json:"size"`
		SHA256 string `json:"sha256"`
	}{t.Size, t.SHA256})
}

func (s *Server) mkdir(w http.ResponseWriter, r *http.Request, c caller) {
	if !s.needExchange(w, r, c, auth.PrivExchangeWrite) {
		return
	}
	req, ok := readJSON(w, r, parsePath)
	if !ok {
		return
	}
	s.done(w, r, s.exchange(c, nil).Mkdir(req.Path))
}

// rename needs delete, as the console's contract says, and write, as the exchange policy
// (the same as SFTP's) says for both names.
func (s *Server) rename(w http.ResponseWriter, r *http.Request, c caller) {
	if !s.needExchange(w, r, c, auth.PrivExchangeDelete, auth.PrivExchangeWrite) {
		return
	}
	req, ok := readJSON(w, r, parseRename)
	if !ok {
		return
	}
	s.done(w, r, s.exchange(c, nil).Rename(req.From, req.To, false))
}

func (s *Server) remove(w http.ResponseWriter, r *http.Request, c caller) {
	if !s.needExchange(w, r, c, auth.PrivExchangeDelete) {
		return
	}
	s.done(w, r, s.exchange(c, nil).Remove(r.URL.Query().Get("path")))
}

// done answers 204, or err.
func (s *Server) done(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
