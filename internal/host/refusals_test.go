package host_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/testenv"
)

// The tests in this file try what a client must never manage: reading or changing the
// inbox, leaving the exchange folder by path or by symlink, names no file system should get,
// and what an account's privileges do not allow. Each attempt snapshots the whole folder that
// holds the host's data directory and an "outside" folder with a canary, and checks that
// nothing changed but what the attempt may change.

// What OpenSSH's sftp says when the host refuses, or finds nothing.
const (
	denied   = `Permission denied`
	notFound = `(?i)not found|no such file`
	refused  = `(?i)permission denied|not found|no such file`
)

// attempt is one sftp batch command, in which LOCAL stands for a local folder holding
// new.bin, the file to upload.
type attempt struct {
	name    string
	cmd     string
	ok      bool     // the command succeeds (harmlessly: allow says what it may change)
	anyExit bool     // sftp's exit code says nothing: its ls reports a failure, then exits 0
	want    string   // a regexp that sftp's output matches
	allow   []string // paths below the world's root that may change
	landed  string   // where below the world's root LOCAL/new.bin must arrive, if anywhere
}

// try runs each attempt against addr as a, checking exit code, output, and what changed.
// A refused attempt must not have downloaded anything either.
func (w *world) try(t *testing.T, addr string, a testenv.Account, attempts []attempt) {
	t.Helper()
	for _, at := range attempts {
		t.Run(at.name, func(t *testing.T) {
			local := t.TempDir()
			sent := writeRandom(t, filepath.Join(local, "new.bin"), 1000)
			before := w.snapshot(t)
			out, code := sftpDo(t, addr, a, strings.ReplaceAll(at.cmd, "LOCAL", local))
			if (!at.anyExit && (code == 0) != at.ok) || !regexp.MustCompile(at.want).MatchString(out) {
				t.Errorf("sftp %q as %s: exit code %d, output:\n%s\nwant success %v and output matching %q", at.cmd, a.User, code, out, at.ok, at.want)
			}
			w.unchanged(t, before, at.allow...)
			w.noCanary(t, out, local)
			if at.landed != "" {
				sameFile(t, filepath.Join(w.root, filepath.FromSlash(at.landed)), sent)
			}
			if !at.ok {
				if entries, _ := os.ReadDir(local); len(entries) != 1 {
					t.Errorf("a refused command left files in the local folder: %v", entries)
				}
			}
		})
	}
}

// isDenied reports whether err is the SFTP status "permission denied", which the Go client
// turns into os.ErrPermission; notExist whether it is "no such file".
func isDenied(err error) bool { return errors.Is(err, os.ErrPermission) }

func notExist(err error) bool { return errors.Is(err, os.ErrNotExist) }

