package auth

import (
	"errors"
	"fmt"
	"maps"
	"slices"
)

// errGuest is returned when an operation meant for ordinary accounts names the guest account.
var errGuest = errors.New("the guest account has no password or keys: use EnableGuest and DisableGuest")

// Add creates the account name with password and privileges privs (missing ones are denied).
// An empty password makes an account that can log in only with a key. It returns [ErrExists]
// when the name is taken.
func (s *Store) Add(name, password string, privs map[Privilege]Mode) error {
	if err := ValidateName(name); err != nil {
		return fmt.Errorf("add account: %w", err)
	}
	if name == GuestName {
		return fmt.Errorf("add account: %w", errGuest)
	}
	if err := validatePrivileges(name, privs); err != nil {
		return fmt.Errorf("add account %q: %w", name, err)
	}
	hash, err := s.hash(password)
	if err != nil {
		return fmt.Errorf("add account %q: %w", name, err)
	}
	return s.update(func(accounts map[string]Account) error {
		if _, ok := accounts[name]; ok {
			return fmt.Errorf("add account %q: %w", name, ErrExists)
		}
		accounts[name] = Account{
			Name:         name,
			PasswordHash: hash,
			Privileges:   cleanPrivileges(privs),
			Created:      s.now().UTC(),
		}
		return nil
	})
}

// Bootstrap creates the [AdminName] account with every privilege and a generated password
// when the store has no account but perhaps guest, and returns that password to be shown
// once. It returns "" when accounts already exist.
func (s *Store) Bootstrap() (password string, err error) {
	if list, err := s.List(); err != nil || !onlyGuest(list) {
		return "", err
	}
	password, err = GeneratePassword()
	if err != nil {
		return "", err
	}
	hash, err := s.hash(password)
	if err != nil {
		return "", fmt.Errorf("create admin account: %w", err)
	}
	created := false
	err = s.update(func(accounts map[string]Account) error {
		if !onlyGuest(slices.Collect(maps.Values(accounts))) {
			return nil // another process was first
		}
		accounts[AdminName] = Account{
			Name:         AdminName,
			PasswordHash: hash,
			Privileges:   map[Privilege]Mode{PrivAdmin: Allow},
			Created:      s.now().UTC(),
		}
		created = true
		return nil
	})
	if err != nil || !created {
		return "", err
	}
	return password, nil
}

func onlyGuest(list []Account) bool {
	for _, a := range list {
		if !a.IsGuest() {
			return false
		}
	}
	return true
}

// Remove deletes the account name.
func (s *Store) Remove(name string) error {
	return s.update(func(accounts map[string]Account) error {
		if _, ok := accounts[name]; !ok {
			return fmt.Errorf("remove account %q: %w", name, ErrNoAccount)
		}
		delete(accounts, name)
		return nil
	})
}

// SetPassword replaces the password of name; an empty password leaves it key-only.
func (s *Store) SetPassword(name, password string) error {
	if name == GuestName {
		return fmt.Errorf("set password of %q: %w", name, errGuest)
	}
	hash, err := s.hash(password)
	if err != nil {
		return fmt.Errorf("set password of %q: %w", name, err)
	}
	return s.modify("set password of", name, func(a *Account) error {
		a.PasswordHash = hash
		return nil
	})
}

// Grant sets the mode of privilege p for name; [Deny] removes it.
func (s *Store) Grant(name string, p Privilege, m Mode) error {
	privs := map[Privilege]Mode{p: m}
	if err := validatePrivileges(name, privs); err != nil {
		return fmt.Errorf("grant %s to %q: %w", p, name, err)
	}
	return s.modify("grant "+string(p)+" to", name, func(a *Account) error {
		if a.Privileges == nil {
			a.Privileges = map[Privilege]Mode{}
		}
		a.Privileges[p] = m
		a.Privileges = cleanPrivileges(a.Privileges)
		return nil
	})
}

// Revoke denies privilege p to name.
func (s *Store) Revoke(name string, p Privilege) error {
	return s.Grant(name, p, Deny)
}

// SetDisabled disables or re-enables the account name; a disabled account cannot log in.
func (s *Store) SetDisabled(name string, disabled bool) error {
	return s.modify("set disabled flag of", name, func(a *Account) error {
		a.Disabled = disabled
		return nil
	})
}

// EnableGuest turns on guest access with privileges privs (never admin), creating the guest
// account if needed.
func (s *Store) EnableGuest(privs map[Privilege]Mode) error {
	if err := validatePrivileges(GuestName, privs); err != nil {
		return fmt.Errorf("enable guest: %w", err)
	}
	return s.update(func(accounts map[string]Account) error {
		a, ok := accounts[GuestName]
		if !ok {
			a = Account{Name: GuestName, Created: s.now().UTC()}
		}
		a.Privileges = cleanPrivileges(privs)
		a.Disabled = false
		a.PasswordHash, a.Keys = "", nil
		accounts[GuestName] = a
		return nil
	})
}

// DisableGuest turns off guest access, keeping the guest account's privileges on record.
func (s *Store) DisableGuest() error {
	return s.update(func(accounts map[string]Account) error {
		if a, ok := accounts[GuestName]; ok {
			a.Disabled = true
			accounts[GuestName] = a
		}
		return nil
	})
}

// modify applies change to the account name.
func (s *Store) modify(doing, name string, change func(*Account) error) error {
	return s.update(func(accounts map[string]Account) error {
		a, ok := accounts[name]
		if !ok {
			return fmt.Errorf("%s %q: %w", doing, name, ErrNoAccount)
		}
		if err := change(&a); err != nil {
			return fmt.Errorf("%s %q: %w", doing, name, err)
		}
		accounts[name] = a
		return nil
	})
}

// hash hashes a non-empty password with the store's parameters.
func (s *Store) hash(password string) (string, error) {
	if password == "" {
		return "", nil
	}
	return HashPassword(password, s.Hash)
}

// cleanPrivileges copies privs without denied entries; nil when nothing is left.
func cleanPrivileges(privs map[Privilege]Mode) map[Privilege]Mode {
	var out map[Privilege]Mode
	for p, m := range privs {
		if m == Deny {
			continue
		}
		if out == nil {
			out = map[Privilege]Mode{}
		}
		out[p] = m
	}
	return out
}
