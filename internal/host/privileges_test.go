package host_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/events"
	"github.com/buktu/buktu/internal/testenv"
)

// TestExchangePrivileges checks that each exchange privilege allows what it says and no
// more: read alone lists and downloads; write adds files and folders but, without delete,
// never replaces, truncates or removes; delete alone removes but never adds.
func TestExchangePrivileges(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for name, data := range map[string]string{"keep.txt": "keep\n", "full/x.txt": "x\n", "full/y.txt": "y\n"} {
		if err := os.MkdirAll(w.exchange("full"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(w.exchange(name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(w.exchange("empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	reader := w.user(t, "reader", "exchange:read")
	writer := w.user(t, "writer", "exchange:read", "exchange:write")
	deleter := w.user(t, "deleter", "exchange:read", "exchange:delete")
	x := func(rel ...string) []string {
		var p []string
		for _, r := range rel {
			p = append(p, "data/exchange/"+r)
		}
		return p
	}

	t.Run("read", func(t *testing.T) {
		w.try(t, w.h.Exchange, reader.key(), []attempt{
			{name: "list", cmd: "ls -l", ok: true, want: "keep.txt"},
			{name: "get", cmd: "get keep.txt LOCAL/got", ok: true},
			{name: "put", cmd: "put LOCAL/new.bin new.txt", want: denied},
			{name: "put over", cmd: "put LOCAL/new.bin keep.txt", want: denied},
			{name: "mkdir", cmd: "mkdir made", want: denied},
			{name: "rm", cmd: "rm keep.txt", want: denied},
			{name: "rmdir", cmd: "rmdir empty", want: denied},
			{name: "rename", cmd: "rename keep.txt moved.txt", want: denied},
			{name: "chmod", cmd: "chmod 600 keep.txt", want: denied},
			{name: "symlink", cmd: "symlink keep.txt link", want: denied},
		})
		c := w.dialSFTP(t, w.h.Exchange, reader)
		before := w.snapshot(t)
		if err := c.Truncate("keep.txt", 0); !isDenied(err) {
			t.Errorf("truncate as reader: %v; want permission denied", err)
		}
		if err := c.Chtimes("keep.txt", time.Unix(1e9, 0), time.Unix(1e9, 0)); !isDenied(err) {
			t.Errorf("chtimes as reader: %v; want permission denied", err)
		}
		w.unchanged(t, before)
	})
	t.Run("write without delete", func(t *testing.T) {
		w.try(t, w.h.Exchange, writer.key(), []attempt{
			{name: "put", cmd: "put LOCAL/new.bin new.txt", ok: true, allow: x("new.txt"), landed: x("new.txt")[0]},
			{name: "mkdir", cmd: "mkdir made", ok: true, allow: x("made")},
			{name: "put over", cmd: "put LOCAL/new.bin keep.txt", want: denied},
			{name: "put over own", cmd: "put LOCAL/new.bin new.txt", want: denied},
			{name: "reput over", cmd: "reput LOCAL/new.bin keep.txt", want: refused},
			{name: "rm", cmd: "rm keep.txt", want: denied},
			{name: "rm own", cmd: "rm new.txt", want: denied},
			{name: "rmdir", cmd: "rmdir empty", want: denied},
			{name: "rename over", cmd: "rename new.txt keep.txt", want: denied},
			{name: "rename over in folder", cmd: "rename full/x.txt full/y.txt", want: denied},
			{name: "rename", cmd: "rename new.txt moved.txt", ok: true, allow: x("new.txt", "moved.txt")},
			{name: "symlink", cmd: "symlink keep.txt link", want: denied},
		})
		c := w.dialSFTP(t, w.h.Exchange, writer)
		before := w.snapshot(t)
		if err := c.Truncate("keep.txt", 0); !isDenied(err) {
			t.Errorf("truncate as writer without delete: %v; want permission denied", err)
		}
		if err := c.Rename("moved.txt", "keep.txt"); err == nil {
			t.Errorf("legacy rename over keep.txt as writer succeeded")
		}
		if _, err := c.OpenFile("keep.txt", os.O_WRONLY); err == nil {
			t.Errorf("open keep.txt to write in place as writer without delete succeeded")
		}
		w.unchanged(t, before)
	})
	t.Run("delete without write", func(t *testing.T) {
		w.try(t, w.h.Exchange, deleter.key(), []attempt{
			{name: "put", cmd: "put LOCAL/new.bin new2.txt", want: denied},
			{name: "mkdir", cmd: "mkdir made2", want: denied},
			{name: "rename", cmd: "rename keep.txt moved2.txt", want: denied},
			{name: "rm", cmd: "rm full/x.txt", ok: true, allow: x("full/x.txt")},
			{name: "rmdir", cmd: "rmdir empty", ok: true, allow: x("empty")},
		})
	})
}

// TestPortRefused checks that an account without the send privilege cannot use the send
// port at all, nor one without any exchange privilege the exchange port: the session is
// refused with a message saying why, whatever the client, and the decision is logged.
func TestPortRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	noSend := w.user(t, "nosend", "exchange:read")
	noExchange := w.user(t, "noexchange", "send")
	cases := []struct {
		name, addr, service, want string
		u                         user
		buktu                     []string
	}{
		{"send", w.h.Send, "send", "may not send files to this host", noSend,
			[]string{"send", "nosend@" + w.h.Send, "FILE"}},
		{"exchange", w.h.Exchange, "exchange", "may not use the exchange folder", noExchange,
			[]string{"put", "FILE", "noexchange@" + w.h.Exchange + ":"}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			local := t.TempDir()
			file := local + "/new.bin"
			writeRandom(t, file, 100)
			before := w.snapshot(t)
			for _, a := range []testenv.Account{tt.u.pw(), tt.u.key()} {
				out, code := sftpDo(t, tt.addr, a, "put "+file+" new.bin")
				if code == 0 || !strings.Contains(out, tt.want) {
					t.Errorf("sftp as %s: exit code %d\n%s\nwant failure and %q", tt.u.name, code, out, tt.want)
				}
			}
			out, code := testenv.SCP(t, tt.addr, tt.u.key(), file, "REMOTE:new.bin")
			if code == 0 || !strings.Contains(out, tt.want) {
				t.Errorf("scp as %s: exit code %d\n%s\nwant failure and %q", tt.u.name, code, out, tt.want)
			}
			out, code = testenv.Rclone(t, tt.addr, tt.u.pw(), "copyto", file, "REMOTE:new.bin", "--no-traverse")
			if code == 0 {
				t.Errorf("rclone as %s succeeded:\n%s", tt.u.name, out)
			}
			args := slices.Clone(tt.buktu)
			args[slices.Index(args, "FILE")] = file
			c := newClient(t, w)
			c.fails(t, tt.u.password, tt.want, args...)
			w.unchanged(t, before)

			var denials int
			for _, r := range w.h.Records(t, "--kind", "decision", "--account", tt.u.name, "--service", tt.service) {
				if r.Outcome != events.OutcomeDenied {
					t.Errorf("a decision for %s on %s was %s: %+v", tt.u.name, tt.service, r.Outcome, r)
				}
				denials++
			}
			if denials < 4 {
				t.Errorf("%d denied decisions logged for %s on %s; want one per connection", denials, tt.u.name, tt.service)
			}
		})
	}
}
