package cli

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/buktu/buktu/internal/auth"
	"github.com/buktu/buktu/internal/host"
)

func (e *env) userCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "user",
		Short: "Manage accounts and their privileges (applies to a running host at once)",
		Long: `Manage the host's accounts. Changes apply to a running host without a restart.

Privileges: observe, control, send, exchange:read, exchange:write, exchange:delete, chat,
admin. Each is allow, ask or deny for an account; admin=allow holds every privilege. Ask
means the person at the host approves each session (in the console's approvals, or with
'buktu approve' and 'buktu deny' on the host); no answer within console.ask_timeout is no.
Replacing an existing file in the exchange folder needs exchange:delete as well as
exchange:write.

Removing an account, or turning guest access off, ends its running sessions on every port
within a second.

The guest account ("guest") logs in with no password. It is off until 'buktu user guest
enable' turns it on with the privileges you choose; for a public drop box: --grant send.`,
	}
	data := new(string)
	c.PersistentFlags().StringVar(data, "data", "", "the host's data directory (default $XDG_DATA_HOME/buktu, or ~/.local/share/buktu)")
	store := func() (*auth.Store, error) {
		dir, err := dataDir(*data)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("make data directory: %w", err)
		}
		return host.Accounts(dir), nil
	}

	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Create an account",
		Long: `Create an account. Without --grant it may only send files. The password is asked for on
a terminal (twice); with --password-stdin it is read from the first line of standard input;
otherwise, or when left empty, one is generated and printed once.`,
		Example: `  buktu user add alice --grant send --grant exchange:read --grant exchange:write
  echo 's3cret-passphrase' | buktu user add bob --password-stdin
  buktu user add carol --no-password && buktu user key add carol ~/carol.pub`,
		Args: cobra.ExactArgs(1),
	}
	grants := add.Flags().StringArray("grant", nil, "a privilege to allow, or PRIV=MODE (allow, ask, deny); repeatable")
	fromStdin := add.Flags().Bool("password-stdin", false, "read the password from standard input")
	noPassword := add.Flags().Bool("no-password", false, "no password: the account logs in with keys only")
	add.RunE = func(c *cobra.Command, args []string) error {
		privs, err := parseGrants(*grants, auth.PrivSend)
		if err != nil {
			return err
		}
		s, err := store()
		if err != nil {
			return err
		}
		pw := ""
		shown := false
		if !*noPassword {
			pw, shown, err = e.newPassword(args[0], *fromStdin)
			if err != nil {
				return err
			}
		}
		if err := s.Add(args[0], pw, privs); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "account %s created: %s\n", args[0], auth.FormatPrivileges(privs))
		if shown {
			fmt.Fprintf(e.stdout, "%s password: %s\n", args[0], pw)
		}
		return nil
	}

	list := &cobra.Command{
		Use:   "list",
		Short: "List accounts and their privileges",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			s, err := store()
			if err != nil {
				return err
			}
			accts, err := s.List()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ACCOUNT\tLOGIN\tKEYS\tPRIVILEGES")
			for _, a := range accts {
				login := "password"
				switch {
				case a.Disabled:
					login = "disabled"
				case a.IsGuest():
					login = "none (guest)"
				case a.PasswordHash == "":
					login = "keys only"
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", a.Name, login, len(a.Keys), auth.FormatPrivileges(a.Privileges))
			}
			return tw.Flush()
		},
	}

	remove := &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove an account",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			s, err := store()
			if err != nil {
				return err
			}
			if err := s.Remove(args[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "account %s removed\n", args[0])
			return nil
		},
	}

	passwd := &cobra.Command{
		Use:   "passwd NAME",
		Short: "Set an account's password",
		Args:  cobra.ExactArgs(1),
	}
	pwStdin := passwd.Flags().Bool("password-stdin", false, "read the password from standard input")
	passwd.RunE = func(c *cobra.Command, args []string) error {
		s, err := store()
		if err != nil {
			return err
		}
		pw, shown, err := e.newPassword(args[0], *pwStdin)
		if err != nil {
			return err
		}
		if err := s.SetPassword(args[0], pw); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "password of %s changed\n", args[0])
		if shown {
			fmt.Fprintf(e.stdout, "%s password: %s\n", args[0], pw)
		}
		return nil
	}

	grant := &cobra.Command{
		Use:     "grant NAME PRIVILEGE [allow|ask|deny]",
		Short:   "Set one of an account's privileges (allow by default)",
		Example: "  buktu user grant alice exchange:write\n  buktu user grant bob control ask",
		Args:    cobra.RangeArgs(2, 3),
		RunE: func(c *cobra.Command, args []string) error {
			p, err := auth.ParsePrivilege(args[1])
			if err != nil {
				return &usageError{err}
			}
			m := auth.Allow
			if len(args) == 3 {
				if m, err = auth.ParseMode(args[2]); err != nil {
					return &usageError{err}
				}
			}
			s, err := store()
			if err != nil {
				return err
			}
			if err := s.Grant(args[0], p, m); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s: %s=%s\n", args[0], p, m)
			return nil
		},
	}

	revoke := &cobra.Command{
		Use:   "revoke NAME PRIVILEGE",
		Short: "Deny one of an account's privileges",
		Args:  cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			p, err := auth.ParsePrivilege(args[1])
			if err != nil {
				return &usageError{err}
			}
			s, err := store()
			if err != nil {
				return err
			}
			if err := s.Revoke(args[0], p); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s: %s=deny\n", args[0], p)
			return nil
		},
	}

	key := &cobra.Command{Use: "key", Short: "Manage an account's SSH public keys"}
	key.AddCommand(&cobra.Command{
		Use:     "add NAME KEYFILE",
		Short:   "Let an account log in with the public keys in KEYFILE (authorized_keys lines)",
		Example: "  buktu user key add alice ~/.ssh/id_ed25519.pub",
		Args:    cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			s, err := store()
			if err != nil {
				return err
			}
			b, err := os.ReadFile(args[1])
			if err != nil {
				return err
			}
			n := 0
			for line := range strings.Lines(string(b)) {
				line = strings.TrimSpace(line)
				if line == "" || strings.HasPrefix(line, "#") {
					continue
				}
				if err := s.AddKey(args[0], line); err != nil {
					return err
				}
				fp, _ := auth.KeyFingerprint(line)
				fmt.Fprintf(e.stdout, "%s: key %s added\n", args[0], fp)
				n++
			}
			if n == 0 {
				return fmt.Errorf("no public key in %s", args[1])
			}
			return nil
		},
	}, &cobra.Command{
		Use:   "remove NAME KEY",
		Short: "Remove a key, named by its fingerprint (SHA256:…) or its authorized_keys line",
		Args:  cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			s, err := store()
			if err != nil {
				return err
			}
			return s.RemoveKey(args[0], args[1])
		},
	})

	guest := &cobra.Command{Use: "guest", Short: "Turn guest access (no password) on or off"}
	enable := &cobra.Command{
		Use:     "enable",
		Short:   "Let anyone log in as guest, with the privileges given",
		Example: "  buktu user guest enable --grant send     # a public drop box",
		Args:    cobra.NoArgs,
	}
	guestGrants := enable.Flags().StringArray("grant", nil, "a privilege to allow, or PRIV=MODE; repeatable (default: send)")
	enable.RunE = func(c *cobra.Command, _ []string) error {
		privs, err := parseGrants(*guestGrants, auth.PrivSend)
		if err != nil {
			return err
		}
		s, err := store()
		if err != nil {
			return err
		}
		if err := s.EnableGuest(privs); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "guest access on: %s\n", auth.FormatPrivileges(privs))
		return nil
	}
	guest.AddCommand(enable, &cobra.Command{
		Use:   "disable",
		Short: "Turn guest access off",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			s, err := store()
			if err != nil {
				return err
			}
			if err := s.DisableGuest(); err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, "guest access off")
			return nil
		},
	})
	c.AddCommand(add, list, remove, passwd, grant, revoke, key, guest)
	return c
}

