package web

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/buktu/buktu/internal/auth"
	"github.com/buktu/buktu/internal/events"
)

var _ AccountStore = (*auth.Store)(nil)

// lenient is a throttle that lets a test fail many times without being held up.
func lenient() *auth.Throttle { return &auth.Throttle{SourceFree: 1000, SourceBanAfter: 1000} }

// accountsHost starts a console whose logins, live accounts and admin password come from a
// real auth.Store in t.TempDir(): admin, ann and obs of testAccounts (each password is the
// name and "-pw") and the guest account, enabled to send. A nil throttle means the defaults.
func accountsHost(t *testing.T, throttle *auth.Throttle, setup func(*Server)) (*testHost, *auth.Store) {
	t.Helper()
	store := &auth.Store{Path: filepath.Join(t.TempDir(), "accounts.json"),
		Hash: auth.HashParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16}} // cheap
	for name, a := range testAccounts() {
		if name == "admin" || name == "ann" || name == "obs" {
			if err := store.Add(name, name+"-pw", a.Privileges); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := store.EnableGuest(map[auth.Privilege]auth.Mode{auth.PrivSend: auth.Allow}); err != nil {
		t.Fatal(err)
	}
	a := &auth.Authenticator{Store: store, Throttle: throttle}
	h := startHost(t, func(s *Server) {
		s.Accounts = store
		s.Login = func(ctx context.Context, account, password string, remote netip.AddrPort) (auth.Account, error) {
			return a.CheckPassword(ctx, account, password, remote.Addr())
		}
		s.Account = func(name string) (auth.Account, bool) {
			acct, err := store.Get(name)
			return acct, err == nil
		}
		if setup != nil {
			setup(s)
		}
	})
	return h, store
}

// accountsFile returns the bytes of store's file: the same bytes mean nothing changed.
func accountsFile(t *testing.T, store *auth.Store) []byte {
	t.Helper()
	b, err := os.ReadFile(store.Path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loginStatus tries to log in from a new browser and returns the answer's status.
func (h *testHost) loginStatus(t *testing.T, account, password string) int {
	t.Helper()
	return h.client(t).status("POST", "/api/v1/login", loginRequest{account, password})
}

// accountsList returns GET /api/v1/accounts by name.
func (c *client) accountsList() map[string]accountView {
	c.t.Helper()
	var got struct{ Accounts []accountView }
	c.decode("GET", "/api/v1/accounts", nil, &got)
	byName := map[string]accountView{}
	for _, a := range got.Accounts {
		byName[a.Name] = a
	}
	return byName
}

func TestAccountsList(t *testing.T) {
	h, store := accountsHost(t, lenient(), nil)
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.AddKey("ann", strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp)))+" ann@laptop"); err != nil {
		t.Fatal(err)
	}
	if err := store.SetDisabled("obs", true); err != nil {
		t.Fatal(err)
	}
	admin := h.client(t)
	admin.login("admin")
	resp, body := admin.call("GET", "/api/v1/accounts", nil)
	for _, secret := range []string{"argon2id", "ssh-ed25519", "ann@laptop", "password_hash"} {
		if bytes.Contains(body, []byte(secret)) {
			t.Errorf("GET /api/v1/accounts = %s; want no %q in it", body, secret)
		}
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/accounts = %d %s; want 200", resp.StatusCode, body)
	}
	got := admin.accountsList()
	tests := []struct {
		name                  string
		privilege, mode       string
		keys                  int
		disabled, guest, have bool
	}{
		{"admin", "admin", "allow", 0, false, false, true},
		{"ann", "exchange:delete", "allow", 1, false, false, true},
		{"ann", "observe", "deny", 1, false, false, true},
		{"obs", "observe", "allow", 0, true, false, true},
		{"guest", "send", "allow", 0, false, true, true},
		{"nobody", "", "", 0, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name+" "+tt.privilege, func(t *testing.T) {
			a, have := got[tt.name]
			if have != tt.have {
				t.Fatalf("GET /api/v1/accounts lists %s: %v; want %v", tt.name, have, tt.have)
			}
			if !have {
				return
			}
			if a.Privileges[tt.privilege] != tt.mode || len(a.Privileges) != len(auth.Privileges()) ||
				a.Keys != tt.keys || a.Disabled != tt.disabled || a.Guest != tt.guest {
				t.Errorf("GET /api/v1/accounts: %s = %+v; want %s %s of every privilege, %d keys, disabled %v, guest %v",
					tt.name, a, tt.privilege, tt.mode, tt.keys, tt.disabled, tt.guest)
			}
		})
	}
}

