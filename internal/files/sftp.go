package files

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"time"

	"github.com/pkg/sftp"
)

// status maps a policy error to what an SFTP client hears: a status code and Explain's
// message, which never carries a host path.
func status(err error) error {
	if err == nil {
		return nil
	}
	code, msg := Explain(err)
	fx := sftp.ErrSSHFxFailure
	switch code {
	case CodeDenied:
		fx = sftp.ErrSSHFxPermissionDenied
	case CodeNotFound:
		fx = sftp.ErrSSHFxNoSuchFile
	}
	return &statusError{msg: msg, fx: fx}
}

// statusError is an SFTP status: the server sends Error() as its message and the sftp error
// it unwraps to as its code.
type statusError struct {
	msg string
	fx  error
}

func (e *statusError) Error() string { return e.msg }
func (e *statusError) Unwrap() error { return e.fx }

// sftpUpload is an upload as the SFTP server sees it: what goes wrong in a write or at the
// close reaches the client as a status, never as the file's error, which names host paths.
type sftpUpload struct{ *Upload }

func (u sftpUpload) WriteAt(b []byte, off int64) (int, error) {
	n, err := u.Upload.WriteAt(b, off)
	return n, status(err)
}

func (u sftpUpload) Close() error { return status(u.Upload.Close()) }

// sftpDownload is a download as the SFTP server sees it; the end of the file stays io.EOF.
type sftpDownload struct{ *Download }

func (d sftpDownload) ReadAt(b []byte, off int64) (int, error) {
	n, err := d.Download.ReadAt(b, off)
	if err == nil || errors.Is(err, io.EOF) {
		return n, err
	}
	return n, status(err)
}

func (d sftpDownload) Close() error { return status(d.Download.Close()) }

// resume says whether an SFTP open asks to continue a file rather than start it afresh:
// OpenSSH's reput opens with APPEND and no TRUNC.
func resume(r *sftp.Request) bool {
	f := r.Pflags()
	return !f.Trunc && !f.Excl
}

// realPath is SFTP's realpath over a jailed folder: the cleaned path from its top.
func realPath(p string) (string, error) {
	rel, err := Clean(p, 1<<16)
	if err != nil {
		return "", status(err)
	}
	if rel == "." {
		return "/", nil
	}
	return "/" + rel, nil
}

// InboxHandlers returns the SFTP handlers of one sender's inbox session.
func InboxHandlers(s *InboxSession) sftp.Handlers {
	h := inboxHandlers{s}
	return sftp.Handlers{FileGet: h, FilePut: h, FileCmd: h, FileList: h}
}

type inboxHandlers struct{ s *InboxSession }

func (h inboxHandlers) Fileread(*sftp.Request) (io.ReaderAt, error) {
	return nil, sftp.ErrSSHFxPermissionDenied
}

func (h inboxHandlers) Filewrite(r *sftp.Request) (io.WriterAt, error) {
	u, err := h.s.Create(r.Filepath, resume(r))
	if err != nil {
		return nil, status(err)
	}
	return sftpUpload{u}, nil
}

func (h inboxHandlers) Filecmd(r *sftp.Request) error {
	switch r.Method {
	case "Setstat":
		// scp, `put -p` and rclone set the mode and times of what they sent: the write-only
		// inbox answers yes and changes nothing (nor truncates, nor changes an owner).
		return nil
	case "Mkdir":
		return status(h.s.Mkdir(r.Filepath))
	}
	return sftp.ErrSSHFxPermissionDenied
}

func (h inboxHandlers) PosixRename(*sftp.Request) error { return sftp.ErrSSHFxPermissionDenied }

func (h inboxHandlers) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	if r.Method != "Stat" {
		return nil, sftp.ErrSSHFxPermissionDenied
	}
	fi, err := h.s.Stat(r.Filepath)
	if err != nil {
		return nil, status(err)
	}
	return listerAt{fi}, nil
}

func (h inboxHandlers) Lstat(r *sftp.Request) (sftp.ListerAt, error) {
	r.Method = "Stat"
	return h.Filelist(r)
}

func (h inboxHandlers) RealPath(p string) (string, error) { return realPath(p) }

// ExchangeHandlers returns the SFTP handlers of one exchange session.
func ExchangeHandlers(s *ExchangeSession) sftp.Handlers {
	h := exchangeHandlers{s}
	return sftp.Handlers{FileGet: h, FilePut: h, FileCmd: h, FileList: h}
}

