package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
)

// newStore returns a Store on a fresh file, hashing cheaply.
func newStore(t *testing.T) *Store {
	t.Helper()
	return &Store{Path: filepath.Join(t.TempDir(), "data", "accounts.json"), Hash: cheap}
}

// newKey returns a fresh ed25519 public key and its authorized_keys line.
func newKey(t *testing.T, comment string) (ssh.PublicKey, string) {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return sp, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp))) + " " + comment
}

func TestStoreEmpty(t *testing.T) {
	s := newStore(t)
	list, err := s.List()
	if err != nil || len(list) != 0 {
		t.Errorf("List() on a missing file = %v, %v; want nothing", list, err)
	}
	if _, err := s.Get("bob"); !errors.Is(err, ErrNoAccount) {
		t.Errorf("Get(bob) = %v; want ErrNoAccount", err)
	}
}

func TestStoreAddGetList(t *testing.T) {
	s := newStore(t)
	if err := s.Add("bob", "pw", map[Privilege]Mode{PrivSend: Allow, PrivChat: Ask, PrivControl: Deny}); err != nil {
		t.Fatalf("Add(bob): %v", err)
	}
	if err := s.Add("alice", "", nil); err != nil {
		t.Fatalf("Add(alice): %v", err)
	}
	a, err := s.Get("bob")
	if err != nil {
		t.Fatalf("Get(bob): %v", err)
	}
	if a.Name != "bob" || a.Mode(PrivSend) != Allow || a.Mode(PrivChat) != Ask || a.Created.IsZero() {
		t.Errorf("Get(bob) = %+v; want bob with send=allow, chat=ask", a)
	}
	if _, denied := a.Privileges[PrivControl]; denied {
		t.Errorf("Get(bob).Privileges = %v; want denied entries dropped", a.Privileges)
	}
	if ok, err := VerifyPassword("pw", a.PasswordHash); !ok || err != nil {
		t.Errorf("VerifyPassword(pw, bob's hash) = %v, %v; want true", ok, err)
	}
	list, err := s.List()
	if err != nil || len(list) != 2 || list[0].Name != "alice" || list[1].Name != "bob" {
		t.Errorf("List() = %v, %v; want alice, bob", list, err)
	}
	if list[0].PasswordHash != "" {
		t.Errorf("alice's hash = %q; want none for an empty password", list[0].PasswordHash)
	}
	// What Get returns is a copy.
	a.Privileges[PrivAdmin] = Allow
	if again, _ := s.Get("bob"); again.Mode(PrivAdmin) != Deny {
		t.Errorf("changing a returned account changed the store")
	}
}

func TestStoreAddErrors(t *testing.T) {
	s := newStore(t)
	if err := s.Add("bob", "pw", nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, account string
		privs         map[Privilege]Mode
		want          error // nil: any error
	}{
		{"exists", "bob", nil, ErrExists},
		{"bad name", "Bob", nil, nil},
		{"guest", GuestName, nil, nil},
		{"unknown privilege", "carol", map[Privilege]Mode{"root": Allow}, nil},
		{"bad mode", "carol", map[Privilege]Mode{PrivChat: 7}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Add(tt.account, "pw", tt.privs)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("Add(%q, %v) = %v; want error %v", tt.account, tt.privs, err, tt.want)
			}
		})
	}
}

func TestStoreFileModes(t *testing.T) {
	s := newStore(t)
	if err := s.Add("bob", "pw", nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{s.Path, s.Path + ".lock"} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("stat %s = %v, %v; want mode 0600", filepath.Base(p), fi.Mode(), err)
		}
	}
	fi, err := os.Stat(filepath.Dir(s.Path))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("stat data dir = %v, %v; want mode 0700", fi.Mode(), err)
	}
	b, _ := os.ReadFile(s.Path)
	if !strings.Contains(string(b), `"password_hash": "$argon2id$`) {
		t.Errorf("accounts file = %s; want a password_hash field", b)
	}
	entries, _ := os.ReadDir(filepath.Dir(s.Path))
	if len(entries) != 2 {
		t.Errorf("data dir holds %d entries; want the file and its lock, no leftovers", len(entries))
	}
}

