package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// fileVersion is the version of the accounts file format that this package writes.
const fileVersion = 1

// maxFileSize bounds how much of the accounts file we read.
const maxFileSize = 16 << 20

// Store keeps accounts in one JSON file (mode 0600). It is safe for concurrent use, and
// several processes may use one file: each change locks Path+".lock" with flock, reads the
// newest file, and replaces it atomically (temporary file, fsync, rename). Every lookup stats
// the file and re-reads it when it changed, so a running host sees what `buktu user` did.
//
// Set Path before use; the other fields may stay zero.
type Store struct {
	Path string           // the accounts file, e.g. DATADIR/accounts.json; it need not exist yet
	Hash HashParams       // argon2id cost of new password hashes; zero means the defaults
	Now  func() time.Time // stamps Created; nil means time.Now

	mu       sync.Mutex // guards the fields below, and serialises changes in this process
	id       fileID     // the file version that accounts holds
	loaded   bool
	accounts map[string]Account
}

// fileData is the layout of the accounts file.
type fileData struct {
	Version  int       `json:"version"`
	Accounts []Account `json:"accounts"`
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Get returns the account called name, or [ErrNoAccount].
func (s *Store) Get(name string) (Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refreshLocked(); err != nil {
		return Account{}, err
	}
	a, ok := s.accounts[name]
	if !ok {
		return Account{}, fmt.Errorf("get account %q: %w", name, ErrNoAccount)
	}
	return a.clone(), nil
}

// List returns all accounts, sorted by name.
func (s *Store) List() ([]Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refreshLocked(); err != nil {
		return nil, err
	}
	var list []Account
	for _, name := range slices.Sorted(maps.Keys(s.accounts)) {
		list = append(list, s.accounts[name].clone())
	}
	return list, nil
}

// refreshLocked re-reads the file when it differs from the version in memory.
func (s *Store) refreshLocked() error {
	if s.Path == "" {
		return errors.New("read accounts: store has no path")
	}
	fi, err := os.Stat(s.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.accounts, s.id, s.loaded = map[string]Account{}, fileID{}, true
		return nil
	case err != nil:
		return fmt.Errorf("read accounts: %w", err)
	case s.loaded && idOf(fi) == s.id:
		return nil
	}
	accounts, id, err := readAccounts(s.Path)
	if err != nil {
		return err
	}
	s.accounts, s.id, s.loaded = accounts, id, true
	return nil
}

// readAccounts reads and checks the accounts file; a missing file holds no accounts.
func readAccounts(path string) (map[string]Account, fileID, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]Account{}, fileID{}, nil
	}
	if err != nil {
		return nil, fileID{}, fmt.Errorf("read accounts: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat() // of the very file we read, however it is renamed meanwhile
	if err != nil {
		return nil, fileID{}, fmt.Errorf("read accounts: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fileID{}, fmt.Errorf("read accounts: %w", err)
	}
	if len(b) > maxFileSize {
		return nil, fileID{}, fmt.Errorf("read accounts %s: larger than %d bytes", path, maxFileSize)
	}
	accounts, err := decodeAccounts(b)
	if err != nil {
		return nil, fileID{}, fmt.Errorf("read accounts %s: %w", path, err)
	}
	return accounts, idOf(fi), nil
}

// decodeAccounts parses and checks the accounts file; empty means no accounts.
func decodeAccounts(b []byte) (map[string]Account, error) {
	var d fileData
	if len(bytes.TrimSpace(b)) == 0 {
		return map[string]Account{}, nil
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, err
	}
	if d.Version != fileVersion {
		return nil, fmt.Errorf("file version %d: want %d", d.Version, fileVersion)
	}
	accounts := make(map[string]Account, len(d.Accounts))
	for _, a := range d.Accounts {
		if err := ValidateName(a.Name); err != nil {
			return nil, err
		}
		if _, dup := accounts[a.Name]; dup {
			return nil, fmt.Errorf("account %q listed twice", a.Name)
		}
		if err := validatePrivileges(a.Name, a.Privileges); err != nil {
			return nil, fmt.Errorf("account %q: %w", a.Name, err)
		}
		accounts[a.Name] = a
	}
	return accounts, nil
}

// encodeAccounts is the inverse of decodeAccounts.
func encodeAccounts(accounts map[string]Account) ([]byte, error) {
	d := fileData{Version: fileVersion, Accounts: []Account{}}
	for _, name := range slices.Sorted(maps.Keys(accounts)) {
		d.Accounts = append(d.Accounts, accounts[name])
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// update applies change to the newest accounts under the lock, and writes the result unless
// change fails.
func (s *Store) update(change func(accounts map[string]Account) error) error {
	if s.Path == "" {
		return errors.New("change accounts: store has no path")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o700); err != nil {
		return fmt.Errorf("change accounts: %w", err)
	}
	unlock, err := lockFile(s.Path + ".lock")
	if err != nil {
		return fmt.Errorf("change accounts: %w", err)
	}
	defer unlock()
	accounts, _, err := readAccounts(s.Path)
	if err != nil {
		return err
	}
	if err := change(accounts); err != nil {
		return err
	}
	if err := writeAccounts(s.Path, accounts); err != nil {
		return err
	}
	fi, err := os.Stat(s.Path)
	if err != nil {
		return fmt.Errorf("change accounts: %w", err)
	}
	s.accounts, s.id, s.loaded = accounts, idOf(fi), true
	return nil
}

// writeAccounts replaces the file at path atomically with accounts.
func writeAccounts(path string, accounts map[string]Account) (err error) {
	b, err := encodeAccounts(accounts)
	if err != nil {
		return fmt.Errorf("write accounts: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp") // created 0600
	if err != nil {
		return fmt.Errorf("write accounts: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(b); err != nil {
		return fmt.Errorf("write accounts: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write accounts: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write accounts: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write accounts: %w", err)
	}
	if d, err := os.Open(dir); err == nil { // make the rename durable
		d.Sync()
		d.Close()
	}
	return nil
}
