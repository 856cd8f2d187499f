package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Account is a login for the peers.
type Account struct {
	User     string
	Password string // "" for key login
	KeyFile  string // a private key file, or ""
	// Banners shows what the host sends before login, as OpenSSH does at its default log
	// level (the tests run it quieter otherwise).
	Banners bool
}

// sshEnv returns the options and environment that make OpenSSH clients log in without a
// terminal: the password through SSH_ASKPASS, no host key prompts.
func sshEnv(t testing.TB, a Account) (opts []string, env []string) {
	t.Helper()
	level := "ERROR" // no "permanently added" line for the throwaway known hosts
	if a.Banners {
		level = "INFO"
	}
	opts = []string{"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "LogLevel=" + level, "-o", "BatchMode=no", "-o", "NumberOfPasswordPrompts=1"}
	if a.KeyFile != "" {
		opts = append(opts, "-i", a.KeyFile, "-o", "IdentitiesOnly=yes", "-o", "PasswordAuthentication=no")
	} else {
		opts = append(opts, "-o", "PubkeyAuthentication=no")
	}
	askpass := filepath.Join(t.TempDir(), "askpass")
	script := "#!/bin/sh\nprintf '%s\\n' \"$BUKTU_TEST_PASSWORD\"\n"
	if err := os.WriteFile(askpass, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	env = []string{"SSH_ASKPASS=" + askpass, "SSH_ASKPASS_REQUIRE=force", "BUKTU_TEST_PASSWORD=" + a.Password, "DISPLAY="}
	return opts, env
}

func hostPort(addr string) (string, string) {
	i := strings.LastIndex(addr, ":")
	return strings.Trim(addr[:i], "[]"), addr[i+1:]
}

// SFTP runs OpenSSH's sftp with a batch of commands against addr and returns its combined
// output and exit code. A command prefixed with "-" may fail without ending the batch.
func SFTP(t testing.TB, addr string, a Account, batch string) (string, int) {
	t.Helper()
	Require(t, "sftp")
	opts, env := sshEnv(t, a)
	host, port := hostPort(addr)
	bf := filepath.Join(t.TempDir(), "batch")
	if err := os.WriteFile(bf, []byte(batch), 0o600); err != nil {
		t.Fatal(err)
	}
	// ssh takes the first value given for an option, and sftp's -b adds BatchMode=yes, which
	// rules out the askpass password: opts go first.
	args := append(opts, "-P", port, "-b", bf, a.User+"@"+host)
	out, errOut, code := Run(t, "sftp", "", env, args...)
	return out + errOut, code
}

// SCP runs OpenSSH's scp (its default SFTP mode) to copy src to dst, where a remote side is
// written "REMOTE:path".
func SCP(t testing.TB, addr string, a Account, src, dst string, extra ...string) (string, int) {
	t.Helper()
	Require(t, "scp")
	opts, env := sshEnv(t, a)
	host, port := hostPort(addr)
	remote := a.User + "@" + host + ":"
	src = strings.Replace(src, "REMOTE:", remote, 1)
	dst = strings.Replace(dst, "REMOTE:", remote, 1)
	args := append([]string{"-P", port}, opts...)
	args = append(args, extra...)
	args = append(args, src, dst)
	out, errOut, code := Run(t, "scp", "", env, args...)
	return out + errOut, code
}

// Rclone runs rclone with an on-the-fly sftp remote for addr; "REMOTE:" in args names it.
func Rclone(t testing.TB, addr string, a Account, args ...string) (string, int) {
	t.Helper()
	Require(t, "rclone")
	host, port := hostPort(addr)
	remote := ":sftp,host=" + host + ",port=" + port + ",user=" + a.User
	if a.KeyFile != "" {
		remote += ",key_file=" + a.KeyFile
	} else {
		obscured, _, code := Run(t, "rclone", "", nil, "obscure", a.Password)
		if code != 0 {
			t.Fatalf("rclone obscure failed")
		}
		remote += ",pass=" + strings.TrimSpace(obscured)
	}
	remote += ":"
	full := []string{"--config", filepath.Join(t.TempDir(), "rclone.conf"), "--low-level-retries", "1", "--retries", "1"}
	for _, x := range args {
		full = append(full, strings.Replace(x, "REMOTE:", remote, 1))
	}
	out, errOut, code := Run(t, "rclone", "", nil, full...)
	return out + errOut, code
}

// Lftp runs lftp's sftp with a script of commands against addr.
func Lftp(t testing.TB, addr string, a Account, script string) (string, int) {
	t.Helper()
	Require(t, "lftp")
	host, port := hostPort(addr)
	connect := "set sftp:auto-confirm yes; set net:max-retries 1; set cmd:fail-exit yes; "
	connect += "set sftp:connect-program 'ssh -a -x -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'; "
	connect += "open -u " + a.User + "," + a.Password + " -p " + port + " sftp://" + host + "; "
	out, errOut, code := Run(t, "lftp", "", nil, "-c", connect+script)
	return out + errOut, code
}

// KeyPair makes an Ed25519 key pair with ssh-keygen and returns the private key file; the
// public key is beside it with ".pub".
func KeyPair(t testing.TB) string {
	t.Helper()
	Require(t, "ssh-keygen")
	key := filepath.Join(t.TempDir(), "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	return key
}