type exchangeHandlers struct{ s *ExchangeSession }

func (h exchangeHandlers) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	d, err := h.s.Open(r.Filepath)
	if err != nil {
		return nil, status(err)
	}
	return sftpDownload{d}, nil
}

func (h exchangeHandlers) Filewrite(r *sftp.Request) (io.WriterAt, error) {
	u, err := h.s.Create(r.Filepath, resume(r))
	if err != nil {
		return nil, status(err)
	}
	return sftpUpload{u}, nil
}

func (h exchangeHandlers) Filecmd(r *sftp.Request) error {
	switch r.Method {
	case "Setstat":
		return status(h.setstat(r))
	case "Mkdir":
		return status(h.s.Mkdir(r.Filepath))
	case "Rmdir", "Remove":
		return status(h.s.Remove(r.Filepath))
	case "Rename":
		return status(h.s.Rename(r.Filepath, r.Target, false))
	}
	return sftp.ErrSSHFxPermissionDenied // Symlink, Link: nothing may point out of the folder
}

// setstat changes what the exchange lets a client change: the size, the permission bits
// (set-id and sticky bits are not among them, and sharedMode bounds the rest) and the times.
func (h exchangeHandlers) setstat(r *sftp.Request) error {
	flags, attrs := r.AttrFlags(), r.Attributes()
	if flags.Size {
		if err := h.s.Truncate(r.Filepath, int64(attrs.Size)); err != nil {
			return err
		}
	}
	if flags.Permissions {
		if err := h.s.Chmod(r.Filepath, fs.FileMode(attrs.Mode&0o777)); err != nil {
			return err
		}
	}
	if flags.Acmodtime {
		if err := h.s.Chtimes(r.Filepath, time.Unix(int64(attrs.Atime), 0), time.Unix(int64(attrs.Mtime), 0)); err != nil {
			return err
		}
	}
	if !flags.Size && !flags.Permissions && !flags.Acmodtime {
		return h.s.CheckAttrs(r.Filepath) // only the owner, which the folder's owner alone decides
	}
	return nil
}

func (h exchangeHandlers) PosixRename(r *sftp.Request) error {
	return status(h.s.Rename(r.Filepath, r.Target, true))
}

func (h exchangeHandlers) StatVFS(r *sftp.Request) (*sftp.StatVFS, error) {
	st, err := h.s.StatFS()
	if err != nil {
		return nil, status(err)
	}
	return &sftp.StatVFS{
		Bsize: uint64(st.Bsize), Frsize: uint64(st.Frsize), Blocks: st.Blocks, Bfree: st.Bfree,
		Bavail: st.Bavail, Files: st.Files, Ffree: st.Ffree, Favail: st.Ffree,
		Namemax: uint64(st.Namelen),
	}, nil
}

func (h exchangeHandlers) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	switch r.Method {
	case "List":
		entries, err := h.s.List(r.Filepath)
		if err != nil {
			return nil, status(err)
		}
		return listerAt(entries), nil
	case "Stat":
		fi, err := h.s.Stat(r.Filepath)
		if errors.Is(err, ErrNotFound) {
			if pi, ok := h.s.PartialInfo(r.Filepath); ok {
				return listerAt{pi}, nil
			}
		}
		if err != nil {
			return nil, status(err)
		}
		return listerAt{named{fi, path.Base(r.Filepath)}}, nil
	}
	return nil, sftp.ErrSSHFxPermissionDenied // Readlink: link targets are the host's business
}

func (h exchangeHandlers) Lstat(r *sftp.Request) (sftp.ListerAt, error) {
	fi, err := h.s.Lstat(r.Filepath)
	if errors.Is(err, ErrNotFound) {
		if pi, ok := h.s.PartialInfo(r.Filepath); ok {
			return listerAt{pi}, nil
		}
	}
	if err != nil {
		return nil, status(err)
	}
	return listerAt{fi}, nil
}

func (h exchangeHandlers) RealPath(p string) (string, error) { return realPath(p) }

// named gives a FileInfo another name: Stat of the top must not reveal the host folder's name.
type named struct {
	fs.FileInfo
	name string
}

func (n named) Name() string { return n.name }

type listerAt []os.FileInfo

func (l listerAt) ListAt(ls []os.FileInfo, offset int64) (int, error) {
	if offset >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(ls, l[offset:])
	if n < len(ls) {
		return n, io.EOF
	}
	return n, nil
}
