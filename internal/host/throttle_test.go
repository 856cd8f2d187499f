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
// throttles: internal/auth's defaults let 5 failures from one address go, and after the 6th
// make the next attempt from there wait a second. An attempt within that second is refused
// even with the right password, and OpenSSH shows the person why; the account's key still
// logs in from that address at once (a key is no guess); once the second has passed, the
// right password works. Every decision is in the activity log (the refusals after the first
// counted into records of their own), whose chain stays intact.
func TestWrongPasswordsThrottled(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	victim := w.user(t, "victim", "send")
	wrong := testenv.Account{User: "victim", Password: "not-the-password"}
	for i := range 6 {
		if out, code := sftpDo(t, w.h.Send, wrong, "pwd"); code == 0 {
			t.Fatalf("wrong password %d was accepted:\n%s", i+1, out)
		}
	}
	shown := victim.pw()
	shown.Banners = true
	out, code := sftpDo(t, w.h.Send, shown, "pwd")
	if code == 0 {
		t.Errorf("the right password was accepted at once after 6 wrong ones:\n%s", out)
	}
	if want := "buktu: too many failed logins from your address; try again in 1 s"; !strings.Contains(out, want) {
		t.Errorf("sftp refused while throttled said:\n%s\nwant it to say %q", out, want)
	}
	if out, code := sftpDo(t, w.h.Send, victim.key(), "pwd"); code != 0 {
		t.Errorf("the key from the throttled address was refused:\n%s", out)
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

	// The first refusal is written at once; the ones after it are counted into a record,
	// written before the next success from the same address.
	recs := w.h.Records(t, "--kind", "login", "--account", "victim")
	counts := map[string]uint64{}
	var got []string
	keys := 0
	for _, r := range recs {
		if r.Method == "publickey" && r.Outcome == events.OutcomeOK {
			keys++
			got = append(got, "key ok")
			continue
		}
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
	if len(recs) == 0 || recs[0].Reason != "bad password" || recs[len(recs)-1].Outcome != events.OutcomeOK ||
		counts["bad password"] != 6 || counts["throttled"] == 0 || counts["ok"] != 1 || keys != 1 {
		t.Errorf("login decisions logged: %s, standing for %v and %d key logins\nwant: bad password, counted …, ok, standing for 6 bad passwords, some throttled, 1 ok, 1 key login",
			strings.Join(got, ", "), counts, keys)
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
