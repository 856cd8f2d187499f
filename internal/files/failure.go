package files

import (
	"errors"
	"io/fs"
	"syscall"
)

// Code is the kind of a file error a remote client is told of. Each protocol turns it into a
// code of its own: an SFTP status, an HTTP status; buktu's streams send only the message.
type Code int

// The codes of Explain.
const (
	CodeFailure  Code = iota // anything else
	CodeDenied               // the policy refuses it, or the host's own permissions do
	CodeNotFound             // nothing of that name, or nothing the client may know of
	CodeExists               // the name is taken
	CodeNotEmpty             // a folder to remove holds something
	CodeTooLarge             // past the host's file size limit, or the file system's
	CodeBusy                 // the same upload is running on another connection
	CodeNoSpace              // the disk, or the host's quota on it, is full
)

// MsgFailure is what a client is told of an error that has no words of its own: an internal
// error's text may name host paths, so it is never sent.
const MsgFailure = "the host could not do this"

// explanations is every error a client hears of in words: the first entry err matches
// (errors.Is) gives the code and the message. The messages are fixed, so none can carry a host
// path, as an *fs.PathError's text does.
var explanations = []struct {
	err  error
	code Code
	msg  string
}{
	{ErrDenied, CodeDenied, "permission denied"},
	{ErrBadPath, CodeDenied, "permission denied"},
	{ErrNotFound, CodeNotFound, "no such file"},
	{ErrTooLarge, CodeTooLarge, "file larger than the host allows"},
	{ErrBusy, CodeBusy, "the same file is being uploaded on another connection"},
	{syscall.ENOSPC, CodeNoSpace, "the host is out of disk space"},
	{syscall.EDQUOT, CodeNoSpace, "the host is out of disk space"},
	{syscall.EFBIG, CodeTooLarge, "file too large for the host's file system"},
	{fs.ErrExist, CodeExists, "a file of that name exists"},
	{syscall.ENOTEMPTY, CodeNotEmpty, "the folder is not empty"},
	{fs.ErrNotExist, CodeNotFound, "no such file"},
	{fs.ErrPermission, CodeDenied, "permission denied"},
	{syscall.ELOOP, CodeDenied, "permission denied"},
	{syscall.EXDEV, CodeDenied, "permission denied"},
	{syscall.ENOTDIR, CodeNotFound, "no such file"},
	{syscall.ENAMETOOLONG, CodeDenied, "name too long for the host's file system"},
	{syscall.EROFS, CodeFailure, "the host's folder is read-only"},
	{syscall.EIO, CodeFailure, "the host's disk failed to read or write"},
	{syscall.EMFILE, CodeFailure, "the host has too many files open"},
	{syscall.ENFILE, CodeFailure, "the host has too many files open"},
}

// Explain returns what a remote client may be told of err: its code and a fixed message that
// never carries a host path or an internal error's text. An error it has no words for is
// CodeFailure with MsgFailure; whoever answers the client logs such an error on the host.
func Explain(err error) (Code, string) {
	for _, e := range explanations {
		if errors.Is(err, e.err) {
			return e.code, e.msg
		}
	}
	return CodeFailure, MsgFailure
}

// cannotComplete says whether an upload that failed with err can never be completed by
// resuming it: its disk is full, or it is larger than the host takes. Its partial file is
// removed, rather than kept to hold the space.
func cannotComplete(err error) bool {
	switch code, _ := Explain(err); code {
	case CodeNoSpace, CodeTooLarge:
		return true
	}
	return false
}
