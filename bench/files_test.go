package bench

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The data sets of the benchmark. Each runs twice: on a two-core machine with a
// virtual disk, where creating a small file costs half a millisecond, a third run of every
// tool would take `make bench` well past ten minutes.
var benchData = []dataset{
	{Title: "1 GiB file", Name: "large.bin", Files: 1, Size: 1 << 30, Runs: 2},
	{Title: "10,000 × 4 KiB", Name: "small", Files: 10000, Size: 4 << 10, Runs: 2},
	{Title: "1,000 × 1 MiB", Name: "medium", Files: 1000, Size: 1 << 20, Runs: 2},
}

// target is a speedup the issue asks of buktu over a peer for a data set, both ways.
type target struct {
	data, peer string
	want       float64
}

var targets = []target{
	{"large.bin", "scp", 1.5},
	{"small", "scp", 3},
	{"small", "rsync", 2},
}

// hostMemoryTarget is the most the host may hold resident during the runs.
const hostMemoryTarget = 64 << 20

// buktuCipher is what buktu's client negotiates with its host: the first of its preferences
// (internal/transfer), which the host offers.
const buktuCipher = "aes128-gcm@openssh.com"

// BenchmarkFiles moves each data set with buktu and with OpenSSH's scp, sftp and rsync, both
// ways, on loopback, and reports buktu's speedup over each (above 1 means buktu is faster)
// and the host's peak memory. It prints a Markdown table and writes it to results/files.md.
func BenchmarkFiles(b *testing.B) {
	start := time.Now()
	bed := newBed(b)
	bed.settle = true
	var outs []outcome
	for i, d := range benchData {
		b.Run(d.Name, func(b *testing.B) {
			var out outcome
			for b.Loop() {
				out = bed.measure(b, d, byte(i+1))
			}
			for _, dir := range []struct {
				name string
				rs   []result
			}{{"send", out.Send}, {"get", out.Get}} {
				for _, r := range dir.rs[1:] {
					b.ReportMetric(speedup(dir.rs[0], r), "x-vs-"+r.Tool+"-"+dir.name)
				}
				b.ReportMetric(float64(dir.rs[0].Peak)/(1<<20), "host-MiB-"+dir.name)
			}
			outs = append(outs, out)
		})
	}
	if len(outs) == 0 {
		return
	}
	var table bytes.Buffer
	writeTable(&table, bed, outs)
	fmt.Fprintf(&table, "The benchmark took %.1f minutes.\n", time.Since(start).Minutes())
	fmt.Print("\n" + table.String())
	if err := os.MkdirAll("results", 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("results", "files.md"), table.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
}

// speedup is how many times faster buktu's best run was than the peer's.
func speedup(buktu, peer result) float64 {
	return peer.Best().Seconds() / buktu.Best().Seconds()
}

// writeTable writes the results as Markdown, with the machine they were measured on.
func writeTable(w io.Writer, bed *bed, outs []outcome) {
	fmt.Fprintf(w, "Files on loopback: buktu%s against %s, measured %s.\n\n", revision(), bed.ssh.Version, time.Now().Format("2006-01-02"))
	fmt.Fprintf(w, "| data | way | buktu | scp | sftp | rsync | buktu ÷ scp | ÷ sftp | ÷ rsync | host peak RSS | sshd peak PSS |\n")
	fmt.Fprintf(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, o := range outs {
		for _, dir := range []struct {
			name string
			rs   []result
		}{{"send ↑", o.Send}, {"get ↓", o.Get}} {
			fmt.Fprintf(w, "| %s | %s |", o.Data.Title, dir.name)
			var sshPeak int64
			for _, r := range dir.rs {
				fmt.Fprintf(w, " %s |", cell(r, o.Data.Bytes()))
				if r.Tool != "buktu" {
					sshPeak = max(sshPeak, r.Peak)
				}
			}
			for _, r := range dir.rs[1:] {
				fmt.Fprintf(w, " %.2f× |", speedup(dir.rs[0], r))
			}
			fmt.Fprintf(w, " %s | %s |\n", mib(dir.rs[0].Peak), mib(sshPeak))
		}
	}
	fmt.Fprintf(w, "\nEach cell is the best of %s, as wall time and MiB/s; a ratio above 1 means buktu was faster. ", runsOf(outs))
	fmt.Fprintf(w, "send is `buktu send` into the inbox against `scp -r`, `sftp` `put -r` and `rsync -a` into a fresh folder; ")
	fmt.Fprintf(w, "get is `buktu get` from the exchange folder against the same tools the other way. Every run is checked (file count, sizes, SHA-256).\n\n")
	fmt.Fprintf(w, "Targets:\n\n")
	byName := map[string]outcome{}
	for _, o := range outs {
		byName[o.Data.Name] = o
	}
	for _, t := range targets {
		o, ok := byName[t.data]
		if !ok {
			continue
		}
		for _, dir := range []struct {
			name string
			rs   []result
		}{{"send", o.Send}, {"get", o.Get}} {
			for _, r := range dir.rs[1:] {
				if r.Tool == t.peer {
					got := speedup(dir.rs[0], r)
					fmt.Fprintf(w, "- %s, %s: at least %.1f× %s — %.2f× %s\n", o.Data.Title, dir.name, t.want, t.peer, got, mark(got >= t.want))
				}
			}
		}
	}
	var peak int64
	for _, o := range outs {
		peak = max(peak, o.Send[0].Peak, o.Get[0].Peak)
	}
	fmt.Fprintf(w, "- host memory under %s during the runs — peak %s %s\n\n", mib(hostMemoryTarget), mib(peak), mark(peak < hostMemoryTarget))
	fmt.Fprintf(w, "Ciphers: OpenSSH's defaults chose %s; buktu uses %s. ", bed.ssh.Cipher, buktuCipher)
	fmt.Fprintf(w, "OpenSSH's tools do not fsync what they write; buktu makes every file durable before it shows it (the host on send, the client on get; small files in batches, with one syncfs each). ")
	fmt.Fprintf(w, "Every tool logs in with the same Ed25519 key. ")
	fmt.Fprintf(w, "The copies of a data set are moved aside between runs and removed together after its last, and the next data set waits %s: ext4 without a journal does not reuse an inode freed less than a minute ago and pays for skipping each one. ", settleTime)
	fmt.Fprintf(w, "Host peak RSS is the buktu host's VmHWM (reset before each run) and VmRSS sampled every 50 ms; ")
	fmt.Fprintf(w, "sshd's is the summed PSS of its process tree (per-connection processes, rsync's server side), sampled.\n\n")
	fmt.Fprintf(w, "Machine: %s, %d CPUs, Linux %s, %s, %s, %s; data on %s.  \n", cpuModel(), runtime.NumCPU(), kernel(), runtime.Version(), bed.ssh.Version, rsyncVersion(), filesystem(os.TempDir()))
	fmt.Fprintf(w, "Command: `make bench` (`go test -tags turbojpeg -run=NONE -bench='BenchmarkFiles|BenchmarkScreen$' -benchtime=1x -timeout 60m ./bench/`).\n")
}

// runsOf says how many runs each data set had.
func runsOf(outs []outcome) string {
	var parts []string
	for _, o := range outs {
		parts = append(parts, fmt.Sprintf("%d (%s)", o.Data.Runs, o.Data.Title))
	}
	if len(parts) > 0 && !slices.ContainsFunc(outs, func(o outcome) bool { return o.Data.Runs != outs[0].Data.Runs }) {
		return fmt.Sprintf("%d runs", outs[0].Data.Runs)
	}
	return "the runs: " + strings.Join(parts, ", ")
}

func cell(r result, bytes int64) string {
	if len(r.Times) == 0 {
		return "–"
	}
	best := r.Best()
	return fmt.Sprintf("%s · %.0f MiB/s", seconds(best), float64(bytes)/(1<<20)/best.Seconds())
}

func seconds(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }

func mark(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗ (missed)"
}

// revision names the commit the benchmark ran on, when it ran in a git checkout.
func revision() string {
	out, err := exec.Command("git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return ""
	}
	return " " + strings.TrimSpace(string(out))
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func kernel() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(b))
}

func rsyncVersion() string {
	out, _ := exec.Command("rsync", "--version").Output()
	f := strings.Fields(string(out))
	if len(f) >= 3 {
		return "rsync " + f[2]
	}
	return "rsync"
}

// filesystem names the file system that holds dir: fsync is free on tmpfs and not on a disk.
// journal says whether the ext4 file system holding dir has a journal, as far as /sys and
// /proc tell: without one, every fsync and every freed inode cost differently (see settleTime).
func journal(dir string) string {
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		return ""
	}
	dev, err := os.Readlink(fmt.Sprintf("/sys/dev/block/%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev)))
	if err != nil {
		return ""
	}
	if m, _ := filepath.Glob("/proc/fs/jbd2/" + filepath.Base(dev) + "-*"); len(m) > 0 {
		return " with a journal"
	}
	return " without a journal"
}

func filesystem(dir string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "?"
	}
	names := map[int64]string{0xef53: "ext4", 0x01021994: "tmpfs", 0x9123683e: "btrfs", 0x58465342: "xfs", 0x794c7630: "overlayfs", 0x2fc12fc1: "zfs"}
	if n, ok := names[int64(st.Type)]; ok {
		if n == "ext4" {
			n += journal(dir)
		}
		return n
	}
	return fmt.Sprintf("fs 0x%x", st.Type)
}
