package host_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/buktu/buktu/internal/testenv"
)

// The tests in this file drive a real host with the clients people have: OpenSSH's sftp and
// scp, rclone, lftp and buktu itself, logging in with a password and with a key. Every file
// is checked byte for byte where it landed on the host's disk, and every download against
// what was uploaded.

// everything is the privileges of an account that may use both file services fully.
var everything = []string{"send", "exchange:read", "exchange:write", "exchange:delete"}

// logins returns u's two ways in, named.
func logins(u user) []struct {
	name string
	a    testenv.Account
} {
	return []struct {
		name string
		a    testenv.Account
	}{{"password", u.pw()}, {"key", u.key()}}
}

// quote quotes a path for an sftp batch line.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// payload is what a client uploads: a file and a folder tree with a file in a subfolder.
type payload struct {
	dir      string // holds one.bin and tree/
	one, two []byte // one.bin and tree/sub/two.bin
}

func newPayload(t *testing.T) payload {
	t.Helper()
	p := payload{dir: t.TempDir()}
	p.one = writeRandom(t, filepath.Join(p.dir, "one.bin"), 300_001)
	p.two = writeRandom(t, filepath.Join(p.dir, "tree", "sub", "two.bin"), 70_003)
	return p
}

func (p payload) path(rel string) string { return filepath.Join(p.dir, filepath.FromSlash(rel)) }

// check fails the test unless dir (a folder on the host or downloaded) holds the payload as
// one.bin and tree/sub/two.bin.
func (p payload) check(t *testing.T, dir string) {
	t.Helper()
	sameFile(t, filepath.Join(dir, "one.bin"), p.one)
	sameFile(t, filepath.Join(dir, "tree", "sub", "two.bin"), p.two)
}

func mustRun(t *testing.T, what, out string, code int) {
	t.Helper()
	if code != 0 {
		t.Fatalf("%s: exit code %d\n%s", what, code, out)
	}
}

func TestOpenSSHSFTP(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	alice := w.user(t, "alice", everything...)
	for _, l := range logins(alice) {
		t.Run("send/"+l.name, func(t *testing.T) {
			p := newPayload(t)
			dest := "sftp-" + l.name
			batch := fmt.Sprintf("mkdir %s\nput %s %s/one.bin\nput -r %s %s/tree\n",
				dest, quote(p.path("one.bin")), dest, quote(p.path("tree")), dest)
			out, code := testenv.SFTP(t, w.h.Send, l.a, batch)
			mustRun(t, "sftp put into the inbox", out, code)
			p.check(t, w.inbox("alice", dest))
		})
		t.Run("exchange/"+l.name, func(t *testing.T) {
			p := newPayload(t)
			back := t.TempDir()
			dest := "sftp-" + l.name
			batch := fmt.Sprintf("mkdir %[1]s\nput %[2]s %[1]s/one.bin\nput -r %[3]s %[1]s/tree\nls -l %[1]s\n"+
				"get %[1]s/one.bin %[4]s\nget -r %[1]s/tree %[5]s\n"+
				"put %[2]s %[1]s/gone.bin\nrename %[1]s/gone.bin %[1]s/moved.bin\nrm %[1]s/moved.bin\n",
				dest, quote(p.path("one.bin")), quote(p.path("tree")), quote(filepath.Join(back, "one.bin")), quote(filepath.Join(back, "tree")))
			out, code := testenv.SFTP(t, w.h.Exchange, l.a, batch)
			mustRun(t, "sftp on the exchange", out, code)
			p.check(t, w.exchange(dest))
			p.check(t, back)
			absent(t, w.exchange(dest+"/gone.bin"))
			absent(t, w.exchange(dest+"/moved.bin"))
			if !strings.Contains(out, "one.bin") || !strings.Contains(out, "tree") {
				t.Errorf("sftp ls did not list one.bin and tree:\n%s", out)
			}
		})
	}
}

func TestOpenSSHSCP(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	alice := w.user(t, "alice", everything...)
	for _, l := range logins(alice) {
		t.Run("send/"+l.name, func(t *testing.T) {
			p := newPayload(t)
			dest := "scp-" + l.name
			out, code := testenv.SCP(t, w.h.Send, l.a, p.path("tree"), "REMOTE:"+dest+"/tree", "-r")
			mustRun(t, "scp -r into the inbox", out, code)
			out, code = testenv.SCP(t, w.h.Send, l.a, p.path("one.bin"), "REMOTE:"+dest+"/one.bin")
			mustRun(t, "scp into the inbox", out, code)
			p.check(t, w.inbox("alice", dest))
		})
		t.Run("exchange/"+l.name, func(t *testing.T) {
			p := newPayload(t)
			dest := "scp-" + l.name
			if err := os.Mkdir(w.exchange(dest), 0o755); err != nil {
				t.Fatal(err)
			}
			out, code := testenv.SCP(t, w.h.Exchange, l.a, p.path("one.bin"), "REMOTE:"+dest+"/one.bin")
			mustRun(t, "scp to the exchange", out, code)
			out, code = testenv.SCP(t, w.h.Exchange, l.a, p.path("tree"), "REMOTE:"+dest+"/tree", "-r")
			mustRun(t, "scp -r to the exchange", out, code)
			p.check(t, w.exchange(dest))
			back := t.TempDir()
			out, code = testenv.SCP(t, w.h.Exchange, l.a, "REMOTE:"+dest+"/one.bin", filepath.Join(back, "one.bin"))
			mustRun(t, "scp from the exchange", out, code)
			out, code = testenv.SCP(t, w.h.Exchange, l.a, "REMOTE:"+dest+"/tree", filepath.Join(back, "tree"), "-r")
			mustRun(t, "scp -r from the exchange", out, code)
			p.check(t, back)
		})
	}
}

