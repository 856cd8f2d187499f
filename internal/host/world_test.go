package host_test

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/buktu/buktu/internal/testenv"
)

// world is a running host whose data directory lies in a folder of the test's own, beside an
// "outside" folder with a canary file in it: a snapshot of that folder shows everything the
// host could have touched, and the canary is what no client may ever read or change.
type world struct {
	root    string // holds data/ and outside/
	data    string
	outside string
	canary  []byte // the contents of outside/canary.txt
	h       *testenv.Host
}

func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldWith(t, "", nil)
}

// newWorldWith is newWorld with extra config, and with prepare, when not nil, run on the
// world's folders before the host starts.
func newWorldWith(t *testing.T, extra string, prepare func(*world)) *world {
	t.Helper()
	root := t.TempDir()
	w := &world{root: root, data: filepath.Join(root, "data"), outside: filepath.Join(root, "outside")}
	w.canary = []byte("canary " + rand.Text() + "\n")
	if err := os.MkdirAll(w.outside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.outside, "canary.txt"), w.canary, 0o644); err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(w)
	}
	w.h = testenv.StartHostIn(t, w.data, extra)
	return w
}

// user is an account with both a password and a key.
type user struct{ name, password, keyFile string }

// pw logs in with the password only, key with the key only.
func (u user) pw() testenv.Account  { return testenv.Account{User: u.name, Password: u.password} }
func (u user) key() testenv.Account { return testenv.Account{User: u.name, KeyFile: u.keyFile} }

// user creates an account with a password and a key and the privileges grants.
func (w *world) user(t *testing.T, name string, grants ...string) user {
	t.Helper()
	u := user{name: name, password: "pw-" + name + "-" + rand.Text()[:10], keyFile: testenv.KeyPair(t)}
	w.h.AddAccount(t, name, u.password, grants...)
	w.h.AddKey(t, name, u.keyFile)
	return u
}

// inbox and exchange return where a file sent or put by a client lies on the host's disk.
func (w *world) inbox(account, rel string) string {
	return filepath.Join(w.data, "inbox", account, filepath.FromSlash(rel))
}

func (w *world) exchange(rel string) string {
	return filepath.Join(w.data, "exchange", filepath.FromSlash(rel))
}

func (w *world) snapshot(t *testing.T) testenv.Tree {
	t.Helper()
	return testenv.Snapshot(t, w.root)
}

// unchanged fails the test when anything below the world's root changed since before, other
// than the activity log and the paths allowed (relative to the root: "data/exchange/new.txt"),
// or when the canary changed.
func (w *world) unchanged(t *testing.T, before testenv.Tree, allowed ...string) {
	t.Helper()
	ignore := append([]string{"data/activity.log", "data/activity.log.head"}, allowed...)
	if changes := before.Changes(w.snapshot(t), ignore...); len(changes) > 0 {
		t.Errorf("the host's folders changed:\n  %s", strings.Join(changes, "\n  "))
	}
	if b, err := os.ReadFile(filepath.Join(w.outside, "canary.txt")); err != nil || !bytes.Equal(b, w.canary) {
		t.Errorf("the canary outside the data directory changed: %q, %v", b, err)
	}
}

// noCanary fails the test when the canary's contents appear in out or in any file below dir.
func (w *world) noCanary(t *testing.T, out, dir string) {
	t.Helper()
	secret := bytes.TrimSpace(w.canary)
	if bytes.Contains([]byte(out), secret) {
		t.Errorf("a client printed the canary:\n%s", out)
	}
	if dir == "" {
		return
	}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, secret) {
			t.Errorf("the canary was downloaded to %s", p)
		}
		return nil
	})
}

// dialSFTP opens an SFTP session with the Go client, for what OpenSSH's sftp cannot ask:
// names with control characters, Readlink, the non-replacing rename, Truncate.
func (w *world) dialSFTP(t *testing.T, addr string, u user) *sftp.Client {
	t.Helper()
	b, err := os.ReadFile(u.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := ssh.Dial("tcp", addr, w.sshConfig(t, u.name, ssh.PublicKeys(signer)))
	if err != nil {
		t.Fatalf("ssh to %s as %s: %v", addr, u.name, err)
	}
	c, err := sftp.NewClient(conn)
	if err != nil {
		conn.Close()
		t.Fatalf("start sftp on %s: %v", addr, err)
	}
	t.Cleanup(func() {
		c.Close()
		conn.Close()
	})
	return c
}

// sshConfig is the Go SSH client's configuration for logging in to w's host as name.
func (w *world) sshConfig(t *testing.T, name string, auth ssh.AuthMethod) *ssh.ClientConfig {
	t.Helper()
	pub, err := os.ReadFile(filepath.Join(w.data, "ssh_host_ed25519_key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	hostKey, _, _, _, err := ssh.ParseAuthorizedKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return &ssh.ClientConfig{User: name, Auth: []ssh.AuthMethod{auth}, HostKeyCallback: ssh.FixedHostKey(hostKey), Timeout: 30 * time.Second}
}

// writeRandom writes size random bytes to path, making its folder, and returns them.
func writeRandom(t *testing.T, path string, size int) []byte {
	t.Helper()
	b := make([]byte, size)
	rand.Read(b)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

// sameFile fails the test unless the file at path holds exactly want.
func sameFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("read %s: %v", path, err)
		return
	}
	if !bytes.Equal(got, want) {
		at := 0
		for at < min(len(got), len(want)) && got[at] == want[at] {
			at++
		}
		t.Errorf("%s: %d bytes that differ from the %d sent, from byte %d", path, len(got), len(want), at)
	}
}

// absent fails the test when path exists.
func absent(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); err == nil {
		t.Errorf("%s exists; it should not", path)
	}
}

// sftpDo runs one OpenSSH sftp batch command and returns its output and exit code.
func sftpDo(t *testing.T, addr string, a testenv.Account, cmd string) (string, int) {
	t.Helper()
	return testenv.SFTP(t, addr, a, cmd+"\n")
}

// portOf returns the port of a host:port address.
func portOf(addr string) string { return addr[strings.LastIndex(addr, ":")+1:] }
