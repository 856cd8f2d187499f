package bench

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/testenv"
)

// openSSH is an sshd started for one benchmark or test, with a configuration, host key and
// client key of its own, listening on a loopback port the system picked. Its clients run with
// OpenSSH's default algorithms: -F /dev/null keeps this machine's ssh_config out.
type openSSH struct {
	Port    string
	User    string // the account the clients log in as: the one running the benchmark
	Key     string // the client's private key
	Cipher  string // what OpenSSH's defaults negotiate, client to server
	Version string // of the OpenSSH client
	pid     int
}

// startOpenSSH starts sshd and waits until it answers. A missing OpenSSH or rsync fails the
// benchmark: a comparison with nothing proves nothing.
func startOpenSSH(tb testing.TB) *openSSH {
	tb.Helper()
	testenv.Require(tb, "ssh", "scp", "sftp", "rsync", "ssh-keygen")
	bin := sshdPath(tb)
	me, err := user.Current()
	if err != nil {
		tb.Fatalf("find the current user: %v", err)
	}
	dir := tb.TempDir()
	hostKey := filepath.Join(dir, "host_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey).CombinedOutput(); err != nil {
		tb.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	o := &openSSH{User: me.Username, Key: testenv.KeyPair(tb)}
	pub, err := os.ReadFile(o.Key + ".pub")
	if err != nil {
		tb.Fatal(err)
	}
	authorized := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authorized, pub, 0o600); err != nil {
		tb.Fatal(err)
	}
	// sshd running as root wants its privilege-separation folder; as anyone else it needs none.
	os.MkdirAll("/run/sshd", 0o755)
	o.Port = freePort(tb)
	cfg := strings.Join([]string{
		"Port " + o.Port,
		"ListenAddress 127.0.0.1",
		"HostKey " + hostKey,
		"PidFile none",
		"UsePAM no",
		"AuthorizedKeysFile " + authorized,
		"PermitRootLogin yes",
		"StrictModes no",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"Subsystem sftp internal-sftp",
		"MaxStartups 64",
		"LogLevel ERROR",
	}, "\n") + "\n"
	cfgFile := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, "-D", "-e", "-f", cfgFile)
	var stderr testenv.LockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start sshd: %v", err)
	}
	o.pid = cmd.Process.Pid
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	tb.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	if err := waitBanner(net.JoinHostPort("127.0.0.1", o.Port), exited); err != nil {
		tb.Fatalf("sshd: %v\n%s", err, stderr.String())
	}
	o.Cipher, o.Version = o.probe(tb)
	return o
}

// sshdPath finds sshd, which needs its absolute path to re-execute itself.
func sshdPath(tb testing.TB) string {
	tb.Helper()
	if p, err := exec.LookPath("sshd"); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
	}
	for _, p := range []string{"/usr/sbin/sshd", "/usr/local/sbin/sshd"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	tb.Fatalf("sshd is not installed; 'make setup' (scripts/setup-debian.sh) installs openssh-server")
	return ""
}

// freePort returns a loopback port that was free a moment ago, for a program that cannot be
// handed a listener.
func freePort(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// waitBanner polls addr until an SSH server greets, the process exits, or 10 s pass.
func waitBanner(addr string, exited <-chan struct{}) error {
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.SetDeadline(time.Now().Add(2 * time.Second))
			line, err := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if err == nil && strings.HasPrefix(line, "SSH-2.0-") {
				return nil
			}
		}
		select {
		case <-exited:
			return errors.New("sshd exited before it listened")
		case <-deadline:
			return fmt.Errorf("sshd did not answer on %s within 10s", addr)
		case <-tick.C:
		}
	}
}

// options are what every OpenSSH client gets: this server's key, no prompts, no user config.
func (o *openSSH) options() []string {
	return []string{"-F", "/dev/null", "-i", o.Key, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "LogLevel=ERROR", "-o", "BatchMode=yes"}
}

// remote is the user@host: prefix of a remote path.
func (o *openSSH) remote() string { return o.User + "@127.0.0.1:" }

// rsh is the remote shell rsync runs.
func (o *openSSH) rsh() string {
	return "ssh -p " + o.Port + " " + strings.Join(o.options(), " ")
}

// probe logs in once with ssh -v and returns the cipher OpenSSH's defaults chose and the
// client's version.
func (o *openSSH) probe(tb testing.TB) (cipher, version string) {
	tb.Helper()
	args := append([]string{"-v", "-p", o.Port}, o.options()...)
	args = append(args, o.User+"@127.0.0.1", "true")
	out, err := exec.Command("ssh", args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("ssh to the benchmark's sshd: %v\n%s", err, out)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "OpenSSH_"); ok && version == "" {
			version = "OpenSSH_" + strings.Fields(v)[0]
			version = strings.TrimSuffix(version, ",")
		}
		if _, rest, ok := strings.Cut(line, "kex: client->server cipher: "); ok {
			cipher = strings.Fields(rest)[0]
		}
	}
	if cipher == "" {
		tb.Fatalf("ssh -v did not say which cipher it chose:\n%s", out)
	}
	return cipher, version
}