func TestAccountChanges(t *testing.T) {
	h, store := accountsHost(t, nil, nil)
	admin := h.client(t)
	admin.login("admin")

	add := accountAddRequest{Password: "admin-pw", Name: "bob", NewPassword: "bob-pw",
		Privileges: map[string]string{"send": "allow", "chat": "ask", "control": "none"}}
	resp, body := admin.call("POST", "/api/v1/accounts", add)
	var added accountView
	json.Unmarshal(body, &added)
	if resp.StatusCode != http.StatusCreated || added.Name != "bob" || added.Privileges["chat"] != "ask" ||
		added.Privileges["control"] != "deny" {
		t.Fatalf("POST /api/v1/accounts = %d %s; want 201 and bob with chat ask", resp.StatusCode, body)
	}
	bob := h.client(t)
	if got := bob.login("bob"); got.Privileges["send"] != "allow" || got.Privileges["chat"] != "ask" {
		t.Errorf("bob's login after the add = %v; want send allow, chat ask", got.Privileges)
	}

	if got := admin.status("POST", "/api/v1/accounts/bob/password", accountPasswordRequest{"admin-pw", "new-pw"}); got != 204 {
		t.Fatalf("POST /api/v1/accounts/bob/password = %d; want 204", got)
	}
	if got := h.loginStatus(t, "bob", "bob-pw"); got != http.StatusUnauthorized {
		t.Errorf("login as bob with the old password = %d; want 401", got)
	}
	if got := h.loginStatus(t, "bob", "new-pw"); got != http.StatusOK {
		t.Errorf("login as bob with the new password = %d; want 200", got)
	}

	privs := accountPrivilegesRequest{"admin-pw", map[string]string{"control": "ask", "send": "deny", "chat": ""}}
	if got := admin.status("POST", "/api/v1/accounts/bob/privileges", privs); got != 204 {
		t.Fatalf("POST /api/v1/accounts/bob/privileges = %d; want 204", got)
	}
	if a, err := store.Get("bob"); err != nil || auth.FormatPrivileges(a.Privileges) != "control=ask" {
		t.Errorf("bob in the store after the privileges = %v, %v; want control=ask only", a, err)
	}
	var now sessionReply
	bob.decode("GET", "/api/v1/session", nil, &now)
	if now.Privileges["control"] != "ask" || now.Privileges["send"] != "deny" {
		t.Errorf("bob's session after the privileges = %v; want control ask, send deny", now.Privileges)
	}

	if got := admin.status("DELETE", "/api/v1/accounts/bob", masterOnlyRequest{"admin-pw"}); got != 204 {
		t.Fatalf("DELETE /api/v1/accounts/bob = %d; want 204", got)
	}
	if got := bob.status("GET", "/api/v1/session", nil); got != http.StatusUnauthorized {
		t.Errorf("bob's session after the remove = %d; want 401", got)
	}
	if got := h.loginStatus(t, "bob", "new-pw"); got != http.StatusUnauthorized {
		t.Errorf("login as bob after the remove = %d; want 401", got)
	}
	if _, ok := admin.accountsList()["bob"]; ok {
		t.Error("GET /api/v1/accounts lists bob after the remove")
	}

	wants := []events.Record{
		{Account: "bob", Reason: "added with send=allow,chat=ask by admin in the console"},
		{Account: "bob", Reason: "password set by admin in the console"},
		{Account: "bob", Privilege: "control", Reason: "set to ask by admin in the console"},
		{Account: "bob", Privilege: "send", Reason: "set to deny by admin in the console"},
		{Account: "bob", Reason: "removed by admin in the console"},
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var got []events.Record
	for _, r := range h.records {
		if r.Kind == kindAccount {
			got = append(got, events.Record{Account: r.Account, Privilege: r.Privilege, Reason: r.Reason})
		}
	}
	for _, want := range wants {
		found := false
		for _, r := range got {
			// Records hold slices and maps (the counts of refused logins): compare the fields.
			found = found || r.Account == want.Account && r.Privilege == want.Privilege && r.Reason == want.Reason
		}
		if !found {
			t.Errorf("account records %+v; want one like %+v", got, want)
		}
	}
}

func TestAccountRefusals(t *testing.T) {
	add := func(password, name string, privs map[string]string) accountAddRequest {
		return accountAddRequest{Password: password, Name: name, NewPassword: "x-pw", Privileges: privs}
	}
	send := map[string]string{"send": "allow"}
	const needPassword = "the admin password is needed for this"
	tests := []struct {
		name, host, account string
		method, path        string
		body                any
		header              []string
		want                int
		wantError           string
	}{
		{"list needs admin", "control", "ann", "GET", "/api/v1/accounts", nil, nil, 403, "permission denied"},
		{"add needs admin", "control", "ann", "POST", "/api/v1/accounts", add("admin-pw", "bob", send), nil, 403, "permission denied"},
		{"remove needs admin", "control", "ann", "DELETE", "/api/v1/accounts/obs", masterOnlyRequest{"admin-pw"}, nil, 403, "permission denied"},
		{"observe: no list", "observe", "admin", "GET", "/api/v1/accounts", nil, nil, 403, "permission denied"},
		{"observe: no add", "observe", "admin", "POST", "/api/v1/accounts", add("admin-pw", "bob", send), nil, 403, "permission denied"},
		{"no CSRF token", "control", "admin", "POST", "/api/v1/accounts", add("admin-pw", "bob", send), []string{"X-CSRF-Token", ""}, 403, errCSRF.msg},
		{"other origin", "control", "admin", "DELETE", "/api/v1/accounts/obs", masterOnlyRequest{"admin-pw"}, []string{"Origin", "https://evil.example"}, 403, errCSRF.msg},
		{"add without admin password", "control", "admin", "POST", "/api/v1/accounts", add("", "bob", send), nil, 403, needPassword},
		{"add with wrong admin password", "control", "admin", "POST", "/api/v1/accounts", add("guess", "bob", send), nil, 403, needPassword},
		{"add with ann's password", "control", "admin", "POST", "/api/v1/accounts", add("ann-pw", "bob", send), nil, 403, needPassword},
		{"remove without a body", "control", "admin", "DELETE", "/api/v1/accounts/obs", nil, nil, 403, needPassword},
		{"remove with wrong password", "control", "admin", "DELETE", "/api/v1/accounts/obs", masterOnlyRequest{"guess"}, nil, 403, needPassword},
		{"password with wrong password", "control", "admin", "POST", "/api/v1/accounts/obs/password", accountPasswordRequest{"guess", "x-pw"}, nil, 403, needPassword},
		{"privileges with wrong password", "control", "admin", "POST", "/api/v1/accounts/obs/privileges", accountPrivilegesRequest{"guess", send}, nil, 403, needPassword},
		{"remove admin", "control", "admin", "DELETE", "/api/v1/accounts/admin", masterOnlyRequest{"admin-pw"}, nil, 400, errKeepAdmin.Error()},
		{"revoke admin's admin", "control", "admin", "POST", "/api/v1/accounts/admin/privileges", accountPrivilegesRequest{"admin-pw", map[string]string{"admin": "none"}}, nil, 400, errKeepAdmin.Error()},
		{"admin's admin to ask", "control", "admin", "POST", "/api/v1/accounts/admin/privileges", accountPrivilegesRequest{"admin-pw", map[string]string{"admin": "ask"}}, nil, 400, errKeepAdmin.Error()},
		{"guest as admin", "control", "admin", "POST", "/api/v1/accounts/guest/privileges", accountPrivilegesRequest{"admin-pw", map[string]string{"admin": "allow"}}, nil, 400, errGuestAdmin.Error()},
		{"password of guest", "control", "admin", "POST", "/api/v1/accounts/guest/password", accountPasswordRequest{"admin-pw", "x-pw"}, nil, 400, errGuestPass.Error()},
		{"add guest", "control", "admin", "POST", "/api/v1/accounts", add("admin-pw", "guest", send), nil, 400, errGuestAdd.Error()},
		{"add existing", "control", "admin", "POST", "/api/v1/accounts", add("admin-pw", "ann", send), nil, 409, errAccountTaken.msg},
		{"bad name", "control", "admin", "POST", "/api/v1/accounts", add("admin-pw", "Bob", send), nil, 400, errBadName.Error()},
		{"bad name in path", "control", "admin", "POST", "/api/v1/accounts/.bob/password", accountPasswordRequest{"admin-pw", "x-pw"}, nil, 400, errBadName.Error()},
		{"unknown privilege", "control", "admin", "POST", "/api/v1/accounts", add("admin-pw", "bob", map[string]string{"root": "allow"}), nil, 400, `unknown privilege "root"`},
		{"unknown mode", "control", "admin", "POST", "/api/v1/accounts/obs/privileges", accountPrivilegesRequest{"admin-pw", map[string]string{"send": "maybe"}}, nil, 400, `privilege send: unknown mode "maybe" (valid: allow, ask, deny, none)`},
		{"no privileges", "control", "admin", "POST", "/api/v1/accounts/obs/privileges", accountPrivilegesRequest{"admin-pw", nil}, nil, 400, `bad request: "privileges" names none to set`},
		{"empty new password", "control", "admin", "POST", "/api/v1/accounts/obs/password", accountPasswordRequest{"admin-pw", ""}, nil, 400, "the account's new password is empty"},
		{"remove unknown", "control", "admin", "DELETE", "/api/v1/accounts/zed", masterOnlyRequest{"admin-pw"}, nil, 404, errNoAccount.msg},
		{"password of unknown", "control", "admin", "POST", "/api/v1/accounts/zed/password", accountPasswordRequest{"admin-pw", "x-pw"}, nil, 404, errNoAccount.msg},
		{"privileges of unknown", "control", "admin", "POST", "/api/v1/accounts/zed/privileges", accountPrivilegesRequest{"admin-pw", send}, nil, 404, errNoAccount.msg},
		{"no accounts: list", "none", "admin", "GET", "/api/v1/accounts", nil, nil, 404, errUnavailable.msg},
		{"no accounts: add", "none", "admin", "POST", "/api/v1/accounts", add("admin-pw", "bob", send), nil, 404, errUnavailable.msg},
	}
	control, controlStore := accountsHost(t, lenient(), nil)
	observe, observeStore := accountsHost(t, lenient(), func(s *Server) { s.Service = ServiceObserve })
	hosts := map[string]*testHost{"control": control, "observe": observe, "none": startHost(t, nil)}
	stores := map[string]*auth.Store{"control": controlStore, "observe": observeStore}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := hosts[tt.host].client(t)
			c.login(tt.account)
			store := stores[tt.host]
			var before []byte
			if store != nil {
				before = accountsFile(t, store)
			}
			resp, body := c.call(tt.method, tt.path, tt.body, tt.header...)
			var e errorReply
			json.Unmarshal(body, &e)
			if resp.StatusCode != tt.want || !strings.HasPrefix(e.Error, tt.wantError) {
				t.Errorf("%s %s as %s on %s = %d %s; want %d %q", tt.method, tt.path, tt.account, tt.host,
					resp.StatusCode, body, tt.want, tt.wantError)
			}
			if store != nil && !bytes.Equal(accountsFile(t, store), before) {
				t.Errorf("%s %s was refused but changed the accounts file", tt.method, tt.path)
			}
		})
	}
}

