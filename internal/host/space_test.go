package host_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/buktu/buktu/internal/events"
	"github.com/buktu/buktu/internal/testenv"
)

// smallDisk is the size of the file systems the full-disk tests fill.
const smallDisk = 2 << 20

// mountSmallDisk mounts a tmpfs of size bytes on dir (made if missing), unmounted by
// t.Cleanup. A full disk needs a file system of its own, and mounting one needs root (as the
// tests have in CI): elsewhere the test is skipped, saying why.
func mountSmallDisk(t *testing.T, dir string, size int) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: a full disk needs a small file system of its own, and mounting a tmpfs needs root")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		t.Skipf("skipped: mount a %d-byte tmpfs on %s to fill it: %v", size, dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			unix.Unmount(dir, unix.MNT_DETACH)
			t.Errorf("unmount the tmpfs on %s: %v (detached it)", dir, err)
		}
	})
}

// fullDiskWorld is a world whose inbox and exchange folders are small file systems of their
// own, which an upload larger than smallDisk fills.
func fullDiskWorld(t *testing.T) *world {
	t.Helper()
	return newWorldWith(t, "", func(w *world) {
		mountSmallDisk(t, filepath.Join(w.data, "inbox"), smallDisk)
		mountSmallDisk(t, filepath.Join(w.data, "exchange"), smallDisk)
	})
}

// free returns the bytes free on the file system of dir.
func free(t *testing.T, dir string) int64 {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * st.Bsize
}

// roomLeft fails the test unless dir's file system is as free as when it was empty: an upload
// that failed for lack of space holds none of it.
func roomLeft(t *testing.T, dir string) {
	t.Helper()
	if got := free(t, dir); got < smallDisk-64<<10 {
		t.Errorf("%s has %d bytes free of %d after the failed upload; a partial file holds the rest", dir, got, smallDisk)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, ".buktu-partial"))
	for _, e := range entries {
		t.Errorf("the failed upload left %s in %s/.buktu-partial", e.Name(), dir)
	}
}

// hostPaths fails the test when a client's output names a folder of the host.
func (w *world) hostPaths(t *testing.T, what, out string) {
	t.Helper()
	for _, p := range []string{w.root, ".buktu-partial", "(unnamed)"} {
		if strings.Contains(out, p) {
			t.Errorf("%s told the client a host path (%s):\n%s", what, p, out)
		}
	}
}

const outOfSpace = "the host is out of disk space"

// TestFullDisk uploads a file larger than the disk the inbox and the exchange folder lie on,
// with every client: each is told that the host is out of space, in words that name no host
// folder; the upload leaves nothing behind (a partial file that can never complete would hold
// the space), is logged and recorded; and a file that fits goes in right after.
func TestFullDisk(t *testing.T) {
	t.Parallel()
	w := fullDiskWorld(t)
	alice := w.user(t, "alice", everything...)
	c := newClient(t, w)
	local := t.TempDir()
	big := filepath.Join(local, "big.bin")
	writeRandom(t, big, smallDisk+smallDisk/2)
	fits := filepath.Join(local, "fits.bin")
	small := writeRandom(t, fits, smallDisk/2)

	for _, svc := range []struct {
		name, addr, dir string
		placed          func(rel string) string
	}{
		{"send", w.h.Send, w.inbox("", ""), func(rel string) string { return w.inbox("alice", rel) }},
		{"exchange", w.h.Exchange, w.exchange(""), w.exchange},
	} {
		t.Run(svc.name+"/openssh", func(t *testing.T) {
			out, code := testenv.SFTP(t, svc.addr, alice.key(), "put "+quote(big)+" openssh.bin\n")
			if code == 0 {
				t.Errorf("sftp put of a file larger than the disk succeeded:\n%s", out)
			}
			w.hostPaths(t, "sftp put", out)
			absent(t, svc.placed("openssh.bin"))
			roomLeft(t, svc.dir)
		})
		t.Run(svc.name+"/go-sftp", func(t *testing.T) {
			sc := w.dialSFTP(t, svc.addr, alice)
			f, err := sc.Create("go.bin")
			if err != nil {
				t.Fatal(err)
			}
			_, werr := io.Copy(f, io.LimitReader(rand.Reader, smallDisk*2))
			cerr := f.Close()
			got := errors.Join(werr, cerr)
			if got == nil || !strings.Contains(got.Error(), outOfSpace) {
				t.Errorf("writing past the disk's end: %v; want %q", got, outOfSpace)
			}
			if got != nil {
				w.hostPaths(t, "the SFTP status", got.Error())
			}
			absent(t, svc.placed("go.bin"))
			roomLeft(t, svc.dir)
		})
		for _, way := range [][]string{nil, {"--sftp"}} {
			t.Run(svc.name+"/buktu"+strings.Join(way, ""), func(t *testing.T) {
				args := []string{"put", big, "alice@" + svc.addr + ":"}
				if svc.name == "send" {
					args = []string{"send", "alice@" + svc.addr, big}
				}
				_, errOut, code := c.run(t, alice.password, append(args, way...)...)
				if code != 1 || !strings.Contains(errOut, outOfSpace) {
					t.Errorf("buktu %s: exit code %d, stderr:\n%s\nwant exit code 1 and %q", strings.Join(args, " "), code, errOut, outOfSpace)
				}
				w.hostPaths(t, "buktu "+args[0], errOut)
				absent(t, svc.placed("big.bin"))
				roomLeft(t, svc.dir)
			})
		}
		t.Run(svc.name+"/fits after", func(t *testing.T) {
			out, code := testenv.SFTP(t, svc.addr, alice.key(), "put "+quote(fits)+" fits.bin\n")
			mustRun(t, "sftp put of a file that fits, after the failed ones", out, code)
			sameFile(t, svc.placed("fits.bin"), small)
		})
	}

	var failed int
	for _, r := range w.h.Records(t, "--kind", events.KindFile, "--account", "alice") {
		if r.Outcome == events.OutcomeFailed && strings.Contains(r.Reason, outOfSpace) && strings.Contains(r.Reason, "removed") {
			failed++
		}
		w.hostPaths(t, "the activity log's reason", r.Reason)
	}
	// Per service: OpenSSH, the Go client, buktu's stream and buktu over SFTP.
	if failed < 8 {
		t.Errorf("the activity log has %d failed uploads that say the disk was full and the partial file removed; want 8", failed)
	}
	var warned int
	for _, line := range strings.Split(w.h.Stderr(), "\n") {
		if strings.Contains(line, `"level":"WARN"`) && strings.Contains(line, "upload removed") {
			warned++
		}
	}
	if warned < 8 {
		t.Errorf("the host logged %d warnings of an upload removed; want 8:\n%s", warned, w.h.Stderr())
	}
	if bytes.Contains([]byte(w.h.Stderr()), []byte("panic")) {
		t.Errorf("the host panicked:\n%s", w.h.Stderr())
	}
}
