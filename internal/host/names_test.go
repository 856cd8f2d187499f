package host_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/buktu/buktu/internal/testenv"
)

// Names a client may give a file: what Linux file systems take and a terminal shows as it is.
// Refused, by internal/files/path.go: control characters, text that is not UTF-8, an element
// longer than 255 bytes, a path longer than limits.max_path_length (1024 bytes), and the
// host's bookkeeping folder.

// goodNames are odd but fine: each must arrive under exactly that name.
var goodNames = []string{
	"with space.txt",
	"  leading and trailing spaces  ",
	"-leading-dash.txt",
	"--help",
	"ünïcödé 日本語.txt",
	"emoji 🎉.txt",
	`quote ' and " .txt`,
	`back\slash.txt`,
	"glob*?[x].txt",
	"semi;colon&amp|pipe$HOME.txt",
	strings.Repeat("a", 251) + ".txt", // 255 bytes
	strings.Repeat("é", 127) + "x",    // 255 bytes in two-byte runes
	strings.Repeat("d", 250) + "/" + strings.Repeat("e", 250) + "/" + strings.Repeat("f", 250) + "/" + strings.Repeat("g", 200) + ".txt",
}

// badNames must be refused with "permission denied", leaving nothing behind. OpenSSH's sftp
// can send the printable ones (sftp true); the Go client sends them all.
var badNames = []struct {
	name, path string
	sftp       bool
}{
	{"newline", "new\nline.txt", false},
	{"carriage return", "cr\r.txt", false},
	{"tab", "tab\t.txt", false},
	{"bell", "bell\a.txt", false},
	{"escape sequence", "esc\x1b[31mred.txt", false},
	{"delete", "del\x7f.txt", false},
	{"nul", "nul\x00.txt", false},
	{"C1 control CSI", "csi\u009b31mred.txt", false},
	{"not UTF-8", "bad\xff\xfe.txt", false},
	{"control in folder", "dir\n/x.txt", false},
	{"element of 256 bytes", strings.Repeat("a", 252) + ".txt", true},
	{"path over 1024 bytes", strings.Repeat(strings.Repeat("p", 250)+"/", 4) + strings.Repeat("q", 100), true},
	{"bookkeeping", ".buktu-partial", true},
	{"in bookkeeping", ".buktu-partial/x", true},
	{"bookkeeping climbing", "a/../.buktu-partial/x", true},
}

func TestNames(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	alice := w.user(t, "alice", everything...)
	if err := os.WriteFile(w.exchange("lf.bin"), []byte("lf\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	services := []struct {
		name, addr string
		onDisk     func(rel string) string
	}{
		{"send", w.h.Send, func(rel string) string { return w.inbox("alice", rel) }},
		{"exchange", w.h.Exchange, w.exchange},
	}
	for _, svc := range services {
		t.Run(svc.name+"/good", func(t *testing.T) {
			// One sftp batch puts every name; the exchange needs the folders made first.
			local := t.TempDir()
			var batch strings.Builder
			sent := map[string][]byte{}
			for i, name := range goodNames {
				src := filepath.Join(local, "src", strings.Repeat("x", i+1))
				sent[name] = writeRandom(t, src, 100+i)
				if dir := filepath.Dir(name); dir != "." {
					batch.WriteString("-mkdir " + quote(strings.Split(dir, "/")[0]) + "\n")
					batch.WriteString("-mkdir " + quote(filepath.Dir(dir)) + "\n")
					batch.WriteString("mkdir " + quote(dir) + "\n")
				}
				batch.WriteString("put " + quote(src) + " " + quote(name) + "\n")
			}
			out, code := testenv.SFTP(t, svc.addr, alice.key(), batch.String())
			mustRun(t, "sftp put of odd names", out, code)
			for _, name := range goodNames {
				sameFile(t, svc.onDisk(name), sent[name])
			}
		})
		t.Run(svc.name+"/bad", func(t *testing.T) {
			c := w.dialSFTP(t, svc.addr, alice)
			for _, bad := range badNames {
				before := w.snapshot(t)
				f, err := c.Create(bad.path)
				if err == nil {
					f.Write([]byte("should not be here"))
					f.Close()
				}
				if !isDenied(err) {
					t.Errorf("%s: create %q: %v; want permission denied", bad.name, bad.path, err)
				}
				if err := c.Mkdir(bad.path); !isDenied(err) {
					t.Errorf("%s: mkdir %q: %v; want permission denied", bad.name, bad.path, err)
				}
				if svc.name == "exchange" {
					if err := c.PosixRename("lf.bin", bad.path); !isDenied(err) {
						t.Errorf("%s: rename to %q: %v; want permission denied", bad.name, bad.path, err)
					}
				}
				w.unchanged(t, before)
			}
		})
	}
	// OpenSSH's sftp hears the same for the names it can send.
	for _, bad := range badNames {
		for _, svc := range services {
			if !bad.sftp {
				continue
			}
			local := t.TempDir()
			writeRandom(t, filepath.Join(local, "new.bin"), 10)
			before := w.snapshot(t)
			out, code := sftpDo(t, svc.addr, alice.key(), "put "+quote(filepath.Join(local, "new.bin"))+" "+quote(bad.path))
			if code == 0 || !strings.Contains(out, denied) {
				t.Errorf("%s: sftp put to %q on %s: exit code %d\n%s\nwant permission denied", bad.name, bad.path, svc.name, code, out)
			}
			w.unchanged(t, before)
		}
	}
}

// TestBuktuOddNames sends, puts, lists and gets a file with an odd name with buktu.
func TestBuktuOddNames(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	alice := w.user(t, "alice", everything...)
	c := newClient(t, w)
	name := "-ünï cödé 🎉 (1).txt"
	src := filepath.Join(t.TempDir(), name)
	b := writeRandom(t, src, 777)
	c.must(t, alice.password, "send", "alice@"+w.h.Send, src)
	sameFile(t, w.inbox("alice", name), b)
	c.must(t, alice.password, "put", src, "alice@"+w.h.Exchange+":")
	sameFile(t, w.exchange(name), b)
	out, _ := c.must(t, alice.password, "ls", "alice@"+w.h.Exchange+":")
	if !strings.Contains(out, name) {
		t.Errorf("buktu ls does not show %q:\n%s", name, out)
	}
	back := t.TempDir()
	c.must(t, alice.password, "get", "alice@"+w.h.Exchange+":"+name, back)
	sameFile(t, filepath.Join(back, name), b)
}
