package files

import (
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// The attribute changes a client asks of an exchange file (SFTP's setstat, and fsetstat on
// an open file, which the SFTP server hands over as a setstat of its path). An upload in
// progress has no name in the folder until it is complete, and OpenSSH's scp and put -p set
// the times and mode just before they close it: a change to a path this account is uploading
// goes to the upload, and takes effect when it is placed.

// sharedMode is the permission a client may give a file or folder of the exchange: the bits
// it asks for, but never set-id or sticky bits, never write for the host's other users, and
// always the owner's read and write (and search, for a folder), which the host needs to
// serve and replace it.
func sharedMode(perm fs.FileMode, dir bool) fs.FileMode {
	m := perm&0o755 | 0o600
	if dir {
		m |= 0o700
	}
	return m
}

// Chtimes sets a file's times, as `put -p` asks.
func (s *ExchangeSession) Chtimes(name string, atime, mtime time.Time) error {
	rel, err := s.clean(name, s.access.Write)
	if err != nil {
		return err
	}
	if u := s.x.parts.open(s.account, rel); u != nil && u.setTimes(atime, mtime) {
		return nil
	}
	return rootErr(s.x.root.Chtimes(rel, atime, mtime))
}

// Chmod sets a file's permission bits, within what sharedMode allows.
func (s *ExchangeSession) Chmod(name string, perm fs.FileMode) error {
	rel, err := s.clean(name, s.access.Write)
	if err != nil {
		return err
	}
	if u := s.x.parts.open(s.account, rel); u != nil && u.setMode(sharedMode(perm, false)) {
		return nil
	}
	if rel == "." {
		return ErrDenied // the folder's own mode is the host's business
	}
	fi, err := s.x.root.Stat(rel)
	if err != nil {
		return rootErr(err)
	}
	return rootErr(s.x.root.Chmod(rel, sharedMode(perm, fi.IsDir())))
}

// Truncate cuts or extends a file. Cutting a placed file destroys data, so it needs Delete
// too; the account's own upload in progress needs only the Write it is being made with.
func (s *ExchangeSession) Truncate(name string, size int64) error {
	rel, err := s.clean(name, s.access.Write)
	if err != nil {
		return err
	}
	if u := s.x.parts.open(s.account, rel); u != nil {
		if done, err := u.truncate(size); done {
			return err
		}
	}
	if !s.access.Delete {
		return ErrDenied
	}
	f, err := s.x.root.OpenFile(rel, os.O_WRONLY, 0)
	if err != nil {
		return rootErr(err)
	}
	defer f.Close()
	return rootErr(f.Truncate(size))
}

// CheckAttrs answers a setstat that changes nothing the exchange lets a client change (the
// owner, which the folder's owner alone decides): it fails as Lstat would, and succeeds for
// the account's own upload in progress.
func (s *ExchangeSession) CheckAttrs(name string) error {
	rel, err := s.clean(name, s.access.Write)
	if err != nil {
		return err
	}
	if s.x.parts.open(s.account, rel) != nil {
		return nil
	}
	_, err = s.x.root.Lstat(rel)
	return rootErr(err)
}

// attrs are the mode and times a client set on an upload while it was open; the zero value
// sets nothing.
type attrs struct {
	mode         fs.FileMode // 0: the folder's default
	atime, mtime time.Time   // zero: the time the upload was placed
}

// setMode records the mode the upload gets when it is placed; false when it is closed
// already.
func (u *upload) setMode(mode fs.FileMode) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.attrs.mode = mode
	return !u.closed
}

// setTimes records the times the upload gets when it is placed; false when it is closed
// already.
func (u *upload) setTimes(atime, mtime time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.attrs.atime, u.attrs.mtime = atime, mtime
	return !u.closed
}

// truncate cuts or extends the upload's data, and says false when the upload is closed
// already. Its hash is then made from the file when it is complete, and it can no longer
// be resumed: no checkpoint's hash state describes what it holds. Its own size changes
// nothing: scp sends that with every upload, before it closes the file.
func (u *upload) truncate(size int64) (bool, error) {
	if size < 0 {
		return true, ErrDenied
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return false, nil
	}
	if u.limit > 0 && size > u.limit {
		return true, ErrTooLarge
	}
	if fi, err := u.f.Stat(); err == nil && fi.Size() == size {
		return true, nil
	}
	u.rehash, u.cut = true, true
	return true, u.f.Truncate(size)
}

// applyAttrs gives the upload's file f, about to be placed, the mode and times its client
// set, or mode def.
func (u *upload) applyAttrs(f *os.File, def fs.FileMode) error {
	u.mu.Lock()
	a := u.attrs
	u.mu.Unlock()
	if a.mode == 0 {
		a.mode = def
	}
	if err := f.Chmod(a.mode); err != nil {
		return err
	}
	if a.mtime.IsZero() {
		return nil
	}
	if a.atime.IsZero() {
		a.atime = a.mtime
	}
	tv := []unix.Timeval{unix.NsecToTimeval(a.atime.UnixNano()), unix.NsecToTimeval(a.mtime.UnixNano())}
	return unix.Futimes(int(f.Fd()), tv)
}
