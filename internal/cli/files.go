package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/buktu/buktu/internal/progress"
	"github.com/buktu/buktu/internal/transfer"
)

// Default ports of the file services.
const (
	sendPort     = 1419
	exchangePort = 1420
)

// clientFlags are the flags of every command that connects to a host.
type clientFlags struct {
	identities []string
	passEnv    string
	knownHosts string
	parallel   int
	quiet      bool
	sftpOnly   bool
}

func (f *clientFlags) add(c *cobra.Command, transfers bool) {
	c.Flags().StringArrayVarP(&f.identities, "identity", "i", nil, "a private key file to log in with (default: ~/.ssh/id_ed25519, id_ecdsa, id_rsa and ssh-agent)")
	c.Flags().StringVar(&f.passEnv, "password-env", "BUKTU_PASSWORD", "the environment variable holding the password (else it is asked for on a terminal)")
	c.Flags().StringVar(&f.knownHosts, "known-hosts", "", "the file of pinned host keys (default $XDG_CONFIG_HOME/buktu/known_hosts)")
	if transfers {
		c.Flags().IntVarP(&f.parallel, "parallel", "j", 8, "files transferred at once")
		c.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "print only errors")
		c.Flags().BoolVar(&f.sftpOnly, "sftp", false, "move files by plain SFTP requests, not buktu's streams (slower with many files; for comparison)")
	}
}

func knownHostsFile(flag string) string {
	if flag != "" {
		return flag
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		dir = "."
	}
	return filepath.Join(dir, "buktu", "known_hosts")
}

// dial connects to t with the flags' credentials.
func (e *env) dial(t transfer.Target, f *clientFlags) (*transfer.Client, error) {
	keys := f.identities
	if len(keys) == 0 {
		keys = transfer.DefaultKeyFiles()
	}
	o := transfer.Options{
		KnownHosts: knownHostsFile(f.knownHosts),
		KeyFiles:   keys,
		Agent:      len(f.identities) == 0,
		OnNewHost: func(addr, fp string) {
			fmt.Fprintf(e.stderr, "buktu: first connection to %s; its key is %s (now pinned)\n", addr, fp)
			fmt.Fprintf(e.stderr, "buktu: hint: compare it with what 'buktu id' prints on the host\n")
		},
	}
	if pw := passwordSource(t.String(), f); pw != nil {
		o.Password = pw
	}
	c, err := transfer.Dial(e.ctx, t, o)
	if ke, ok := err.(*transfer.HostKeyError); ok {
		return nil, withHint(ke, fmt.Sprintf("if the host was reinstalled or its key deliberately replaced, check the new key with 'buktu id' on the host, then run: buktu forget %s", t.Addr()))
	}
	return c, err
}

// passwordSource returns where a password comes from: the flags' environment variable, else
// the terminal, asked without echo when the password is needed; nil when there is neither.
func passwordSource(target string, f *clientFlags) func() (string, error) {
	if pw, ok := os.LookupEnv(f.passEnv); ok && f.passEnv != "" {
		return func() (string, error) { return pw, nil }
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil
	}
	interactive := term.IsTerminal(int(tty.Fd()))
	tty.Close()
	if !interactive {
		return nil
	}
	return func() (string, error) {
		tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
		if err != nil {
			return "", err
		}
		defer tty.Close()
		if !term.IsTerminal(int(tty.Fd())) {
			return "", errors.New("no terminal to ask the password on")
		}
		fmt.Fprintf(tty, "password for %s: ", target)
		b, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(tty)
		return string(b), err
	}
}

func (e *env) meter(f *clientFlags, verb string, quiet bool) *progress.Progress {
	return progress.New(e.stderr, progress.Options{Quiet: quiet || f.quiet, Verb: verb})
}

// meterAdapter makes a progress.Progress a transfer.Meter.
type meterAdapter struct{ p *progress.Progress }

func (m meterAdapter) Start(name string, size int64) transfer.Bar { return m.p.Start(name, size) }