func TestStoreChanges(t *testing.T) {
	s := newStore(t)
	if err := s.Add("bob", "old", nil); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name   string
		change func() error
		check  func(Account) bool
	}{
		{"grant", func() error { return s.Grant("bob", PrivObserve, Allow) }, func(a Account) bool { return a.Mode(PrivObserve) == Allow }},
		{"grant ask", func() error { return s.Grant("bob", PrivControl, Ask) }, func(a Account) bool { return a.Mode(PrivControl) == Ask }},
		{"revoke", func() error { return s.Revoke("bob", PrivObserve) }, func(a Account) bool {
			_, ok := a.Privileges[PrivObserve]
			return !ok && a.Mode(PrivControl) == Ask
		}},
		{"password", func() error { return s.SetPassword("bob", "new") }, func(a Account) bool {
			ok, _ := VerifyPassword("new", a.PasswordHash)
			return ok
		}},
		{"disable", func() error { return s.SetDisabled("bob", true) }, func(a Account) bool { return a.Disabled }},
		{"enable", func() error { return s.SetDisabled("bob", false) }, func(a Account) bool { return !a.Disabled }},
		{"clear password", func() error { return s.SetPassword("bob", "") }, func(a Account) bool { return a.PasswordHash == "" }},
	}
	for _, st := range steps {
		if err := st.change(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		a, err := s.Get("bob")
		if err != nil || !st.check(a) {
			t.Errorf("after %s: Get(bob) = %+v, %v", st.name, a, err)
		}
	}
	if err := s.Grant("bob", "root", Allow); err == nil {
		t.Errorf("Grant(bob, root) succeeded; want an error")
	}
	for name, f := range map[string]func() error{
		"Grant":       func() error { return s.Grant("nobody", PrivChat, Allow) },
		"Revoke":      func() error { return s.Revoke("nobody", PrivChat) },
		"SetPassword": func() error { return s.SetPassword("nobody", "x") },
		"SetDisabled": func() error { return s.SetDisabled("nobody", true) },
		"Remove":      func() error { return s.Remove("nobody") },
	} {
		if err := f(); !errors.Is(err, ErrNoAccount) {
			t.Errorf("%s(nobody) = %v; want ErrNoAccount", name, err)
		}
	}
	if err := s.Remove("bob"); err != nil {
		t.Fatalf("Remove(bob): %v", err)
	}
	if _, err := s.Get("bob"); !errors.Is(err, ErrNoAccount) {
		t.Errorf("Get(bob) after Remove = %v; want ErrNoAccount", err)
	}
}

func TestStoreKeys(t *testing.T) {
	s := newStore(t)
	if err := s.Add("bob", "pw", nil); err != nil {
		t.Fatal(err)
	}
	pub1, line1 := newKey(t, "bob@laptop")
	pub2, line2 := newKey(t, "bob@phone")
	if err := s.AddKey("bob", "  "+line1+"\n"); err != nil {
		t.Fatalf("AddKey(bob, key 1): %v", err)
	}
	if err := s.AddKey("bob", line2); err != nil {
		t.Fatalf("AddKey(bob, key 2): %v", err)
	}
	sameKeyOtherComment := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub1))) + " other"
	tests := []struct {
		name, account, line string
		want                error // nil: any error
	}{
		{"duplicate", "bob", sameKeyOtherComment, ErrKeyExists},
		{"no account", "nobody", line1, ErrNoAccount},
		{"garbage", "bob", "ssh-ed25519 not-base64", nil},
		{"options", "bob", `from="10.0.0.1" ` + line1, nil},
		{"two keys", "bob", line1 + "\n" + line2, nil},
		{"guest", GuestName, line1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.AddKey(tt.account, tt.line)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("AddKey(%q, %q) = %v; want error %v", tt.account, tt.line, err, tt.want)
			}
		})
	}
	a, _ := s.Get("bob")
	if len(a.Keys) != 2 || a.Keys[0] != line1 || !keyMatches(a.Keys[1], pub2) {
		t.Errorf("bob's keys = %q; want the two lines in normal form", a.Keys)
	}
	if err := s.RemoveKey("bob", ssh.FingerprintSHA256(pub1)); err != nil {
		t.Errorf("RemoveKey(bob, fingerprint 1): %v", err)
	}
	if err := s.RemoveKey("bob", ssh.FingerprintSHA256(pub1)); !errors.Is(err, ErrNoKey) {
		t.Errorf("RemoveKey(bob, fingerprint 1) again = %v; want ErrNoKey", err)
	}
	if err := s.RemoveKey("bob", line2); err != nil {
		t.Errorf("RemoveKey(bob, line 2): %v", err)
	}
	if a, _ := s.Get("bob"); len(a.Keys) != 0 {
		t.Errorf("bob's keys after removing both = %q; want none", a.Keys)
	}
	if fp, err := KeyFingerprint(line1); err != nil || fp != ssh.FingerprintSHA256(pub1) {
		t.Errorf("KeyFingerprint(line 1) = %q, %v; want %q", fp, err, ssh.FingerprintSHA256(pub1))
	}
}

func TestStoreGuest(t *testing.T) {
	s := newStore(t)
	if err := s.EnableGuest(map[Privilege]Mode{PrivAdmin: Allow}); err == nil {
		t.Errorf("EnableGuest(admin) succeeded; want an error")
	}
	if err := s.EnableGuest(map[Privilege]Mode{PrivSend: Allow}); err != nil {
		t.Fatalf("EnableGuest(send): %v", err)
	}
	g, err := s.Get(GuestName)
	if err != nil || g.Disabled || g.Mode(PrivSend) != Allow || g.PasswordHash != "" {
		t.Errorf("Get(guest) = %+v, %v; want enabled, send only, no password", g, err)
	}
	if err := s.Grant(GuestName, PrivAdmin, Ask); err == nil {
		t.Errorf("Grant(guest, admin) succeeded; want an error")
	}
	if err := s.SetPassword(GuestName, "pw"); err == nil {
		t.Errorf("SetPassword(guest) succeeded; want an error")
	}
	if err := s.DisableGuest(); err != nil {
		t.Fatalf("DisableGuest: %v", err)
	}
	if g, err := s.Get(GuestName); err != nil || !g.Disabled || g.Mode(PrivSend) != Allow {
		t.Errorf("Get(guest) after DisableGuest = %+v, %v; want disabled, privileges kept", g, err)
	}
	if err := newStore(t).DisableGuest(); err != nil {
		t.Errorf("DisableGuest with no guest = %v; want nil", err)
	}
}

