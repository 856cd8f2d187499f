package host_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/buktu/buktu/internal/events"
	"github.com/buktu/buktu/internal/testenv"
)

// hammer tries wrong passwords for root on addr, one connection after another, until d has
// passed or max attempts were made. It returns the attempts, and how many the host refused at
// authentication (others may be refused before it, by a limit on connections).
func hammer(t *testing.T, h *testenv.Host, addr string, d time.Duration, max int) (attempts, refused int) {
	t.Helper()
	pub, err := os.ReadFile(filepath.Join(h.DataDir, "ssh_host_ed25519_key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	hostKey, _, _, _, err := ssh.ParseAuthorizedKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.Password("guess")},
		HostKeyCallback: ssh.FixedHostKey(hostKey), Timeout: 30 * time.Second}
	for end := time.Now().Add(d); time.Now().Before(end) && attempts < max; attempts++ {
		c, err := ssh.Dial("tcp", addr, cfg)
		if err == nil {
			c.Close()
			t.Fatal("a wrong password logged in")
		}
		if strings.Contains(err.Error(), "unable to authenticate") {
			refused++
		}
	}
	return attempts, refused
}

// refusalsLogged returns the host's login records and how many refusals they stand for.
func refusalsLogged(t *testing.T, h *testenv.Host) ([]events.Record, int) {
	t.Helper()
	recs := h.Records(t, "--kind", events.KindLogin, "--account", "root")
	n := 0
	for _, r := range recs {
		if r.Outcome != events.OutcomeOK {
			n += int(r.Events())
		}
	}
	return recs, n
}

// checkCount fails the test unless the refusals logged add up to the attempts refused.
func checkCount(t *testing.T, logged, attempts, refused int) {
	t.Helper()
	switch {
	case refused == attempts && logged != refused:
		t.Errorf("the log counts %d refusals; the host refused %d attempts", logged, refused)
	case logged < refused || logged > attempts:
		t.Errorf("the log counts %d refusals; want between the %d refused at authentication and the %d attempts", logged, refused, attempts)
	}
}

// verifyOK runs buktu log verify on the host's data directory and returns what it printed,
// failing the test unless it says ok.
func verifyOK(t *testing.T, h *testenv.Host) string {
	t.Helper()
	out, errOut, code := h.Buktu(t, "", nil, "log", "verify", "--data", h.DataDir)
	if code != 0 || !strings.Contains(out, "ok: ") {
		t.Errorf("buktu log verify: exit code %d\n%s%s", code, out, errOut)
	}
	return out
}

// TestRefusalsCounted hammers the send port with wrong passwords for a few seconds: the log
// gets the first refusal at once and, when the host stops, one record counting the rest.
func TestRefusalsCounted(t *testing.T) {
	t.Parallel()
	h := testenv.StartHost(t, "")
	attempts, refused := hammer(t, h, h.Send, 3*time.Second, 3000)
	if refused < 10 {
		t.Fatalf("%d of %d attempts refused at authentication; want many", refused, attempts)
	}
	if recs, n := refusalsLogged(t, h); len(recs) != 1 || n != 1 {
		t.Errorf("while the host runs: %d login records for %d refusals; want the first one only", len(recs), n)
	}
	h.Stop()
	recs, n := refusalsLogged(t, h)
	if len(recs) > 3 {
		t.Errorf("%d attempts in %d login records; want only a few", attempts, len(recs))
	}
	checkCount(t, n, attempts, refused)
	last := recs[len(recs)-1]
	if last.Count == 0 || last.Service != "send" || last.Remote != "127.0.0.1" || last.Account != "root" ||
		last.First.IsZero() || last.Last.Before(last.First) || len(last.Reasons) == 0 {
		t.Errorf("the counting record: %+v; want count, service, remote, account, first, last, reasons", last)
	}
	out, errOut, code := h.Buktu(t, "", nil, "log", "--data", h.DataDir, "--account", "root")
	if code != 0 || !strings.Contains(out, "count=") {
		t.Errorf("buktu log: exit code %d; want the count shown\n%s%s", code, out, errOut)
	}
	verifyOK(t, h)
	t.Logf("%d attempts, %d refused, in %d records", attempts, refused, len(recs))
}

// TestRefusalsWrittenEachInterval hammers the send port with a counting interval of 1 s: the
// counts are written as the intervals end, while the host runs.
func TestRefusalsWrittenEachInterval(t *testing.T) {
	t.Parallel()
	h := testenv.StartHost(t, "[log]\nactivity_refusal_interval = \"1s\"\n")
	const hammering = 2500 * time.Millisecond
	attempts, refused := hammer(t, h, h.Send, hammering, 3000)
	var recs []events.Record
	n := 0
	deadline := time.Now().Add(15 * time.Second)
	for n < refused {
		if time.Now().After(deadline) {
			t.Fatalf("15 s after the last attempt the log counts %d refusals of %d", n, refused)
		}
		time.Sleep(100 * time.Millisecond) // polling another process's file: no event to wait on
		recs, n = refusalsLogged(t, h)
	}
	// One at once, then about one a second, each a little late.
	if limit := 3 + int(hammering/time.Second); len(recs) > limit {
		t.Errorf("%d attempts in %d login records; want %d at most", attempts, len(recs), limit)
	}
	checkCount(t, n, attempts, refused)
	verifyOK(t, h)
	t.Logf("%d attempts, %d refused, in %d records", attempts, refused, len(recs))
}

// TestActivityLogRotates runs a host with a tiny activity_max_size that writes every refusal:
// the log is rotated, the oldest files beyond activity_keep are removed, and buktu log and
// buktu log verify follow the chain across the files, also after a restart; an edit at a file
// boundary is reported there.
func TestActivityLogRotates(t *testing.T) {
	t.Parallel()
	h := testenv.StartHost(t, "[log]\nactivity_max_size = 4096\nactivity_keep = 3\nactivity_refusal_interval = \"0s\"\n")
	const attempts = 120
	if n, _ := hammer(t, h, h.Send, time.Minute, attempts); n != attempts {
		t.Fatalf("%d attempts in a minute; want %d", n, attempts)
	}
	out := verifyOK(t, h)
	t.Logf("buktu log verify:\n%s", out)
	if !strings.Contains(out, "in 4 files") || !strings.Contains(out, "the chain starts at seq") {
		t.Errorf("buktu log verify: %s; want 4 files and a note that older files were removed", out)
	}
	rotated, _ := filepath.Glob(filepath.Join(h.DataDir, "activity.log.[0-9]*"))
	if len(rotated) != 3 {
		t.Errorf("rotated files %v; want 3", rotated)
	}

	h.Stop()
	h.Start(t)
	hammer(t, h, h.Send, time.Minute, 20)
	recs := h.Records(t)
	for i, r := range recs[1:] {
		if r.Seq != recs[i].Seq+1 {
			t.Fatalf("buktu log: record %d has seq %d after %d; want them in order, each once", i+1, r.Seq, recs[i].Seq)
		}
	}
	verifyOK(t, h)

	h.Stop()
	newest, n := "", 0
	rotated, _ = filepath.Glob(filepath.Join(h.DataDir, "activity.log.[0-9]*"))
	for _, name := range rotated {
		if i, err := strconv.Atoi(strings.TrimPrefix(filepath.Ext(name), ".")); err == nil && i > n {
			newest, n = name, i
		}
	}
	b, err := os.ReadFile(newest)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	lines[len(lines)-1] = strings.Replace(lines[len(lines)-1], `"root"`, `"toor"`, 1)
	if err := os.WriteFile(newest, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := h.Buktu(t, "", nil, "log", "verify", "--data", h.DataDir)
	t.Logf("buktu log verify after the edit:\n%s%s", out, errOut)
	if code == 0 || !strings.Contains(out, "broken: activity.log line 1: the chain breaks at the file boundary") ||
		!strings.Contains(errOut, "tampered with or damaged") {
		t.Errorf("buktu log verify after editing the end of %s: exit code %d; want the break at the boundary\n%s%s",
			filepath.Base(newest), code, out, errOut)
	}
}