// TestRclone copies with rclone's sftp backend. The send port cannot be listed, so rclone
// needs --no-traverse there: without it, a copy into a folder that exists fails when rclone
// lists it to compare.
func TestRclone(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	alice := w.user(t, "alice", everything...)
	for _, l := range logins(alice) {
		t.Run("send/"+l.name, func(t *testing.T) {
			p := newPayload(t)
			dest := "rclone-" + l.name
			out, code := testenv.Rclone(t, w.h.Send, l.a, "copy", p.path("tree"), "REMOTE:"+dest+"/tree", "--no-traverse")
			mustRun(t, "rclone copy into the inbox", out, code)
			out, code = testenv.Rclone(t, w.h.Send, l.a, "copyto", p.path("one.bin"), "REMOTE:"+dest+"/one.bin", "--no-traverse")
			mustRun(t, "rclone copyto into the inbox", out, code)
			p.check(t, w.inbox("alice", dest))
			// Into the inbox's top, which exists: only --no-traverse makes this work.
			top := t.TempDir()
			b := writeRandom(t, filepath.Join(top, dest+".bin"), 1234)
			out, code = testenv.Rclone(t, w.h.Send, l.a, "copy", top, "REMOTE:", "--no-traverse")
			mustRun(t, "rclone copy into the inbox's top", out, code)
			sameFile(t, w.inbox("alice", dest+".bin"), b)
		})
		t.Run("exchange/"+l.name, func(t *testing.T) {
			p := newPayload(t)
			dest := "rclone-" + l.name
			out, code := testenv.Rclone(t, w.h.Exchange, l.a, "copy", p.dir, "REMOTE:"+dest)
			mustRun(t, "rclone copy to the exchange", out, code)
			p.check(t, w.exchange(dest))
			out, code = testenv.Rclone(t, w.h.Exchange, l.a, "lsf", "-R", "REMOTE:"+dest)
			mustRun(t, "rclone lsf", out, code)
			for _, name := range []string{"one.bin", "tree/sub/two.bin"} {
				if !strings.Contains(out, name) {
					t.Errorf("rclone lsf does not list %s:\n%s", name, out)
				}
			}
			back := t.TempDir()
			out, code = testenv.Rclone(t, w.h.Exchange, l.a, "copy", "REMOTE:"+dest, back)
			mustRun(t, "rclone copy from the exchange", out, code)
			p.check(t, back)
			out, code = testenv.Rclone(t, w.h.Exchange, l.a, "deletefile", "REMOTE:"+dest+"/one.bin")
			mustRun(t, "rclone deletefile", out, code)
			absent(t, w.exchange(dest+"/one.bin"))
		})
	}
}

// TestLftp uses lftp's sftp with a password. lftp's mirror -R needs to list its target, so
// into the inbox only put works.
func TestLftp(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	alice := w.user(t, "alice", everything...)
	t.Run("send", func(t *testing.T) {
		p := newPayload(t)
		script := fmt.Sprintf("mkdir -p lftp/tree/sub; put %s -o lftp/one.bin; put %s -o lftp/tree/sub/two.bin",
			p.path("one.bin"), p.path("tree/sub/two.bin"))
		out, code := testenv.Lftp(t, w.h.Send, alice.pw(), script)
		mustRun(t, "lftp put into the inbox", out, code)
		p.check(t, w.inbox("alice", "lftp"))
	})
	t.Run("exchange", func(t *testing.T) {
		p := newPayload(t)
		back := t.TempDir()
		script := fmt.Sprintf("mkdir lftp; put %s -o lftp/one.bin; mirror -R %s lftp/tree; ls lftp; get lftp/one.bin -o %s; mirror lftp/tree %s; rm lftp/one.bin",
			p.path("one.bin"), p.path("tree"), filepath.Join(back, "one.bin"), filepath.Join(back, "tree"))
		out, code := testenv.Lftp(t, w.h.Exchange, alice.pw(), script)
		mustRun(t, "lftp on the exchange", out, code)
		sameFile(t, w.exchange("lftp/tree/sub/two.bin"), p.two)
		absent(t, w.exchange("lftp/one.bin"))
		p.check(t, back)
	})
}
