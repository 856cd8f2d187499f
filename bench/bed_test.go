package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/testenv"
)

// bed is a buktu host and an OpenSSH server side by side, with what their clients need.
type bed struct {
	host    *testenv.Host
	hostPID int
	ssh     *openSSH
	known   string // buktu's known_hosts file
	// settle syncs the disks between runs, so that one run's write-back does not slow the
	// next; a test that does not time its runs leaves it off.
	settle bool
	// trash holds the copies of the data set being measured, moved aside (see settleTime);
	// discarded counts them.
	trash     string
	discarded int
}

func newBed(tb testing.TB) *bed {
	tb.Helper()
	b := &bed{ssh: startOpenSSH(tb), host: testenv.StartHost(tb, "")}
	b.hostPID = pidOf(b.host.Bin, "serve", "--data", b.host.DataDir)
	if b.hostPID == 0 {
		tb.Fatalf("find the pid of the buktu host on %s", b.host.DataDir)
	}
	b.known = filepath.Join(tb.TempDir(), "known_hosts")
	b.trash = filepath.Join(tb.TempDir(), "trash")
	// buktu logs in with the key OpenSSH's tools use, so every tool pays the same for its
	// login (a password costs the host an argon2id hash and 19 MiB while it runs).
	b.host.AddKey(tb, "admin", b.ssh.Key)
	return b
}

// inbox is the folder where the admin's sends land.
func (b *bed) inbox() string { return filepath.Join(b.host.DataDir, "inbox", "admin") }

// exchange is the host's exchange folder.
func (b *bed) exchange() string { return filepath.Join(b.host.DataDir, "exchange") }

// tool is one way of moving a data set: a client and the server it talks to.
type tool struct {
	Name string
	// Send returns the command that copies item to the server, given a fresh empty folder,
	// and the folder where item lands.
	Send func(ctx context.Context, item, fresh string) (*exec.Cmd, string)
	// Get returns the command that copies the server's copy of item into the folder local.
	Get func(ctx context.Context, item, local string) *exec.Cmd
	// Memory returns the server side's memory now.
	Memory func() int64
	// Reset starts a new peak and Peak returns it, where the kernel keeps one; else nil.
	Reset func()
	Peak  func() int64
}

func (b *bed) tools() []tool {
	o := b.ssh
	sshMemory := func() int64 {
		var n int64
		for _, p := range tree(o.pid) {
			n += pss(p)
		}
		return n
	}
	port := []string{"-P", o.Port}
	scpArgs := func(src, dst string) []string {
		return append(append(append([]string{"-r"}, port...), o.options()...), src, dst)
	}
	sftp := func(ctx context.Context, batch string) *exec.Cmd {
		args := append(append([]string{"-b", "-"}, port...), o.options()...)
		cmd := exec.CommandContext(ctx, "sftp", append(args, o.User+"@127.0.0.1")...)
		cmd.Stdin = strings.NewReader(batch)
		return cmd
	}
	buktu := func(ctx context.Context, args ...string) *exec.Cmd {
		return exec.CommandContext(ctx, b.host.Bin, append(args, "--known-hosts", b.known, "-q", "-i", o.Key)...)
	}
	return []tool{
		{
			Name: "buktu",
			Send: func(ctx context.Context, item, _ string) (*exec.Cmd, string) {
				return buktu(ctx, "send", "admin@"+b.host.Send, item), b.inbox()
			},
			Get: func(ctx context.Context, item, local string) *exec.Cmd {
				return buktu(ctx, "get", "admin@"+b.host.Exchange+":"+filepath.Base(item), local)
			},
			Memory: func() int64 { return rss(b.hostPID) },
			Reset:  func() { resetPeak(b.hostPID) },
			Peak:   func() int64 { return hwm(b.hostPID) },
		},
		{
			Name: "scp",
			Send: func(ctx context.Context, item, fresh string) (*exec.Cmd, string) {
				return exec.CommandContext(ctx, "scp", scpArgs(item, o.remote()+fresh+"/")...), fresh
			},
			Get: func(ctx context.Context, item, local string) *exec.Cmd {
				return exec.CommandContext(ctx, "scp", scpArgs(o.remote()+item, local+"/")...)
			},
			Memory: sshMemory,
		},
		{
			Name: "sftp",
			Send: func(ctx context.Context, item, fresh string) (*exec.Cmd, string) {
				return sftp(ctx, fmt.Sprintf("put -r %q %q\n", item, fresh+"/")), fresh
			},
			Get: func(ctx context.Context, item, local string) *exec.Cmd {
				return sftp(ctx, fmt.Sprintf("get -r %q %q\n", item, local+"/"))
			},
			Memory: sshMemory,
		},
		{
			Name: "rsync",
			Send: func(ctx context.Context, item, fresh string) (*exec.Cmd, string) {
				return exec.CommandContext(ctx, "rsync", "-a", "-e", o.rsh(), item, o.remote()+fresh+"/"), fresh
			},
			Get: func(ctx context.Context, item, local string) *exec.Cmd {
				return exec.CommandContext(ctx, "rsync", "-a", "-e", o.rsh(), o.remote()+item, local+"/")
			},
			Memory: sshMemory,
		},
	}
}

