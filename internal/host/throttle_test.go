package host_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/buktu/buktu/internal/events"
	"github.com/buktu/buktu/internal/testenv"
)

// TestWrongPasswordsThrottled tries wrong passwords with OpenSSH's sftp until the host
// throttles: internal/auth's defaults let 3 failures go, and after the 4th make the next
// attempt wait a second. An attempt within that second is refused even with the right
// password; once it has passed, the right password works. Every decision is in the activity
// log, the refusals after the first counted into one record, and its chain stays intact.
func TestWrongPasswordsThrottled(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	victim := w.user(t, "victim", "send")
	wrong := testenv.Account{User: "victim", Password: "not-the-password"}
	for i := range 4 {
		if out, code := sftpDo(t, w.h.Send, wrong, "pwd"); code == 0 {
			t.Fatalf("wrong password %d was accepted:\n%s", i+1, out)
		}
	}
	if out, code := sftpDo(t, w.h.Send, victim.pw(), "pwd"); code == 0 {
		t.Errorf("the right password was accepted at once after 4 wrong ones:\n%s", out)
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, code := sftpDo(t, w.h.Send, victim.pw(), "pwd")
		if code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the right password is still refused 30s after the failures:\n%s", out)
		}
		<-tick.C
	}

	// The first refusal is written at once; the ones after it are counted into one record,
	// written before the success from the same address.
	recs := w.h.Records(t, "--kind", "login", "--account", "victim")
	counts := map[string]uint64{}
	var got []string
	for _, r := range recs {
		if r.Service != "send" || r.Method != "password" || r.Remote == "" {
			t.Errorf("login record without service, method or remote: %+v", r)
		}
		switch {
		case r.Outcome == events.OutcomeOK:
			counts["ok"]++
			got = append(got, "ok")
		case r.Count == 0:
			counts[r.Reason]++
			got = append(got, r.Reason)
		default:
			for reason, n := range r.Reasons {
				counts[reason] += n
			}
			got = append(got, fmt.Sprintf("%d counted", r.Count))
		}
	}
	if len(recs) != 3 || recs[0].Reason != "bad password" || recs[1].Count == 0 || recs[2].Outcome != events.OutcomeOK ||
		counts["bad password"] != 4 || counts["throttled"] == 0 || counts["ok"] != 1 {
		t.Errorf("login decisions logged: %s, standing for %v\nwant: bad password, N counted, ok, standing for 4 bad passwords, some throttled, 1 ok",
			strings.Join(got, ", "), counts)
	}
	out, errOut, code := w.h.Buktu(t, "", nil, "log", "verify", "--data", w.data)
	if code != 0 || !strings.HasPrefix(out, "ok: ") {
		t.Errorf("buktu log verify: exit code %d\n%s%s", code, out, errOut)
	}
}

// TestConcurrentLoginsNotThrottled logs in with the right password on six connections at
// once from one address, as rclone's connection pool, a parallel transfer or several people
// behind one NAT do. None of them failed, so none may be throttled. (This uses the Go SSH
// client, which can start the six logins at the same moment.)
func TestConcurrentLoginsNotThrottled(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	alice := w.user(t, "alice", "send")
	cfg := w.sshConfig(t, alice.name, ssh.Password(alice.password))
	const n = 6 // below limits.max_sessions_per_address
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			c, err := ssh.Dial("tcp", w.h.Send, cfg)
			if err == nil {
				c.Close()
			}
			errs[i] = err
		})
	}
	close(start)
	wg.Wait()
	var failed []string
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err.Error())
		}
	}
	if len(failed) > 0 {
		var reasons []string
		for _, r := range w.h.Records(t, "--kind", "login", "--account", "alice") {
			reasons = append(reasons, r.Outcome+" "+r.Reason)
		}
		t.Errorf("%d of %d logins with the right password failed: %s\nlogged: %s", len(failed), n, failed[0], strings.Join(reasons, ", "))
	}
}