// finish prints the summary and turns failures into the exit status.
func (e *env) finish(p *progress.Progress, results []transfer.Result, err error) error {
	p.Wait()
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
		}
	}
	if len(results) > 0 {
		p.WriteSummary(e.stderr)
	}
	if err != nil {
		return err
	}
	if failed > 0 {
		fmt.Fprintf(e.stderr, "buktu: %d of %d files failed\n", failed, len(results))
		return errFailed
	}
	return nil
}

func (e *env) fileCmds() []*cobra.Command {
	return []*cobra.Command{e.sendCmd(), e.lsCmd(), e.getCmd(), e.putCmd(), e.rmCmd(), e.mkdirCmd(), e.forgetCmd()}
}

func (e *env) sendCmd() *cobra.Command {
	var f clientFlags
	c := &cobra.Command{
		Use:   "send [USER@]HOST[:PORT] FILE|FOLDER…",
		Short: "Send files into a host's inbox (port 1419), with an optional note",
		Long: `Send files and folders into the host's inbox, as Timbuktu's Send did: they arrive in
inbox/<your account>/ and you never see what else is there. A file becomes visible on the host
only when it is complete and its SHA-256 matches what you sent. A name already taken on the
host gets a new one ("report (2).pdf"); nothing is overwritten.

An interrupted send resumes where it stopped: run the same command again.`,
		Example: `  buktu send alice@example.com report.pdf photos/ --note "the files for Monday"
  BUKTU_PASSWORD=… buktu send alice@10.0.0.5:2419 big.iso`,
		Args: cobra.MinimumNArgs(2),
	}
	f.add(c, true)
	note := c.Flags().String("note", "", "a note that goes with the files, stored beside them on the host")
	c.RunE = func(c *cobra.Command, args []string) error {
		t, err := transfer.ParseTarget(args[0], sendPort, false)
		if err != nil {
			return &usageError{err}
		}
		cl, err := e.dial(t, &f)
		if err != nil {
			return err
		}
		defer cl.Close()
		if cl.Service != "" && cl.Service != "send" {
			return withHint(fmt.Errorf("%s is the host's %s port, not its send port", t.Addr(), cl.Service), "use 'buktu put FILE… HOST:PATH' there, or the send port (1419)")
		}
		p := e.meter(&f, "sent", false)
		results, err := cl.Upload(e.ctx, args[1:], "", transfer.UploadOptions{Parallel: f.parallel, Meter: meterAdapter{p}, SFTPOnly: f.sftpOnly})
		for _, r := range results {
			if r.Err == nil && r.Remote != r.Local && path.Base(r.Remote) != filepath.Base(r.Local) && !f.quiet {
				fmt.Fprintf(e.stderr, "buktu: %s was taken on the host; sent as %s\n", filepath.Base(r.Local), r.Remote)
			}
		}
		if err == nil && *note != "" {
			var placed []string
			for _, r := range results {
				if r.Err == nil {
					placed = append(placed, r.Remote)
				}
			}
			name, nerr := cl.Note(*note, placed)
			if nerr != nil {
				fmt.Fprintf(e.stderr, "buktu: the note was not stored: %v\n", nerr)
				err = errFailed
			} else if !f.quiet {
				fmt.Fprintf(e.stderr, "note stored as %s\n", name)
			}
		}
		return e.finish(p, results, err)
	}
	return c
}

// exchangeTarget parses HOST:PATH for the exchange port.
func exchangeTarget(s string) (transfer.Target, error) {
	t, err := transfer.ParseTarget(s, exchangePort, true)
	if err != nil {
		return t, &usageError{err}
	}
	if t.Path == "" {
		t.Path = "."
	}
	return t, nil
}

