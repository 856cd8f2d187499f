package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/buktu/buktu/internal/console"
	"github.com/buktu/buktu/internal/host"
	"github.com/buktu/buktu/internal/identity"
	"github.com/buktu/buktu/internal/transfer"
)

// consoleDial logs in to the console of a host's screen port (Control, 1417, by default).
func (e *env) consoleDial(target string, f *clientFlags) (*console.Client, error) {
	t, err := transfer.ParseTarget(target, controlPort, false)
	if err != nil {
		return nil, &usageError{err}
	}
	src := passwordSource(t.String(), f)
	if src == nil {
		return nil, withHint(errors.New("no password"), "set BUKTU_PASSWORD, or run on a terminal")
	}
	pw, err := src()
	if err != nil {
		return nil, err
	}
	file := knownHostsFile(f.knownHosts) + "-tls"
	c, err := console.Dial(e.ctx, t.Addr(), console.Options{Account: t.User, Password: pw, KnownHosts: file,
		Accept: func(fp string) bool {
			fmt.Fprintf(e.stderr, "buktu: first connection to %s; its certificate is %s (now pinned)\n", t.Addr(), fp)
			return true
		}})
	if errors.Is(err, identity.ErrCertChanged) {
		return nil, withHint(err, "check it with 'buktu id' on the host; if it was replaced deliberately, remove its line from "+file)
	}
	return c, err
}

// withConsole logs in to target's console, runs do, and logs out.
func (e *env) withConsole(target string, f *clientFlags, do func(*console.Client) error) error {
	cl, err := e.consoleDial(target, f)
	if err != nil {
		return err
	}
	defer cl.Logout(e.ctx)
	return do(cl)
}

// printable drops what could steer a terminal from text another person wrote.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || !unicode.IsControl(r) && !(r >= 0x202a && r <= 0x202e) && !(r >= 0x2066 && r <= 0x2069) {
			return r
		}
		return -1
	}, s)
}

func (e *env) chatCmd() *cobra.Command {
	var f clientFlags
	c := &cobra.Command{
		Use:   "chat [USER@]HOST[:PORT] [TEXT]",
		Short: "Chat with the person at a host (and everyone connected to it)",
		Long: `Timbuktu's Chat. With TEXT, send it and return. Without, show the conversation so far and
stay: every line you type is sent, and what others write appears as it arrives (end with
Ctrl-D). It talks to the host's console on the Control port (1417), logging in with an
account that has the chat privilege; the host keeps the transcript.`,
		Example: "  buktu chat alice@example.com \"can you see my screen?\"\n  buktu chat alice@example.com",
		Args:    cobra.RangeArgs(1, 2),
	}
	f.add(c, false)
	c.RunE = func(c *cobra.Command, args []string) error {
		return e.withConsole(args[0], &f, func(cl *console.Client) error { return e.chat(cl, args[1:]) })
	}
	return c
}

// chat sends text, or without it, shows the transcript and stays, sending what is typed.
func (e *env) chat(cl *console.Client, text []string) error {
	if len(text) == 1 {
		return cl.Chat(e.ctx, text[0])
	}
	msgs, err := cl.Transcript(e.ctx)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		fmt.Fprintf(e.stdout, "%s %s: %s\n", m.Time.Local().Format("15:04"), printable(m.From), printable(m.Text))
	}
	_, next, err := cl.Events(e.ctx, 0) // where the feed is now: only newer messages follow
	if err != nil {
		return err
	}
	errs := make(chan error, 2)
	go func() {
		after := next
		for {
			evs, n, err := cl.Events(e.ctx, after)
			if err != nil {
				errs <- err
				return
			}
			for _, ev := range evs {
				if ev.Type == console.EventChat {
					fmt.Fprintf(e.stdout, "%s %s: %s\n", ev.Time.Local().Format("15:04"), printable(ev.From), printable(ev.Text))
				}
			}
			after = n
		}
	}()
	go func() {
		in := bufio.NewScanner(e.stdin)
		for in.Scan() {
			if line := strings.TrimSpace(in.Text()); line != "" {
				if err := cl.Chat(e.ctx, line); err != nil {
					errs <- err
					return
				}
			}
		}
		errs <- in.Err()
	}()
	return <-errs
}

