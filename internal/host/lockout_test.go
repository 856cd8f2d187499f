package host_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/buktu/buktu/internal/events"
	"github.com/buktu/buktu/internal/rfb"
	"github.com/buktu/buktu/internal/testenv"
)

// entry is one way in to a host: a protocol on a port.
type entry struct {
	name string
	// login logs in as account with password from the local address from, and returns what
	// the host said when it refused.
	login func(ctx context.Context, from, account, password string) error
}

// entries returns every way in to h that takes a password: SSH on the send and exchange
// ports, VeNCrypt on the control and observe ports, and the console on both.
func entries(t *testing.T, h *testenv.Host) []entry {
	tlsConf := h.ScreenTLS(t)
	return []entry{
		{"send ssh", func(ctx context.Context, from, account, password string) error {
			return sshLogin(ctx, from, h.Send, account, password)
		}},
		{"exchange ssh", func(ctx context.Context, from, account, password string) error {
			return sshLogin(ctx, from, h.Exchange, account, password)
		}},
		{"control vnc", func(ctx context.Context, from, account, password string) error {
			return vncLogin(ctx, from, h.Control, account, password, tlsConf)
		}},
		{"observe vnc", func(ctx context.Context, from, account, password string) error {
			return vncLogin(ctx, from, h.Observe, account, password, tlsConf)
		}},
		{"control console", func(ctx context.Context, from, account, password string) error {
			return consoleLogin(ctx, from, h.Control, account, password, tlsConf)
		}},
		{"observe console", func(ctx context.Context, from, account, password string) error {
			return consoleLogin(ctx, from, h.Observe, account, password, tlsConf)
		}},
	}
}

func dialFrom(ctx context.Context, from, addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: screenWait}
	return d.DialContext(ctx, "tcp", addr)
}

// sshLogin logs in with the Go SSH client; a banner the host sends is part of the error.
func sshLogin(ctx context.Context, from, addr, account, password string) error {
	nc, err := dialFrom(ctx, from, addr)
	if err != nil {
		return err
	}
	defer nc.Close()
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	var banner string
	cfg := &ssh.ClientConfig{User: account, Auth: []ssh.AuthMethod{ssh.Password(password)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), // the test checks logins, not the host's key
		BannerCallback:  func(msg string) error { banner += msg; return nil }}
	c, chans, reqs, err := ssh.NewClientConn(nc, addr, cfg)
	if err != nil {
		return fmt.Errorf("%s%w", banner, err)
	}
	ssh.NewClient(c, chans, reqs).Close()
	return nil
}

// vncLogin logs in with buktu's RFB client (VeNCrypt X509Plain).
func vncLogin(ctx context.Context, from, addr, account, password string, tlsConf *tls.Config) error {
	nc, err := dialFrom(ctx, from, addr)
	if err != nil {
		return err
	}
	c, err := rfb.NewClient(ctx, nc, rfb.ClientOptions{User: account, Password: password, TLS: tlsConf, Timeout: screenWait})
	if err != nil {
		nc.Close()
		return err
	}
	return c.Close()
}

// consoleLogin logs in to the console's API on a connection of its own.
func consoleLogin(ctx context.Context, from, addr, account, password string, tlsConf *tls.Config) error {
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf, DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) { return dialFrom(ctx, from, addr) }}}
	body, _ := json.Marshal(map[string]string{"account": account, "password": password})
	req, err := http.NewRequestWithContext(ctx, "POST", "https://"+addr+"/api/v1/login", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s (Retry-After %q)", resp.Status, bytes.TrimSpace(text), resp.Header.Get("Retry-After"))
	}
	return nil
}

