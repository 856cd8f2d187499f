package testenv

import (
	"bufio"
	"path/filepath"
	"strings"
	"testing"

	"github.com/buktu/buktu/internal/events"
)

// AddAccount creates an account with `buktu user add`; a running host sees it at once. An
// empty password makes a key-only account. grants are privileges ("send", "exchange:read",
// "exchange:write=deny"); none means send only.
func (h *Host) AddAccount(t testing.TB, name, password string, grants ...string) {
	t.Helper()
	args := []string{"user", "add", name, "--data", h.DataDir}
	for _, g := range grants {
		args = append(args, "--grant", g)
	}
	stdin := ""
	if password == "" {
		args = append(args, "--no-password")
	} else {
		args = append(args, "--password-stdin")
		stdin = password + "\n"
	}
	h.mustBuktu(t, stdin, args...)
}

// AddKey lets account name log in with the key pair whose private key file is key (as
// KeyPair returns it; the public key is key+".pub"), with `buktu user key add`.
func (h *Host) AddKey(t testing.TB, name, key string) {
	t.Helper()
	h.mustBuktu(t, "", "user", "key", "add", name, key+".pub", "--data", h.DataDir)
}

func (h *Host) mustBuktu(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	out, errOut, code := h.Buktu(t, stdin, nil, args...)
	if code != 0 {
		t.Fatalf("buktu %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// Records returns the host's activity log as `buktu log --json` prints it; args filter it
// ("--kind", "login", "--account", "alice").
func (h *Host) Records(t testing.TB, args ...string) []events.Record {
	t.Helper()
	out := h.mustBuktu(t, "", append([]string{"log", "--json", "--data", h.DataDir}, args...)...)
	var recs []events.Record
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, events.MaxLine+1)
	for sc.Scan() {
		r, err := events.ParseLine(sc.Bytes())
		if err != nil {
			t.Fatalf("buktu log --json printed a line that is not a record: %v\n%s", err, sc.Text())
		}
		recs = append(recs, r)
	}
	return recs
}

// ClientEnv returns the environment in which buktu runs as a client in a test: a home and
// config folder of its own, so that no key, agent or pinned host of the machine takes part,
// and password in BUKTU_PASSWORD unless it is "".
func ClientEnv(t testing.TB, password string) []string {
	t.Helper()
	home := t.TempDir()
	env := []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "SSH_AUTH_SOCK="}
	if password != "" {
		env = append(env, "BUKTU_PASSWORD="+password)
	}
	return env
}
