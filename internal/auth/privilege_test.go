package auth

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestParsePrivilege(t *testing.T) {
	tests := []struct {
		name, in string
		want     Privilege
		wantErr  bool
	}{
		{"observe", "observe", PrivObserve, false},
		{"exchange read", "exchange:read", PrivExchangeRead, false},
		{"admin", "admin", PrivAdmin, false},
		{"upper case", "Observe", "", true},
		{"empty", "", "", true},
		{"partial", "exchange", "", true},
		{"space", " chat", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePrivilege(tt.in)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("ParsePrivilege(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
	for _, p := range Privileges() {
		if got, err := ParsePrivilege(string(p)); got != p || err != nil {
			t.Errorf("ParsePrivilege(%q) = %q, %v; want %q", p, got, err, p)
		}
	}
}

func TestParsePrivilegeErrorListsNames(t *testing.T) {
	_, err := ParsePrivilege("root")
	if err == nil || !strings.Contains(err.Error(), "exchange:delete") {
		t.Errorf("ParsePrivilege(%q) error = %v; want one listing the valid names", "root", err)
	}
}

func TestParseMode(t *testing.T) {
	tests := []struct {
		name, in string
		want     Mode
		wantErr  bool
	}{
		{"allow", "allow", Allow, false},
		{"ask", "ask", Ask, false},
		{"deny", "deny", Deny, false},
		{"upper case", "Allow", Deny, true},
		{"empty", "", Deny, true},
		{"yes", "yes", Deny, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMode(tt.in)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("ParseMode(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestModeJSON(t *testing.T) {
	in := map[Privilege]Mode{PrivSend: Allow, PrivChat: Ask, PrivObserve: Deny}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatalf("json.Marshal(%v): %v", in, err)
	}
	if want := `{"chat":"ask","observe":"deny","send":"allow"}`; string(b) != want {
		t.Errorf("json.Marshal(%v) = %s; want %s", in, b, want)
	}
	var got map[Privilege]Mode
	if err := json.Unmarshal(b, &got); err != nil || len(got) != 3 || got[PrivChat] != Ask {
		t.Errorf("json.Unmarshal(%s) = %v, %v; want %v", b, got, err, in)
	}
	if err := json.Unmarshal([]byte(`{"chat":"maybe"}`), &got); err == nil {
		t.Errorf("json.Unmarshal of mode %q succeeded; want an error", "maybe")
	}
	if _, err := json.Marshal(Mode(9)); err == nil {
		t.Errorf("json.Marshal(Mode(9)) succeeded; want an error")
	}
}

func TestAccountMode(t *testing.T) {
	tests := []struct {
		name string
		acct Account
		p    Privilege
		want Mode
	}{
		{"missing is deny", Account{Name: "bob"}, PrivObserve, Deny},
		{"allow", Account{Name: "bob", Privileges: map[Privilege]Mode{PrivSend: Allow}}, PrivSend, Allow},
		{"ask", Account{Name: "bob", Privileges: map[Privilege]Mode{PrivControl: Ask}}, PrivControl, Ask},
		{"other missing", Account{Name: "bob", Privileges: map[Privilege]Mode{PrivSend: Allow}}, PrivChat, Deny},
		{"admin allows all", Account{Name: "root", Privileges: map[Privilege]Mode{PrivAdmin: Allow}}, PrivExchangeDelete, Allow},
		{"admin overrides deny", Account{Name: "root", Privileges: map[Privilege]Mode{PrivAdmin: Allow, PrivChat: Deny}}, PrivChat, Allow},
		{"admin ask grants nothing else", Account{Name: "root", Privileges: map[Privilege]Mode{PrivAdmin: Ask}}, PrivChat, Deny},
		{"admin ask", Account{Name: "root", Privileges: map[Privilege]Mode{PrivAdmin: Ask}}, PrivAdmin, Ask},
		{"guest privilege", Account{Name: GuestName, Privileges: map[Privilege]Mode{PrivSend: Allow}}, PrivSend, Allow},
		{"guest never admin", Account{Name: GuestName, Privileges: map[Privilege]Mode{PrivAdmin: Allow}}, PrivAdmin, Deny},
		{"guest admin grants nothing", Account{Name: GuestName, Privileges: map[Privilege]Mode{PrivAdmin: Allow}}, PrivControl, Deny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.acct.Mode(tt.p); got != tt.want {
				t.Errorf("%v.Mode(%s) = %v; want %v", tt.acct.Privileges, tt.p, got, tt.want)
			}
		})
	}
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		name, in string
		wantErr  bool
	}{
		{"simple", "bob", false},
		{"digits first", "2fa", false},
		{"one char", "a", false},
		{"dots dashes underscores", "j.doe_2-x", false},
		{"32 chars", strings.Repeat("a", 32), false},
		{"33 chars", strings.Repeat("a", 33), true},
		{"empty", "", true},
		{"upper case", "Bob", true},
		{"leading dot", ".bob", true},
		{"leading dash", "-bob", true},
		{"leading underscore", "_bob", true},
		{"slash", "a/b", true},
		{"space", "a b", true},
		{"unicode", "bøb", true},
		{"colon", "a:b", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := ValidateName(tt.in); (err != nil) != tt.wantErr {
				t.Errorf("ValidateName(%q) = %v; want error %v", tt.in, err, tt.wantErr)
			}
		})
	}
}

func TestFormatPrivileges(t *testing.T) {
	tests := []struct {
		name string
		in   map[Privilege]Mode
		want string
	}{
		{"none", nil, "none"},
		{"only deny", map[Privilege]Mode{PrivChat: Deny}, "none"},
		{"ordered", map[Privilege]Mode{PrivAdmin: Allow, PrivSend: Ask, PrivObserve: Allow}, "observe=allow,send=ask,admin=allow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatPrivileges(tt.in); got != tt.want {
				t.Errorf("FormatPrivileges(%v) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestAccountLogValueHidesHash(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	a := Account{Name: "bob", PasswordHash: "$argon2id$SECRET", Keys: []string{"ssh-ed25519 AAAA"}}
	log.Info("account", "account", a)
	if strings.Contains(buf.String(), "SECRET") || strings.Contains(buf.String(), "AAAA") {
		t.Errorf("log of account = %q; want no hash or key", buf.String())
	}
	if !strings.Contains(buf.String(), "account.name=bob") {
		t.Errorf("log of account = %q; want account.name=bob", buf.String())
	}
}

func FuzzParsePrivilege(f *testing.F) {
	for _, p := range Privileges() {
		f.Add(string(p))
	}
	f.Add("exchange:")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePrivilege(s)
		if err != nil {
			return
		}
		if string(p) != s || !p.Valid() {
			t.Fatalf("ParsePrivilege(%q) = %q; want it back", s, p)
		}
	})
}

func FuzzParseMode(f *testing.F) {
	f.Add("allow")
	f.Add("ask")
	f.Add("deny")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMode(s)
		if err != nil {
			return
		}
		b, err := m.MarshalText()
		if err != nil || string(b) != s {
			t.Fatalf("ParseMode(%q) = %v, which encodes as %q, %v; want it back", s, m, b, err)
		}
	})
}