// TestOwnerGetsInWhileAttacked hammers the account boss with wrong passwords from one
// address (127.0.0.2) on every port at once, and now and then logs in with the attacker's
// own account from there (which must not reset what its guesses earned). Meanwhile the owner
// logs in as boss from another address (127.0.0.1), on every port, round after round: each
// login succeeds within a second. The attacker gets no more guesses checked than the
// throttle's first minute allows (10), and is told why it is refused on each protocol.
//
// Not parallel: it measures time, so it runs while the other tests of the package wait.
func TestOwnerGetsInWhileAttacked(t *testing.T) {
	h := startScreenHostOn(t, startDisplay(t, 320, 240), "")
	const bossPW, malloryPW = "the-owners-password-7", "mallorys-own-password"
	h.AddAccount(t, "boss", bossPW, "admin")
	h.AddAccount(t, "mallory", malloryPW, "admin")
	ways := entries(t, h)

	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var mu sync.Mutex
	told := map[string]string{} // entry → what the attacker was told when throttled
	var attempts atomic.Int64
	for _, e := range ways {
		wg.Go(func() {
			for i := 0; i < 5000 && ctx.Err() == nil; i++ {
				attempts.Add(1)
				account, password := "boss", fmt.Sprint("guess-", i)
				if i%4 == 3 {
					account, password = "mallory", malloryPW
				}
				err := e.login(ctx, "127.0.0.2", account, password)
				if err != nil && strings.Contains(err.Error(), "too many failed logins from your address") {
					mu.Lock()
					told[e.name] = err.Error()
					mu.Unlock()
				}
			}
		})
	}
	t.Cleanup(func() { stop(); wg.Wait() })

	var slowest time.Duration
	for round := range 4 {
		for _, e := range ways {
			start := time.Now()
			err := e.login(t.Context(), "127.0.0.1", "boss", bossPW)
			took := time.Since(start)
			slowest = max(slowest, took)
			if err != nil {
				t.Errorf("round %d, %s: the owner's login failed after %v: %v", round+1, e.name, took, err)
			} else if took > time.Second {
				t.Errorf("round %d, %s: the owner's login took %v; want within a second", round+1, e.name, took)
			}
		}
	}
	// An owner with OpenSSH, as people log in.
	start := time.Now()
	if out, code := testenv.SFTP(t, h.Exchange, testenv.Account{User: "boss", Password: bossPW}, "pwd\n"); code != 0 {
		t.Errorf("the owner's sftp login failed:\n%s", out)
	} else if took := time.Since(start); took > time.Second {
		t.Errorf("the owner's sftp login took %v; want within a second", took)
	}
	stop()
	wg.Wait()
	t.Logf("the owner's slowest login: %v; the attacker tried %d times", slowest, attempts.Load())

	for _, e := range ways {
		if told[e.name] == "" {
			t.Errorf("%s: the attacker was never told that its address is throttled", e.name)
		}
	}
	h.Stop() // the host writes the refusals it was still counting
	byReason := reasons(h.Records(t, "--kind", events.KindLogin, "--account", "boss"), "127.0.0.2")
	checked, refused := byReason["bad password"], byReason["throttled"]+byReason["banned"]
	if checked > 10 || refused == 0 {
		t.Errorf("the attacker had %d guesses checked and %d refused unchecked; want at most 10 checked, the rest refused", checked, refused)
	}
	var malloryIn int
	for _, r := range h.Records(t, "--kind", events.KindLogin, "--account", "mallory") {
		if r.Outcome == events.OutcomeOK {
			malloryIn++
		}
	}
	t.Logf("guesses at boss checked: %d, refused unchecked: %d; attacker's own logins: %d", checked, refused, malloryIn)
}

// TestOwnLoginKeepsGuessesCounted guesses at boss's password from one address, logging in
// with the attacker's own account between guesses: the successes must not clear what the
// guesses earned, so only the five free guesses and the one after them are checked.
func TestOwnLoginKeepsGuessesCounted(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.user(t, "boss", "send")
	mallory := w.user(t, "mallory", "send")
	const from = "127.0.0.3"
	own := 0
	for i := range 20 {
		if err := sshLogin(t.Context(), from, w.h.Send, "boss", fmt.Sprint("guess-", i)); err == nil {
			t.Fatalf("guess %d logged in", i)
		}
		if sshLogin(t.Context(), from, w.h.Send, mallory.name, mallory.password) == nil {
			own++
		}
	}
	w.h.Stop() // the host writes the refusals it was still counting
	checked := reasons(w.h.Records(t, "--kind", events.KindLogin, "--account", "boss"), from)["bad password"]
	if checked != 6 || own < 5 {
		t.Errorf("%d guesses at boss checked and %d own logins between them; want 6 checked (5 free, then the delay), at least 5 own logins", checked, own)
	}
}

// reasons adds up the refused logins in recs from the address from, by reason: a record that
// counts many refusals stands for all of them.
func reasons(recs []events.Record, from string) map[string]uint64 {
	n := map[string]uint64{}
	for _, r := range recs {
		if r.Outcome == events.OutcomeOK || (r.Remote != from && !strings.HasPrefix(r.Remote, from+":")) {
			continue
		}
		if r.Count == 0 {
			n[r.Reason]++
			continue
		}
		for reason, k := range r.Reasons {
			n[reason] += k
		}
	}
	return n
}
