package host_test

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/buktu/buktu/internal/config"
	"github.com/buktu/buktu/internal/testenv"
)

// The silent flood of these tests: 200 connections to a port from 50 loopback addresses.
const (
	floodConns   = 200
	floodSources = 50
)

// flood is a set of silent TCP connections to one port: each reads what the host sends,
// never writes, and notes how long the host kept it open.
type flood struct {
	n      int
	closed atomic.Int32
	held   chan time.Duration // one per connection the host closed
}

// silentFlood opens n connections to addr, spread over sources (up to 250) loopback
// addresses from 127.0.0.2 on (Linux accepts any 127/8 source address); t.Cleanup closes
// what is left.
func silentFlood(t *testing.T, addr string, n, sources int) *flood {
	t.Helper()
	f := &flood{n: n, held: make(chan time.Duration, n)}
	var wg sync.WaitGroup
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
		wg.Wait()
	})
	for i := range n {
		src := netip.AddrFrom4([4]byte{127, 0, 0, byte(2 + i%sources)})
		d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(src, 0)), Timeout: 5 * time.Second}
		start := time.Now()
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("silent connection %d from %s to %s: %v", i+1, src, addr, err)
		}
		conns = append(conns, c)
		wg.Go(func() {
			io.Copy(io.Discard, c) // until the host closes it (or the cleanup does)
			f.closed.Add(1)
			f.held <- time.Since(start)
		})
	}
	return f
}

// open returns how many of f's connections the host has not closed.
func (f *flood) open() int { return f.n - int(f.closed.Load()) }

// poll checks cond every 50 ms until it holds, failing the test with what after wait.
func poll(t *testing.T, wait time.Duration, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, wait)
		}
		<-tick.C
	}
}

// timed runs f and fails the test when it fails or takes longer than a second.
func timed(t *testing.T, what string, f func() error) {
	t.Helper()
	start := time.Now()
	err := f()
	took := time.Since(start)
	switch {
	case err != nil:
		t.Errorf("%s: %v (after %v)", what, err, took.Round(time.Millisecond))
	case took > time.Second:
		t.Errorf("%s took %v; want a second at most", what, took.Round(time.Millisecond))
	default:
		t.Logf("%s: %v", what, took.Round(time.Millisecond))
	}
}

// TestSilentFloodFilePorts opens 200 TCP connections from 50 addresses to each file port,
// which never send a byte: more than limits.max_sessions, and more than the
// max_unauthenticated places for connections still logging in. The host keeps at most that
// many of them, dropping the oldest of the busiest addresses to make room; a real user logs
// in with OpenSSH's sftp and with the Go client, on both ports, each time within a second; and
// the silent ones are dropped at handshake_timeout, not kept until idle_timeout.
func TestSilentFloodFilePorts(t *testing.T) {
	t.Parallel()
	const timeout = 10 * time.Second // room for the logins, with the flood still there
	h := testenv.StartHost(t, fmt.Sprintf("[limits]\nhandshake_timeout = %q\n", timeout.String()))
	w := &world{data: h.DataDir, h: h}
	alice := w.user(t, "alice", everything...)
	lim := config.Defaults().Limits
	ports := []struct {
		name, addr string
		f          *flood
	}{{"send", h.Send, nil}, {"exchange", h.Exchange, nil}}
	for i := range ports {
		ports[i].f = silentFlood(t, ports[i].addr, floodConns, floodSources)
	}
	for _, p := range ports {
		poll(t, 10*time.Second, fmt.Sprintf("%s port: the silent connections held down to max_unauthenticated (%d); %d open",
			p.name, lim.MaxUnauthenticated, p.f.open()), func() bool { return p.f.open() <= lim.MaxUnauthenticated })
		t.Logf("%s port: %d of %d silent connections left open", p.name, p.f.open(), p.f.n)
	}

	cfg := w.sshConfig(t, alice.name, ssh.Password(alice.password))
	for round := range 3 {
		for _, p := range ports {
			timed(t, fmt.Sprintf("round %d, %s port: Go client login and SFTP", round+1, p.name), func() error {
				conn, err := ssh.Dial("tcp", p.addr, cfg)
				if err != nil {
					return err
				}
				defer conn.Close()
				c, err := sftp.NewClient(conn)
				if err != nil {
					return err
				}
				defer c.Close()
				_, err = c.Getwd()
				return err
			})
			timed(t, fmt.Sprintf("round %d, %s port: OpenSSH sftp", round+1, p.name), func() error {
				if out, code := sftpDo(t, p.addr, alice.key(), "pwd"); code != 0 {
					return fmt.Errorf("exit code %d:\n%s", code, out)
				}
				return nil
			})
		}
	}
	for _, p := range ports {
		if n := p.f.open(); n < lim.MaxUnauthenticated/2 {
			t.Fatalf("%s port: only %d silent connections were left when the logins ended: the flood was gone too soon to prove anything", p.name, n)
		}
	}

	// What was not dropped to make room goes at handshake_timeout.
	deadline := time.After(timeout + 5*time.Second)
	for _, p := range ports {
		var longest time.Duration
		for range p.f.n {
			select {
			case d := <-p.f.held:
				longest = max(longest, d)
				if d > timeout+3*time.Second {
					t.Errorf("%s port: a silent connection was kept %v, with handshake_timeout %v", p.name, d.Round(time.Millisecond), timeout)
				}
			case <-deadline:
				t.Fatalf("%s port: %d silent connections still open %v after they connected, with handshake_timeout %v",
					p.name, p.f.open(), timeout+5*time.Second, timeout)
			}
		}
		if longest < timeout-time.Second {
			t.Errorf("%s port: the longest-kept silent connection went after %v, before handshake_timeout %v", p.name, longest.Round(time.Millisecond), timeout)
		}
	}
}
