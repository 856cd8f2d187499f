package bench

import (
	"bytes"
	"strings"
	"testing"
)

// TestBenchSmoke runs BenchmarkFiles' machinery on tiny data sets, so the normal suite
// notices when the benchmark breaks: every tool moves them both ways against its server, and
// every file of every run is checked by content.
func TestBenchSmoke(t *testing.T) {
	bed := newBed(t)
	if pids := tree(bed.ssh.pid); len(pids) == 0 || pids[0] != bed.ssh.pid {
		t.Fatalf("tree(%d) = %v; want it to start with the sshd", bed.ssh.pid, pids)
	}
	if pss(bed.ssh.pid) <= 0 || rss(bed.hostPID) <= 0 {
		t.Fatalf("pss(sshd), rss(host) = %d, %d; want both positive", pss(bed.ssh.pid), rss(bed.hostPID))
	}
	data := []dataset{
		{Title: "1 MiB file", Name: "one.bin", Files: 1, Size: 1 << 20, Runs: 1},
		{Title: "50 × 4 KiB", Name: "few", Files: 50, Size: 4 << 10, Runs: 1},
	}
	var outs []outcome
	for i, d := range data {
		if d.Bytes() > checkAllUpTo {
			t.Fatalf("data set %s is too big to be checked by content", d.Name)
		}
		out := bed.measure(t, d, byte(100+i))
		for _, rs := range [][]result{out.Send, out.Get} {
			for _, r := range rs {
				if len(r.Times) != d.Runs {
					t.Errorf("%s with %s: %d runs, want %d", d.Name, r.Tool, len(r.Times), d.Runs)
				}
			}
			if rs[0].Peak <= 0 {
				t.Errorf("%s: the host's memory was not sampled", d.Name)
			}
		}
		outs = append(outs, out)
	}
	var table bytes.Buffer
	writeTable(&table, bed, outs)
	for _, want := range []string{"| 1 MiB file | send ↑ |", "| 50 × 4 KiB | get ↓ |", bed.ssh.Cipher, "host memory under 64 MiB"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("writeTable wrote no %q:\n%s", want, table.String())
		}
	}
}