// result is one tool's runs in one direction over one data set.
type result struct {
	Tool  string
	Times []time.Duration
	Peak  int64 // the server side's largest memory during the runs
}

// Best is the fastest run.
func (r result) Best() time.Duration {
	best := r.Times[0]
	for _, t := range r.Times[1:] {
		best = min(best, t)
	}
	return best
}

// outcome is a data set's results, in the order of bed.tools.
type outcome struct {
	Data      dataset
	Send, Get []result
}

// measure moves d with every tool, both ways, d.Runs times each, verifying every run. Runs
// rotate through the tools so that no tool always goes first; between runs the copy is
// removed (and with settle the disks synced).
func (b *bed) measure(tb testing.TB, d dataset, seed byte) outcome {
	tb.Helper()
	ctx := tb.Context()
	work := tb.TempDir()
	m, err := generate(filepath.Join(work, "src"), d, seed)
	if err != nil {
		tb.Fatal(err)
	}
	shared := filepath.Join(b.exchange(), d.Name)
	if err := linkTree(m.path, shared); err != nil {
		tb.Fatalf("link the data set into the exchange folder: %v", err)
	}
	defer os.RemoveAll(shared)
	defer b.emptyTrash()
	b.sync()

	tools := b.tools()
	out := outcome{Data: d, Send: make([]result, len(tools)), Get: make([]result, len(tools))}
	for i, t := range tools {
		out.Send[i].Tool, out.Get[i].Tool = t.Name, t.Name
	}
	for rep := range d.Runs {
		for k := range tools {
			i := (k + rep) % len(tools)
			t := tools[i]
			fresh := filepath.Join(work, fmt.Sprintf("to-%s-%d", t.Name, rep))
			if err := os.Mkdir(fresh, 0o755); err != nil {
				tb.Fatal(err)
			}
			b.discard(tb, b.inbox())
			cmd, landed := t.Send(ctx, m.path, fresh)
			b.run(tb, t, cmd, &out.Send[i], filepath.Join(landed, d.Name), m)
			b.discard(tb, landed)
			b.discard(tb, fresh)
			b.sync()
		}
		for k := range tools {
			i := (k + rep) % len(tools)
			t := tools[i]
			local := filepath.Join(work, fmt.Sprintf("from-%s-%d", t.Name, rep))
			if err := os.Mkdir(local, 0o755); err != nil {
				tb.Fatal(err)
			}
			b.run(tb, t, t.Get(ctx, m.path, local), &out.Get[i], filepath.Join(local, d.Name), m)
			b.discard(tb, local)
			b.sync()
		}
	}
	return out
}

func (b *bed) sync() {
	if b.settle {
		syscall.Sync()
	}
}

// settleTime is how long the next data set waits after this one's copies were removed and
// the disk synced. ext4 without a journal (this project's benchmark machine) does not reuse an
// inode freed less than a minute ago, and walks past every such inode each time it creates a
// file: right after 10,000 files were removed, creating 10,000 more takes seconds longer, for
// whichever tool comes next. So the copies of one data set are removed together at its end
// (until then moved aside, which frees nothing), and the next waits that minute out.
const settleTime = 65 * time.Second

// discard moves a copy out of the way without freeing its inodes (see settleTime).
func (b *bed) discard(tb testing.TB, path string) {
	tb.Helper()
	if _, err := os.Lstat(path); err != nil {
		return
	}
	b.discarded++
	if err := os.MkdirAll(b.trash, 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(path, filepath.Join(b.trash, strconv.Itoa(b.discarded))); err != nil {
		tb.Fatalf("move a copy aside: %v", err)
	}
}

// emptyTrash removes the discarded copies and, when settling, waits until their inodes can be
// used again.
func (b *bed) emptyTrash() {
	os.RemoveAll(b.trash)
	if b.settle {
		syscall.Sync()
		time.Sleep(settleTime)
	}
}

// run times one command, samples the server side's memory meanwhile, and verifies what
// arrived at got.
func (b *bed) run(tb testing.TB, t tool, cmd *exec.Cmd, r *result, got string, m *manifest) {
	tb.Helper()
	var output testenv.LockedBuffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if t.Reset != nil {
		t.Reset()
	}
	s := sample(t.Memory)
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	peak := s.Stop()
	if t.Peak != nil {
		peak = max(peak, t.Peak())
	}
	if err != nil {
		tb.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, tail(output.String(), 2000))
	}
	if err := m.verify(got); err != nil {
		tb.Fatalf("%s delivered the wrong thing: %v", strings.Join(cmd.Args, " "), err)
	}
	r.Times = append(r.Times, elapsed)
	r.Peak = max(r.Peak, peak)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