// TestInboxRefusals checks that a sender can never list, read, remove, rename or link what is
// in the inbox, even their own files, nor reach another sender's folder; and that an upload
// to a taken name, or to a path that climbs, lands as a new file in the sender's own folder.
func TestInboxRefusals(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	alice := w.user(t, "alice", "send")
	bob := w.user(t, "bob", "send")
	src := t.TempDir()
	writeRandom(t, filepath.Join(src, "f.bin"), 5000)
	out, code := testenv.SFTP(t, w.h.Send, alice.key(), "put "+src+"/f.bin mine.txt\nput "+src+"/f.bin other.txt\nmkdir dir\nmkdir full\nput "+src+"/f.bin full/x.txt\n")
	mustRun(t, "alice's first upload", out, code)
	out, code = testenv.SFTP(t, w.h.Send, bob.key(), "put "+src+"/f.bin secret.txt\n")
	mustRun(t, "bob's first upload", out, code)

	alices := func(rel ...string) []string {
		var p []string
		for _, r := range rel {
			p = append(p, "data/inbox/alice/"+r)
		}
		return p
	}
	// What OpenSSH's sftp cannot ask, asked with the Go client, before alice's uploads below
	// make folders of those names in her own folder.
	c := w.dialSFTP(t, w.h.Send, alice)
	probes := []struct {
		name string
		do   func() error
		want func(error) bool
	}{
		{"stat other sender's upload", func() error { _, err := c.Stat("secret.txt"); return err }, notExist},
		{"stat other sender's file", func() error { _, err := c.Stat("../bob/secret.txt"); return err }, notExist},
		{"lstat other sender's folder", func() error { _, err := c.Lstat("/../bob"); return err }, notExist},
		{"read dir", func() error { _, err := c.ReadDir("/"); return err }, isDenied},
		{"open to read", func() error { _, err := c.Open("mine.txt"); return err }, isDenied},
		{"readlink", func() error { _, err := c.ReadLink("mine.txt"); return err }, isDenied},
		{"rename", func() error { return c.Rename("mine.txt", "renamed.txt") }, isDenied},
		{"posix rename over", func() error { return c.PosixRename("mine.txt", "other.txt") }, isDenied},
		{"remove", func() error { return c.Remove("mine.txt") }, isDenied},
		{"remove folder", func() error { return c.RemoveDirectory("dir") }, isDenied},
		{"symlink", func() error { return c.Symlink("/etc/passwd", "pw") }, isDenied},
		{"link", func() error { return c.Link("mine.txt", "hard.txt") }, isDenied},
		{"truncate changes nothing", func() error { return c.Truncate("mine.txt", 0) }, func(err error) bool { return err == nil }},
		{"chtimes changes nothing", func() error { return c.Chtimes("mine.txt", time.Unix(0, 0), time.Unix(0, 0)) }, func(err error) bool { return err == nil }},
	}
	for _, p := range probes {
		t.Run("probe/"+p.name, func(t *testing.T) {
			before := w.snapshot(t)
			if err := p.do(); !p.want(err) {
				t.Errorf("%s: %v", p.name, err)
			}
			w.unchanged(t, before)
		})
	}

	w.try(t, w.h.Send, alice.key(), []attempt{
		{name: "list", cmd: "ls", anyExit: true, want: denied},
		{name: "list long", cmd: "ls -la /", anyExit: true, want: denied},
		{name: "list own folder", cmd: "ls full", anyExit: true, want: denied},
		{name: "list other sender", cmd: "ls ../bob", anyExit: true, want: notFound},
		{name: "read", cmd: "get mine.txt LOCAL/got", want: denied},
		{name: "read other sender", cmd: "get ../bob/secret.txt LOCAL/got", want: refused},
		{name: "read other sender absolute", cmd: "get /../bob/secret.txt LOCAL/got", want: refused},
		{name: "read the host", cmd: "get /../../../etc/passwd LOCAL/got", want: refused},
		{name: "read the canary", cmd: "get ../../../outside/canary.txt LOCAL/got", want: refused},
		{name: "remove", cmd: "rm mine.txt", want: denied},
		{name: "remove other sender", cmd: "rm ../bob/secret.txt", want: refused},
		{name: "remove folder", cmd: "rmdir dir", want: denied},
		{name: "rename", cmd: "rename mine.txt renamed.txt", want: denied},
		{name: "rename over", cmd: "rename mine.txt other.txt", want: denied},
		{name: "rename folder", cmd: "rename full empty", want: denied},
		{name: "symlink", cmd: "symlink mine.txt link.txt", want: denied},
		{name: "symlink out", cmd: "ln -s ../../../outside/canary.txt link.txt", want: denied},
		{name: "hard link", cmd: "ln mine.txt link.txt", want: denied},
		{name: "chmod changes nothing", cmd: "chmod 777 mine.txt", ok: true},
		{name: "overwrite keeps both", cmd: "put LOCAL/new.bin mine.txt", ok: true,
			allow: alices("mine (2).txt"), landed: alices("mine (2).txt")[0]},
		{name: "overwrite in folder keeps both", cmd: "put LOCAL/new.bin full/x.txt", ok: true,
			allow: alices("full/x (2).txt"), landed: alices("full/x (2).txt")[0]},
		{name: "upload into other sender stays own", cmd: "put LOCAL/new.bin ../bob/secret.txt", ok: true,
			allow: alices("bob", "bob/secret.txt"), landed: alices("bob/secret.txt")[0]},
		{name: "upload out stays own", cmd: "put LOCAL/new.bin /../../../outside/canary.txt", ok: true,
			allow: alices("outside", "outside/canary.txt"), landed: alices("outside/canary.txt")[0]},
		{name: "folder out stays own", cmd: "mkdir ../../up", ok: true, allow: alices("up")},
		{name: "upload to bookkeeping", cmd: "put LOCAL/new.bin .buktu-partial/x", want: denied},
		{name: "folder for bookkeeping", cmd: "mkdir /.buktu-partial", want: denied},
	})
}

