package transfer

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// knownHostsMu serialises pinning within this process; the file is appended to with O_APPEND,
// so concurrent buktu processes each add whole lines.
var knownHostsMu sync.Mutex

// hostKeyCallback pins a host's key on first use and refuses a different key later.
func (o Options) hostKeyCallback() ssh.HostKeyCallback {
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		knownHostsMu.Lock()
		defer knownHostsMu.Unlock()
		file := o.KnownHosts
		if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
			if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
				return fmt.Errorf("make folder for known hosts: %w", err)
			}
			if err := os.WriteFile(file, nil, 0o600); err != nil {
				return fmt.Errorf("create known hosts file: %w", err)
			}
		}
		check, err := knownhosts.New(file)
		if err != nil {
			return fmt.Errorf("read known hosts %s: %w", file, err)
		}
		err = check(hostname, remote, key)
		var ke *knownhosts.KeyError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &ke) && len(ke.Want) > 0:
			w := ke.Want[0]
			return &HostKeyError{Addr: hostname, Pinned: ssh.FingerprintSHA256(w.Key),
				Shown: ssh.FingerprintSHA256(key), File: w.Filename, Line: w.Line}
		case errors.As(err, &ke):
			line := knownhosts.Line([]string{knownhosts.Normalize(hostname)}, key)
			f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0o600)
			if err != nil {
				return fmt.Errorf("pin host key: %w", err)
			}
			_, err = fmt.Fprintln(f, line)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("pin host key: %w", err)
			}
			if o.OnNewHost != nil {
				o.OnNewHost(hostname, ssh.FingerprintSHA256(key))
			}
			return nil
		}
		return err
	}
}

// Forget removes the pinned keys of addr ("host:port") from the known hosts file and says how
// many lines it removed.
func Forget(file, addr string) (int, error) {
	knownHostsMu.Lock()
	defer knownHostsMu.Unlock()
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	want := knownhosts.Normalize(addr)
	var kept strings.Builder
	removed := 0
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		line := sc.Text()
		if hosts, _, _ := strings.Cut(strings.TrimSpace(line), " "); hosts != "" && !strings.HasPrefix(hosts, "#") {
			match := false
			for _, h := range strings.Split(hosts, ",") {
				if h == want {
					match = true
				}
			}
			if match {
				removed++
				continue
			}
		}
		kept.WriteString(line + "\n")
	}
	if removed == 0 {
		return 0, nil
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(kept.String()), 0o600); err != nil {
		return 0, err
	}
	return removed, os.Rename(tmp, file)
}