func (e *env) notifyCmd() *cobra.Command {
	var f clientFlags
	c := &cobra.Command{
		Use:   "notify [USER@]HOST[:PORT]",
		Short: "Wait until the person at a host is back at the keyboard",
		Long: `Timbuktu's Notify: wait until someone uses the host's own keyboard or mouse (what viewers
type does not count), then say so and exit 0. Needs the chat privilege. A host set to ask
first (console.notify = "ask") lets its user decline: then it says so and exits 1.`,
		Example: "  buktu notify alice@example.com && buktu chat alice@example.com \"got a minute?\"",
		Args:    cobra.ExactArgs(1),
	}
	f.add(c, false)
	timeout := c.Flags().Duration("timeout", 0, "give up after this long (exit 1); 0 waits for ever")
	c.RunE = func(c *cobra.Command, args []string) error {
		return e.withConsole(args[0], &f, func(cl *console.Client) error { return e.notify(cl, args[0], *timeout) })
	}
	return c
}

// notify waits until the person at the host is back, or timeout (0: for ever) passes.
func (e *env) notify(cl *console.Client, target string, timeout time.Duration) error {
	ctx := e.ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	fmt.Fprintf(e.stderr, "buktu: waiting for the person at %s…\n", target)
	start := time.Now()
	if err := cl.Notify(ctx); err != nil {
		if errors.Is(err, console.ErrDeclined) {
			return fmt.Errorf("%s: %w", target, err)
		}
		if ctx.Err() != nil && e.ctx.Err() == nil {
			return fmt.Errorf("nobody used the host's keyboard or mouse within %v", timeout)
		}
		return err
	}
	fmt.Fprintf(e.stdout, "the person at %s is back (after %v)\n", target, time.Since(start).Round(time.Second))
	return nil
}

func (e *env) whoCmd() *cobra.Command {
	var f clientFlags
	c := &cobra.Command{
		Use:     "who [USER@]HOST[:PORT]",
		Short:   "Show who is connected to a host, on every port",
		Example: "  buktu who alice@example.com",
		Args:    cobra.ExactArgs(1),
	}
	f.add(c, false)
	c.RunE = func(c *cobra.Command, args []string) error {
		return e.withConsole(args[0], &f, e.who)
	}
	return c
}

// who prints every session on every port of the host.
func (e *env) who(cl *console.Client) error {
	list, err := cl.Sessions(e.ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%-5s %-16s %-9s %-24s %s\n", "ID", "ACCOUNT", "SERVICE", "FROM", "SINCE")
	for _, s := range list {
		fmt.Fprintf(e.stdout, "%-5s %-16s %-9s %-24s %s\n", s.ID, printable(s.Account), s.Service, s.Remote, s.Since.Local().Format("15:04:05"))
	}
	return nil
}

func (e *env) approveCmds() []*cobra.Command {
	approve := &cobra.Command{
		Use:   "approve [ID]",
		Short: "Let a waiting session in (privileges set to ask); without ID, list who waits",
		Long: `A privilege set to "ask" holds a session until the person at the host answers. Run on the
host: without ID, list the requests waiting; with ID, let that one in. No answer within the
host's console.ask_timeout means no.`,
		Example: "  buktu approve\n  buktu approve a3",
		Args:    cobra.MaximumNArgs(1),
	}
	deny := &cobra.Command{
		Use:     "deny ID",
		Short:   "Refuse a waiting session (privileges set to ask)",
		Example: "  buktu deny a3",
		Args:    cobra.ExactArgs(1),
	}
	for _, c := range []*cobra.Command{approve, deny} {
		data := dataFlag(c)
		c.RunE = func(c *cobra.Command, args []string) error {
			dir, err := dataDir(*data)
			if err != nil {
				return err
			}
			if len(args) == 0 {
				rep, err := host.Call(e.ctx, dir, host.Request{Op: "approvals"})
				if err != nil {
					return err
				}
				if len(rep.Pending) == 0 {
					fmt.Fprintln(e.stdout, "nobody is waiting")
					return nil
				}
				for _, r := range rep.Pending {
					fmt.Fprintf(e.stdout, "%-4s %s from %s asks for %s on %s, waiting since %s\n", r.ID, printable(r.Account),
						r.Remote, r.Privilege, r.Service, r.Time.Local().Format("15:04:05"))
				}
				return nil
			}
			if _, err := host.Call(e.ctx, dir, host.Request{Op: c.Name(), ID: args[0]}); err != nil {
				return err
			}
			verb := map[string]string{"approve": "approved", "deny": "denied"}[c.Name()]
			fmt.Fprintf(e.stdout, "%s %s\n", verb, args[0])
			return nil
		}
	}
	return []*cobra.Command{approve, deny}
}