// TestAccountsMasterThrottled checks that wrong admin passwords count as failed logins of
// admin from that address: after them even the right one waits.
func TestAccountsMasterThrottled(t *testing.T) {
	throttle := &auth.Throttle{SourceFree: 1, BaseDelay: time.Hour, MaxDelay: time.Hour}
	h, store := accountsHost(t, throttle, nil)
	admin := h.client(t)
	admin.login("admin")
	before := accountsFile(t, store)
	tests := []struct {
		name, password string
		want           int
	}{
		{"first guess", "guess", 403},
		{"second guess", "guess again", 403},
		{"right password, too soon", "admin-pw", 429},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := admin.call("POST", "/api/v1/accounts/obs/password", accountPasswordRequest{tt.password, "x-pw"})
			if resp.StatusCode != tt.want {
				t.Errorf("POST /api/v1/accounts/obs/password = %d %s; want %d", resp.StatusCode, body, tt.want)
			}
			if tt.want == 429 && resp.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		})
	}
	if !bytes.Equal(accountsFile(t, store), before) {
		t.Error("refused password changes changed the accounts file")
	}
	// The owner at another address is not held up: the source is throttled, not the account.
	a := &auth.Authenticator{Store: store, Throttle: throttle}
	if _, err := a.CheckPassword(t.Context(), "admin", "admin-pw", netip.MustParseAddr("192.0.2.7")); err != nil {
		t.Errorf("admin's login from elsewhere = %v; want success", err)
	}
}

func FuzzAccountAddRequest(f *testing.F) {
	fuzzJSON(f, parseAccountAdd, `{"password":"pw","name":"bob","new_password":"b","privileges":{"send":"allow","chat":"none"}}`,
		`{"name":"a","new_password":"x","privileges":{"admin":"ask","observe":""}}`, `{"name":"Bob","new_password":"x"}`)
}

func FuzzAccountPasswordRequest(f *testing.F) {
	fuzzJSON(f, parseAccountPassword, `{"password":"pw","new_password":"n"}`, `{"password":"pw","new_password":""}`)
}

func FuzzAccountPrivilegesRequest(f *testing.F) {
	fuzzJSON(f, parseAccountPrivileges, `{"password":"pw","privileges":{"control":"ask","send":"deny"}}`,
		`{"privileges":{"root":"allow"}}`, `{"privileges":{}}`)
}

func FuzzAccountRemoveRequest(f *testing.F) {
	fuzzJSON(f, parseMasterOnly, `{"password":"pw"}`, ``, ` `, `null`)
}
