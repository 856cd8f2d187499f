package host_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/testenv"
)

// TestPreserveAttributes copies with OpenSSH's scp -p and sftp put -p, which send the file's
// times and mode after the data (an fsetstat on the open file): on the exchange the host
// keeps the times, and the mode within the folder's rules; the write-only inbox takes no
// attribute change but answers yes, so the copy does not fail. Plain scp prints nothing.
func TestPreserveAttributes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	alice := w.user(t, "alice", everything...)
	local := t.TempDir()
	src := filepath.Join(local, "kept.bin")
	sent := writeRandom(t, src, 200_003)
	mtime := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	if err := os.Chmod(src, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(src, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	// A mode no shared file may get: set-id bits, and no read or write for the owner.
	odd := filepath.Join(local, "odd.bin")
	writeRandom(t, odd, 1000)
	if err := os.Chmod(odd, 0o4011|fs.ModeSetuid); err != nil {
		t.Fatal(err)
	}

	ways := []struct {
		name string
		copy func(t *testing.T, addr, from, to string, p bool) (string, int)
	}{
		{"scp", func(t *testing.T, addr, from, to string, p bool) (string, int) {
			var extra []string
			if p {
				extra = append(extra, "-p")
			}
			return testenv.SCP(t, addr, alice.key(), from, "REMOTE:"+to, extra...)
		}},
		{"sftp", func(t *testing.T, addr, from, to string, p bool) (string, int) {
			put := "put "
			if p {
				put = "put -p "
			}
			return testenv.SFTP(t, addr, alice.key(), put+quote(from)+" "+quote(to)+"\n")
		}},
	}
	for _, way := range ways {
		t.Run("exchange/"+way.name, func(t *testing.T) {
			out, code := way.copy(t, w.h.Exchange, src, way.name+"-plain.bin", false)
			mustRun(t, way.name+" to the exchange", out, code)
			if strings.Contains(out, "setstat") {
				t.Errorf("%s without -p printed:\n%s", way.name, out)
			}
			sameFile(t, w.exchange(way.name+"-plain.bin"), sent)
			// Without -p, the file is shared as the folder is. (scp truncates the open file to
			// its size before it closes it: a change of nothing.)
			if fi, err := os.Stat(w.exchange(way.name + "-plain.bin")); err != nil || fi.Mode().Perm() != 0o644 {
				t.Errorf("%s without -p placed a file with mode %v (%v); want -rw-r--r--", way.name, fi.Mode(), err)
			}

			out, code = way.copy(t, w.h.Exchange, src, way.name+"-p.bin", true)
			mustRun(t, way.name+" -p to the exchange", out, code)
			if strings.Contains(out, "setstat") {
				t.Errorf("%s -p printed:\n%s", way.name, out)
			}
			got := w.exchange(way.name + "-p.bin")
			sameFile(t, got, sent)
			fi, err := os.Stat(got)
			if err != nil {
				t.Fatal(err)
			}
			if !fi.ModTime().Equal(mtime) || fi.Mode().Perm() != 0o640 {
				t.Errorf("%s -p placed a file with mode %v, mtime %v; want -rw-r----- and %v", way.name, fi.Mode(), fi.ModTime().UTC(), mtime)
			}

			out, code = way.copy(t, w.h.Exchange, odd, way.name+"-odd.bin", true)
			mustRun(t, way.name+" -p of an odd mode to the exchange", out, code)
			fi, err = os.Stat(w.exchange(way.name + "-odd.bin"))
			if err != nil {
				t.Fatal(err)
			}
			if m := fi.Mode(); m&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != 0 || m.Perm()&0o600 != 0o600 {
				t.Errorf("%s -p of mode 4011 placed a file with mode %v; want no set-id bits and the owner's read and write", way.name, m)
			}
		})
		t.Run("send/"+way.name, func(t *testing.T) {
			before := time.Now().Add(-time.Minute)
			for _, p := range []bool{false, true} {
				name := fmt.Sprintf("%s-%v.bin", way.name, p)
				out, code := way.copy(t, w.h.Send, src, name, p)
				mustRun(t, way.name+" into the inbox", out, code)
				if strings.Contains(out, "setstat") {
					t.Errorf("%s (preserve %v) into the inbox printed:\n%s", way.name, p, out)
				}
				got := w.inbox("alice", name)
				sameFile(t, got, sent)
				fi, err := os.Stat(got)
				if err != nil {
					t.Fatal(err)
				}
				if fi.ModTime().Before(before) || fi.Mode().Perm() != 0o600 {
					t.Errorf("%s (preserve %v) into the inbox placed a file with mode %v, mtime %v; want the inbox's own -rw------- and the time it arrived",
						way.name, p, fi.Mode(), fi.ModTime())
				}
			}
		})
	}
}
