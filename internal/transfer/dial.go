package transfer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/buktu/buktu/internal/sshd"
)

// Options say how to reach and trust a host.
type Options struct {
	// KnownHosts is the file of pinned host keys (OpenSSH's known_hosts format).
	KnownHosts string
	// Password returns the password to try; nil means no password authentication.
	Password func() (string, error)
	// KeyFiles are private key files to offer; missing ones are skipped.
	KeyFiles []string
	// Agent says whether to offer ssh-agent's keys (SSH_AUTH_SOCK).
	Agent bool
	// OnNewHost hears of a key pinned on first use.
	OnNewHost func(addr, fingerprint string)
	// Timeout bounds connecting and authenticating; zero means 30s.
	Timeout time.Duration
}

// Client is a connection to a host's send or exchange port.
type Client struct {
	ssh     *ssh.Client
	sftp    *sftp.Client // the first SFTP session
	Service string       // what the host says the port serves: "send" or "exchange"
	Account string

	mu       sync.Mutex     // guards sessions
	sessions []*sftp.Client // more SFTP sessions on the same connection, for parallel files

	made    sync.Map // local folders a download has made
	unnamed bool     // downloads may go to unnamed files (see tmpfile); set before they start
}

// ErrHostKeyChanged is returned when a host's key is not the one pinned for it.
var ErrHostKeyChanged = errors.New("host key changed")

// HostKeyError says which key was pinned and which one the host showed.
type HostKeyError struct {
	Addr          string
	Pinned, Shown string
	File          string
	Line          int
}

func (e *HostKeyError) Error() string {
	return fmt.Sprintf("the key of %s has changed: pinned %s (%s line %d), shown now %s", e.Addr, e.Pinned, e.File, e.Line, e.Shown)
}

func (e *HostKeyError) Is(target error) bool { return target == ErrHostKeyChanged }

// Dial connects and authenticates to t.
func Dial(ctx context.Context, t Target, o Options) (*Client, error) {
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	auth, closeAgent := o.authMethods()
	defer closeAgent()
	cfg := &ssh.ClientConfig{
		User:            t.User,
		Auth:            auth,
		HostKeyCallback: o.hostKeyCallback(),
		Timeout:         timeout,
		Config: ssh.Config{
			Ciphers: []string{"aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com"},
		},
	}
	d := net.Dialer{Timeout: timeout}
	nc, err := d.DialContext(ctx, "tcp", t.Addr())
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", t.Addr(), err)
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	nc.SetDeadline(time.Now().Add(timeout))
	conn, chans, reqs, err := ssh.NewClientConn(nc, t.Addr(), cfg)
	if err != nil {
		nc.Close()
		if ke, ok := errors.AsType[*HostKeyError](err); ok {
			return nil, ke
		}
		if strings.Contains(err.Error(), "unable to authenticate") {
			return nil, fmt.Errorf("log in to %s as %s: wrong password or key, or the account may not use this port", t.Addr(), t.User)
		}
		return nil, fmt.Errorf("ssh to %s: %w", t.Addr(), err)
	}
	nc.SetDeadline(time.Time{})
	sc := ssh.NewClient(conn, chans, reqs)
	c := &Client{ssh: sc}
	ok, reply, err := sc.SendRequest(sshd.ReqHello, true, nil)
	switch {
	case err == nil && ok:
		var h sshd.HelloReply
		if sshd.Unmarshal(reply, &h) == nil {
			c.Service, c.Account = h.Service, h.Account
		}
	case err == nil && len(reply) > 0:
		// The host took the login but refuses the session, and says why.
		sc.Close()
		return nil, fmt.Errorf("%s refused the session: %s", t.Addr(), reply)
	}
	c.sftp, err = newSession(sc)
	if err != nil {
		sc.Close()
		return nil, fmt.Errorf("start sftp on %s: %w", t.Addr(), err)
	}
	return c, nil
}

func newSession(sc *ssh.Client) (*sftp.Client, error) {
	return sftp.NewClient(sc,
		sftp.MaxPacketUnchecked(128<<10),
		sftp.UseConcurrentWrites(true),
		sftp.UseConcurrentReads(true),
		sftp.MaxConcurrentRequestsPerFile(64),
	)
}

// session returns the i-th SFTP session, opening it on first use. An SFTP server handles
// opens and closes in order, one at a time, within a session (pkg/sftp's as much as
// OpenSSH's), so files go in parallel only over sessions of their own; they share the one
// SSH connection and its login.
func (c *Client) session(i int) (*sftp.Client, error) {
	if i == 0 {
		return c.sftp, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.sessions) < i {
		s, err := newSession(c.ssh)
		if err != nil {
			return nil, fmt.Errorf("open another sftp session: %w", err)
		}
		c.sessions = append(c.sessions, s)
	}
	return c.sessions[i-1], nil
}

// Close ends the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	for _, s := range c.sessions {
		s.Close()
	}
	c.mu.Unlock()
	c.sftp.Close()
	return c.ssh.Close()
}

// SFTP returns the SFTP client, for what this package does not wrap.
func (c *Client) SFTP() *sftp.Client { return c.sftp }

func (o Options) authMethods() ([]ssh.AuthMethod, func()) {
	var methods []ssh.AuthMethod
	var signers []ssh.Signer
	for _, f := range o.KeyFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		s, err := ssh.ParsePrivateKey(b)
		if err != nil {
			continue // encrypted keys are offered through the agent
		}
		signers = append(signers, s)
	}
	closer := func() {}
	if o.Agent {
		if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" {
			if ac, err := net.Dial("unix", sock); err == nil {
				closer = func() { ac.Close() }
				if more, err := agent.NewClient(ac).Signers(); err == nil {
					signers = append(signers, more...)
				}
			}
		}
	}
	if len(signers) > 0 {
		methods = append(methods, ssh.PublicKeys(signers...))
	}
	if o.Password != nil {
		methods = append(methods, ssh.RetryableAuthMethod(ssh.PasswordCallback(o.Password), 1))
	}
	// A guest account needs no credentials: "none" is always tried first by the client.
	return methods, closer
}

// DefaultKeyFiles returns the usual private key files in ~/.ssh.
func DefaultKeyFiles() []string {
	home, err := os.UserHomeDir()
	if err != nil {
		return nil
	}
	var files []string
	for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
		files = append(files, filepath.Join(home, ".ssh", n))
	}
	return files
}