func (e *env) lsCmd() *cobra.Command {
	var f clientFlags
	c := &cobra.Command{
		Use:     "ls [USER@]HOST[:PORT]:PATH",
		Short:   "List a folder of a host's exchange folder (port 1420)",
		Example: "  buktu ls alice@example.com:\n  buktu ls alice@example.com:1420:projects -l",
		Args:    cobra.ExactArgs(1),
	}
	f.add(c, false)
	long := c.Flags().BoolP("long", "l", false, "sizes, times and permissions too")
	c.RunE = func(c *cobra.Command, args []string) error {
		t, err := exchangeTarget(args[0])
		if err != nil {
			return err
		}
		cl, err := e.dial(t, &f)
		if err != nil {
			return err
		}
		defer cl.Close()
		entries, err := cl.List(t.Path)
		if err != nil {
			return fmt.Errorf("list %s: %w", t.Path, err)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		for _, fi := range entries {
			name := progress.Printable(fi.Name())
			if fi.IsDir() {
				name += "/"
			}
			if *long {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", fi.Mode(), sizeOf(fi), fi.ModTime().Local().Format("2006-01-02 15:04"), name)
			} else {
				fmt.Fprintln(tw, name)
			}
		}
		return tw.Flush()
	}
	return c
}

func sizeOf(fi fs.FileInfo) string {
	if fi.IsDir() {
		return "-"
	}
	return progress.HumanBytes(fi.Size())
}

func (e *env) getCmd() *cobra.Command {
	var f clientFlags
	c := &cobra.Command{
		Use:   "get [USER@]HOST[:PORT]:PATH… [LOCAL]",
		Short: "Download files or folders from a host's exchange folder",
		Long: `Download files and folders (recursively) from the exchange folder. Each file is written
under a temporary name (NAME.buktu-part), checked against the SHA-256 the host computes, and
only then given its name. An interrupted download resumes when run again.

The last argument is where to put them when it is not HOST:PATH (default: the current folder).`,
		Example: "  buktu get alice@example.com:report.pdf\n  buktu get alice@example.com:projects/ ~/Downloads",
		Args:    cobra.MinimumNArgs(1),
	}
	f.add(c, true)
	c.RunE = func(c *cobra.Command, args []string) error {
		local := "."
		if len(args) > 1 && !strings.Contains(args[len(args)-1], ":") {
			local, args = args[len(args)-1], args[:len(args)-1]
		}
		var t transfer.Target
		var paths []string
		for _, a := range args {
			at, err := exchangeTarget(a)
			if err != nil {
				return err
			}
			if t.Host != "" && (at.Host != t.Host || at.Port != t.Port || at.User != t.User) {
				return usagef("all sources must be on one host")
			}
			t = at
			paths = append(paths, at.Path)
		}
		cl, err := e.dial(t, &f)
		if err != nil {
			return err
		}
		defer cl.Close()
		p := e.meter(&f, "received", false)
		results, err := cl.Download(e.ctx, paths, local, transfer.UploadOptions{Parallel: f.parallel, Meter: meterAdapter{p}, SFTPOnly: f.sftpOnly})
		return e.finish(p, results, err)
	}
	return c
}

func (e *env) putCmd() *cobra.Command {
	var f clientFlags
	c := &cobra.Command{
		Use:   "put FILE|FOLDER… [USER@]HOST[:PORT]:PATH",
		Short: "Upload files or folders into a host's exchange folder",
		Long: `Upload files and folders (recursively) into a folder of the exchange folder. A file appears
on the host only when complete; its SHA-256 is checked against the host's. Replacing an
existing file needs the exchange:delete privilege too. An interrupted upload resumes when run
again.`,
		Example: "  buktu put report.pdf alice@example.com:\n  buktu put photos/ alice@example.com:1420:shared/2026",
		Args:    cobra.MinimumNArgs(2),
	}
	f.add(c, true)
	c.RunE = func(c *cobra.Command, args []string) error {
		t, err := exchangeTarget(args[len(args)-1])
		if err != nil {
			return err
		}
		cl, err := e.dial(t, &f)
		if err != nil {
			return err
		}
		defer cl.Close()
		if cl.Service != "" && cl.Service != "exchange" {
			return withHint(fmt.Errorf("%s is the host's %s port, not its exchange port", t.Addr(), cl.Service), "use 'buktu send HOST FILE…' there, or the exchange port (1420)")
		}
		base := strings.Trim(t.Path, "/")
		if base != "" && base != "." {
			if err := cl.Mkdir(base, true); err != nil {
				return fmt.Errorf("make folder %s on the host: %w", base, err)
			}
		}
		p := e.meter(&f, "sent", false)
		results, err := cl.Upload(e.ctx, args[:len(args)-1], base, transfer.UploadOptions{Parallel: f.parallel, Meter: meterAdapter{p}, SFTPOnly: f.sftpOnly})
		return e.finish(p, results, err)
	}
	return c
}

func (e *env) rmCmd() *cobra.Command {
	var f clientFlags
	c := &cobra.Command{
		Use:     "rm [USER@]HOST[:PORT]:PATH…",
		Short:   "Remove files (or with -r folders) from a host's exchange folder",
		Example: "  buktu rm alice@example.com:old.zip\n  buktu rm -r alice@example.com:drafts",
		Args:    cobra.MinimumNArgs(1),
	}
	f.add(c, false)
	recursive := c.Flags().BoolP("recursive", "r", false, "remove folders and all they hold")
	c.RunE = func(c *cobra.Command, args []string) error {
		return e.eachPath(args, &f, func(cl *transfer.Client, p string) error { return cl.Remove(p, *recursive) }, "removed")
	}
	return c
}

func (e *env) mkdirCmd() *cobra.Command {
	var f clientFlags
	c := &cobra.Command{
		Use:     "mkdir [USER@]HOST[:PORT]:PATH…",
		Short:   "Make folders in a host's exchange folder",
		Example: "  buktu mkdir -p alice@example.com:shared/2026/photos",
		Args:    cobra.MinimumNArgs(1),
	}
	f.add(c, false)
	parents := c.Flags().BoolP("parents", "p", false, "make missing parents too; no error if it exists")
	c.RunE = func(c *cobra.Command, args []string) error {
		return e.eachPath(args, &f, func(cl *transfer.Client, p string) error { return cl.Mkdir(p, *parents) }, "made")
	}
	return c
}

// eachPath runs op on every HOST:PATH argument, over one connection per host.
func (e *env) eachPath(args []string, f *clientFlags, op func(*transfer.Client, string) error, verb string) error {
	failed := 0
	conns := map[string]*transfer.Client{}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for _, a := range args {
		t, err := exchangeTarget(a)
		if err != nil {
			return err
		}
		key := t.String()
		cl, ok := conns[key]
		if !ok {
			if cl, err = e.dial(t, f); err != nil {
				return err
			}
			conns[key] = cl
		}
		if err := op(cl, t.Path); err != nil {
			fmt.Fprintf(e.stderr, "buktu: %s: %v\n", t.Path, err)
			failed++
			continue
		}
		fmt.Fprintf(e.stdout, "%s %s\n", verb, t.Path)
	}
	if failed > 0 {
		return errFailed
	}
	return nil
}

func (e *env) forgetCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "forget HOST:PORT",
		Short: "Forget a host's pinned key, to accept a new one deliberately",
		Long: `Forget the key pinned for a host, so that the next connection pins the key it shows. Do this
only when you know why the key changed (the host was reinstalled, its data directory replaced),
after comparing the new key with what 'buktu id' prints on the host.`,
		Example: "  buktu forget example.com:1419",
		Args:    cobra.ExactArgs(1),
	}
	kh := c.Flags().String("known-hosts", "", "the file of pinned host keys (default $XDG_CONFIG_HOME/buktu/known_hosts)")
	c.RunE = func(c *cobra.Command, args []string) error {
		t, err := transfer.ParseTarget(args[0], sendPort, false)
		if err != nil {
			return &usageError{err}
		}
		file := knownHostsFile(*kh)
		n, err := transfer.Forget(file, t.Addr())
		if err != nil {
			return err
		}
		if n == 0 {
			fmt.Fprintf(e.stdout, "no key pinned for %s\n", t.Addr())
			return nil
		}
		fmt.Fprintf(e.stdout, "forgot %d key(s) of %s; the next connection pins the key it shows\n", n, t.Addr())
		return nil
	}
	return c
}