// exchangeWorld is a world whose exchange folder holds files, folders and symlinks, some of
// them leading outside.
func exchangeWorld(t *testing.T) (*world, []byte) {
	t.Helper()
	w := newWorld(t)
	x := w.exchange("")
	lf := writeRandom(t, filepath.Join(x, "lf.bin"), 3000)
	for name, data := range map[string]string{"sub/in.txt": "inside\n", "etc/passwd": "the exchange's own passwd\n", "full/x.txt": "x\n"} {
		if err := os.MkdirAll(filepath.Dir(w.exchange(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(w.exchange(name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"out":      w.outside,
		"outrel":   "../../outside",
		"canlink":  filepath.Join(w.outside, "canary.txt"),
		"canrel":   "../../outside/canary.txt",
		"dangling": filepath.Join(w.outside, "new.txt"),
		"sub/up":   "../../../outside/canary.txt",
		"inlink":   "sub/in.txt",
		"loop":     "loop",
	}
	for name, target := range links {
		if err := os.Symlink(target, w.exchange(name)); err != nil {
			t.Fatal(err)
		}
	}
	return w, lf
}

// TestExchangeTraversal names paths outside the exchange folder in every way a client can:
// they resolve inside it, so the host's /etc is never reached, and the canary next to the
// data directory is never read or changed.
func TestExchangeTraversal(t *testing.T) {
	t.Parallel()
	w, _ := exchangeWorld(t)
	alice := w.user(t, "alice", "exchange:read", "exchange:write", "exchange:delete")
	w.try(t, w.h.Exchange, alice.key(), []attempt{
		{name: "absolute missing", cmd: "get /etc/shadow LOCAL/got", want: notFound},
		{name: "climbing missing", cmd: "get /../../etc/shadow LOCAL/got", want: notFound},
		{name: "relative climbing missing", cmd: "get ../../../../etc/hostname LOCAL/got", want: notFound},
		{name: "canary", cmd: "get ../../outside/canary.txt LOCAL/got", want: notFound},
		{name: "canary absolute", cmd: "get /../../outside/canary.txt LOCAL/got", want: notFound},
		{name: "list above", cmd: "ls ../../outside", anyExit: true, want: notFound},
		{name: "upload above", cmd: "put LOCAL/new.bin ../../outside/evil.txt", want: notFound},
		{name: "folder above", cmd: "mkdir ../../outside/evil", want: refused},
		{name: "move out", cmd: "rename lf.bin ../../outside/lf.bin", want: refused},
		{name: "move canary in", cmd: "rename ../../outside/canary.txt stolen.txt", want: refused},
		{name: "remove canary", cmd: "rm ../../outside/canary.txt", want: refused},
		{name: "chmod canary", cmd: "chmod 777 ../../outside/canary.txt", want: refused},
		{name: "upload climbing lands inside", cmd: "put LOCAL/new.bin /../../evil.txt", ok: true,
			allow: []string{"data/exchange/evil.txt"}, landed: "data/exchange/evil.txt"},
		{name: "bookkeeping", cmd: "ls /.buktu-partial", anyExit: true, want: refused},
		{name: "bookkeeping climbing", cmd: "put LOCAL/new.bin sub/../.buktu-partial/x", want: denied},
	})
	// /etc/passwd is the exchange's own etc/passwd, however the path climbs.
	for _, p := range []string{"/etc/passwd", "/../../etc/passwd", "../../../etc/passwd", "etc/../../etc/passwd"} {
		local := t.TempDir()
		out, code := sftpDo(t, w.h.Exchange, alice.key(), "get "+p+" "+local+"/got")
		mustRun(t, "sftp get "+p, out, code)
		sameFile(t, filepath.Join(local, "got"), []byte("the exchange's own passwd\n"))
	}
}

// TestExchangeSymlinks checks that symlinks the host's owner made inside the exchange folder
// lead nowhere outside it, for reading, writing, listing or changing attributes, and that
// clients cannot make symlinks or hard links at all. Symlinks inside the folder work.
func TestExchangeSymlinks(t *testing.T) {
	t.Parallel()
	w, _ := exchangeWorld(t)
	alice := w.user(t, "alice", "exchange:read", "exchange:write", "exchange:delete")
	w.try(t, w.h.Exchange, alice.key(), []attempt{
		{name: "get link to canary", cmd: "get canlink LOCAL/got", want: refused},
		{name: "get relative link to canary", cmd: "get canrel LOCAL/got", want: refused},
		{name: "get through folder link", cmd: "get out/canary.txt LOCAL/got", want: refused},
		{name: "get through relative folder link", cmd: "get outrel/canary.txt LOCAL/got", want: refused},
		{name: "get link in subfolder", cmd: "get sub/up LOCAL/got", want: refused},
		{name: "get loop", cmd: "get loop LOCAL/got", want: refused},
		// ls shows a link to a folder outside as the link itself, never what is in the folder.
		{name: "list folder link", cmd: "ls out/", anyExit: true, want: `^sftp> ls out/\s+out/\s+$`},
		{name: "list relative folder link", cmd: "ls -l outrel/", anyExit: true, want: `^sftp> ls -l outrel/\s+l\S+ .* outrel/\s+$`},
		{name: "list in folder link", cmd: "ls out/canary.txt", anyExit: true, want: refused},
		{name: "cd into folder link", cmd: "cd out", want: refused},
		{name: "put through folder link", cmd: "put LOCAL/new.bin out/evil.txt", want: refused},
		{name: "put through relative folder link", cmd: "put LOCAL/new.bin outrel/evil.txt", want: refused},
		{name: "put onto link to canary", cmd: "put LOCAL/new.bin canlink", want: refused},
		{name: "put onto dangling link", cmd: "put LOCAL/new.bin dangling", want: refused},
		{name: "put onto link in subfolder", cmd: "put LOCAL/new.bin sub/up", want: refused},
		{name: "mkdir through folder link", cmd: "mkdir out/evil", want: refused},
		{name: "rename into folder link", cmd: "rename lf.bin out/lf.bin", want: refused},
		{name: "rename out of folder link", cmd: "rename out/canary.txt stolen.txt", want: refused},
		{name: "remove through folder link", cmd: "rm out/canary.txt", want: refused},
		{name: "chmod link to canary", cmd: "chmod 600 canlink", want: refused},
		{name: "chmod folder link", cmd: "chmod 700 out", want: refused},
		{name: "symlink", cmd: "symlink lf.bin s1", want: denied},
		{name: "ln -s", cmd: "ln -s lf.bin s2", want: denied},
		{name: "symlink out", cmd: "symlink ../../outside/canary.txt s3", want: denied},
		{name: "symlink absolute", cmd: "symlink /etc/passwd s4", want: denied},
		{name: "hard link", cmd: "ln lf.bin s5", want: denied},
		{name: "get link inside", cmd: "get inlink LOCAL/got", ok: true},
		{name: "remove link removes only the link", cmd: "rm canrel", ok: true, allow: []string{"data/exchange/canrel"}},
	})

	c := w.dialSFTP(t, w.h.Exchange, alice)
	refusedErr := func(err error) bool { return isDenied(err) || notExist(err) }
	probes := []struct {
		name string
		do   func() error
	}{
		{"readlink", func() error { _, err := c.ReadLink("canlink"); return err }},
		{"stat link", func() error { _, err := c.Stat("canlink"); return err }},
		{"open link", func() error { _, err := c.Open("canlink"); return err }},
		{"create on dangling link", func() error { _, err := c.Create("dangling"); return err }},
		{"create through folder link", func() error { _, err := c.Create("out/evil.txt"); return err }},
		{"truncate link", func() error { return c.Truncate("canlink", 0) }},
		{"chtimes link", func() error { return c.Chtimes("canlink", time.Unix(0, 0), time.Unix(0, 0)) }},
		{"chmod through folder link", func() error { return c.Chmod("out/canary.txt", 0o777) }},
		{"legacy rename out", func() error { return c.Rename("lf.bin", "outrel/lf.bin") }},
		{"posix rename out", func() error { return c.PosixRename("lf.bin", "out/lf.bin") }},
		{"posix rename in", func() error { return c.PosixRename("out/canary.txt", "lf.bin") }},
		{"symlink", func() error { return c.Symlink("../../outside/canary.txt", "s6") }},
		{"link", func() error { return c.Link("lf.bin", "s7") }},
		{"read dir through link", func() error { _, err := c.ReadDir("out"); return err }},
	}
	for _, p := range probes {
		t.Run("probe/"+p.name, func(t *testing.T) {
			before := w.snapshot(t)
			if err := p.do(); !refusedErr(err) {
				t.Errorf("%s: %v; want permission denied or no such file", p.name, err)
			}
			w.unchanged(t, before)
		})
	}
}

// TestExchangeDownloadAll downloads the whole exchange folder, symlinks out and all, with
// every client: none may bring back the canary.
func TestExchangeDownloadAll(t *testing.T) {
	t.Parallel()
	w, lf := exchangeWorld(t)
	alice := w.user(t, "alice", "exchange:read")
	before := w.snapshot(t)
	clients := []struct {
		name string
		get  func(t *testing.T, dir string) string
	}{
		{"sftp", func(t *testing.T, dir string) string {
			out, _ := testenv.SFTP(t, w.h.Exchange, alice.key(), "get -R / "+dir+"\n")
			return out
		}},
		{"scp", func(t *testing.T, dir string) string {
			out, _ := testenv.SCP(t, w.h.Exchange, alice.key(), "REMOTE:/", dir, "-r")
			return out
		}},
		{"rclone", func(t *testing.T, dir string) string {
			out, _ := testenv.Rclone(t, w.h.Exchange, alice.key(), "copy", "REMOTE:", dir)
			return out
		}},
		{"lftp", func(t *testing.T, dir string) string {
			out, _ := testenv.Lftp(t, w.h.Exchange, alice.pw(), "mirror / "+dir)
			return out
		}},
		{"buktu", func(t *testing.T, dir string) string {
			out, errOut, _ := w.h.Buktu(t, "", testenv.ClientEnv(t, ""), "get", "-i", alice.keyFile, "--known-hosts",
				filepath.Join(t.TempDir(), "kh"), "alice@"+w.h.Exchange+":", dir)
			return out + errOut
		}},
	}
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			out := c.get(t, dir)
			w.noCanary(t, out, dir)
			// What is really in the folder does arrive, wherever the client puts the top.
			var found bool
			filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && d.Name() == "lf.bin" {
					if b, _ := os.ReadFile(p); slices.Equal(b, lf) {
						found = true
					}
				}
				return nil
			})
			if !found {
				t.Errorf("%s did not download lf.bin:\n%s", c.name, out)
			}
		})
	}
	w.unchanged(t, before)
}
