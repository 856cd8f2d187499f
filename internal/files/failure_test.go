package files

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/pkg/sftp"
)

func TestExplain(t *testing.T) {
	const hostPath = "/srv/buktu/inbox/.buktu-partial/(unnamed)"
	pathErr := func(errno error) error {
		return fmt.Errorf("finish upload: %w", &fs.PathError{Op: "write", Path: hostPath, Err: errno})
	}
	tests := []struct {
		name     string
		err      error
		wantCode Code
		wantMsg  string
	}{
		{"disk full", pathErr(syscall.ENOSPC), CodeNoSpace, "the host is out of disk space"},
		{"quota", pathErr(syscall.EDQUOT), CodeNoSpace, "the host is out of disk space"},
		{"file system's size limit", pathErr(syscall.EFBIG), CodeTooLarge, "file too large for the host's file system"},
		{"host's size limit", fmt.Errorf("write: %w", ErrTooLarge), CodeTooLarge, "file larger than the host allows"},
		{"policy", fmt.Errorf("%w: reserved name", ErrBadPath), CodeDenied, "permission denied"},
		{"host's permissions", pathErr(syscall.EACCES), CodeDenied, "permission denied"},
		{"missing", &fs.PathError{Op: "open", Path: hostPath, Err: syscall.ENOENT}, CodeNotFound, "no such file"},
		{"taken", &os.LinkError{Op: "link", Old: hostPath, New: "x", Err: syscall.EEXIST}, CodeExists, "a file of that name exists"},
		{"read-only", pathErr(syscall.EROFS), CodeFailure, "the host's folder is read-only"},
		{"disk error", pathErr(syscall.EIO), CodeFailure, "the host's disk failed to read or write"},
		{"anything else", errors.New("read " + hostPath + ": bad things"), CodeFailure, MsgFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, msg := Explain(tt.err)
			if code != tt.wantCode || msg != tt.wantMsg {
				t.Errorf("Explain(%v) = %v, %q; want %v, %q", tt.err, code, msg, tt.wantCode, tt.wantMsg)
			}
			// What an SFTP client hears: the same words, a code it knows, and no host path.
			st := status(tt.err)
			if st.Error() != tt.wantMsg || strings.Contains(st.Error(), hostPath) {
				t.Errorf("status(%v) says %q; want %q", tt.err, st, tt.wantMsg)
			}
			fx := sftp.ErrSSHFxFailure
			switch tt.wantCode {
			case CodeDenied:
				fx = sftp.ErrSSHFxPermissionDenied
			case CodeNotFound:
				fx = sftp.ErrSSHFxNoSuchFile
			}
			if !errors.Is(st, fx) {
				t.Errorf("status(%v) = %v; want it to carry the SFTP code %v", tt.err, st, fx)
			}
		})
	}
}