// parseGrants turns --grant values into privileges; none given means def.
func parseGrants(grants []string, def auth.Privilege) (map[auth.Privilege]auth.Mode, error) {
	privs := map[auth.Privilege]auth.Mode{}
	if len(grants) == 0 {
		privs[def] = auth.Allow
		return privs, nil
	}
	for _, g := range grants {
		for item := range strings.SplitSeq(g, ",") {
			name, mode, hasMode := strings.Cut(strings.TrimSpace(item), "=")
			p, err := auth.ParsePrivilege(name)
			if err != nil {
				return nil, &usageError{err}
			}
			m := auth.Allow
			if hasMode {
				if m, err = auth.ParseMode(mode); err != nil {
					return nil, &usageError{err}
				}
			}
			privs[p] = m
		}
	}
	return privs, nil
}

// newPassword reads a new password, or generates one; shown says it must be printed.
func (e *env) newPassword(name string, fromStdin bool) (pw string, shown bool, err error) {
	if fromStdin {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		pw = strings.TrimRight(line, "\r\n")
		if pw == "" {
			return "", false, fmt.Errorf("no password on standard input: %v", err)
		}
		return pw, false, nil
	}
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(e.stderr, "password for %s (empty: generate one): ", name)
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", false, err
		}
		if len(a) > 0 {
			fmt.Fprintf(e.stderr, "again: ")
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(e.stderr)
			if err != nil {
				return "", false, err
			}
			if string(a) != string(b) {
				return "", false, fmt.Errorf("the two passwords differ")
			}
			return string(a), false, nil
		}
	}
	pw, err = auth.GeneratePassword()
	return pw, true, err
}