func TestStoreBootstrap(t *testing.T) {
	s := newStore(t)
	if err := s.EnableGuest(map[Privilege]Mode{PrivSend: Allow}); err != nil {
		t.Fatal(err)
	}
	pw, err := s.Bootstrap()
	if err != nil || pw == "" {
		t.Fatalf("Bootstrap() = %q, %v; want a password", pw, err)
	}
	a, err := s.Get(AdminName)
	if err != nil || a.Mode(PrivExchangeDelete) != Allow {
		t.Errorf("Get(admin) = %+v, %v; want every privilege", a, err)
	}
	if ok, _ := VerifyPassword(pw, a.PasswordHash); !ok {
		t.Errorf("admin's hash does not match the password Bootstrap returned")
	}
	if again, err := s.Bootstrap(); again != "" || err != nil {
		t.Errorf("second Bootstrap() = %q, %v; want nothing", again, err)
	}
}

func TestStoreConcurrentAdd(t *testing.T) {
	s1 := newStore(t)
	s2 := &Store{Path: s1.Path, Hash: cheap} // another process, as far as the file knows
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		s := s1
		if i%2 == 1 {
			s = s2
		}
		wg.Go(func() { errs <- s.Add(fmt.Sprintf("user%d", i), "pw", nil) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Add: %v", err)
		}
	}
	for _, s := range []*Store{s1, s2} {
		if list, err := s.List(); err != nil || len(list) != n {
			t.Errorf("List() = %d accounts, %v; want %d", len(list), err, n)
		}
	}
}

func TestStoreSeesOtherWriters(t *testing.T) {
	cli := newStore(t)
	host := &Store{Path: cli.Path, Hash: cheap}
	if _, err := host.List(); err != nil { // the host has read the (missing) file
		t.Fatal(err)
	}
	if err := cli.Add("bob", "pw", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := host.Get("bob"); err != nil {
		t.Errorf("host Get(bob) after the CLI added bob = %v", err)
	}
	if err := host.Grant("bob", PrivSend, Allow); err != nil {
		t.Fatal(err)
	}
	if a, err := cli.Get("bob"); err != nil || a.Mode(PrivSend) != Allow {
		t.Errorf("cli Get(bob) after the host granted send = %+v, %v", a, err)
	}
	if err := cli.Remove("bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := host.Get("bob"); !errors.Is(err, ErrNoAccount) {
		t.Errorf("host Get(bob) after the CLI removed bob = %v; want ErrNoAccount", err)
	}
	// An edit in place, as with a text editor that keeps the inode.
	edit := `{"version": 1, "accounts": [{"name": "carol", "created": "2025-01-02T03:04:05Z", "privileges": {"chat": "ask"}}]}`
	if err := os.WriteFile(cli.Path, []byte(edit), 0o600); err != nil {
		t.Fatal(err)
	}
	if a, err := host.Get("carol"); err != nil || a.Mode(PrivChat) != Ask {
		t.Errorf("host Get(carol) after an edit in place = %+v, %v", a, err)
	}
}

func TestStoreBadFile(t *testing.T) {
	tests := []struct{ name, content string }{
		{"not json", "{"},
		{"version", `{"version": 2, "accounts": []}`},
		{"bad name", `{"version": 1, "accounts": [{"name": "../x"}]}`},
		{"twice", `{"version": 1, "accounts": [{"name": "a"}, {"name": "a"}]}`},
		{"bad privilege", `{"version": 1, "accounts": [{"name": "a", "privileges": {"root": "allow"}}]}`},
		{"bad mode", `{"version": 1, "accounts": [{"name": "a", "privileges": {"chat": "yes"}}]}`},
		{"guest admin", `{"version": 1, "accounts": [{"name": "guest", "privileges": {"admin": "allow"}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			if err := os.MkdirAll(filepath.Dir(s.Path), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(s.Path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get("a"); err == nil || errors.Is(err, ErrNoAccount) {
				t.Errorf("Get on %s = %v; want a read error", tt.content, err)
			}
			if err := s.Add("b", "", nil); err == nil {
				t.Errorf("Add on %s succeeded; want the read error, not an overwrite", tt.content)
			}
		})
	}
}

func TestStoreNoPath(t *testing.T) {
	var s Store
	if _, err := s.List(); err == nil {
		t.Errorf("List() without a path succeeded; want an error")
	}
	if err := s.Add("bob", "", nil); err == nil {
		t.Errorf("Add() without a path succeeded; want an error")
	}
}
