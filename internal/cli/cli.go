// Package cli is buktu's command line: one file per subcommand, their flags and help, exit
// codes, and the stderr contract (messages start "buktu:", with a "buktu: hint:" line when
// the fix is known). It parses and prints; the work is done by the packages below it.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// env is what every command may use: the streams and the context.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// hintError is an error with a hint for the person who hit it.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

func withHint(err error, hint string) error { return &hintError{err, hint} }

// usageError marks a mistake in the command's words.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }

func usagef(format string, a ...any) error { return &usageError{fmt.Errorf(format, a...)} }

// failedError says that some of the work failed and was already reported.
var errFailed = errors.New("some of it failed")

// Run runs buktu with the command-line arguments args and returns the exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}
	root := e.root()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, errFailed) {
		return ExitFailure
	}
	msg := err.Error()
	fmt.Fprintf(stderr, "buktu: %s\n", strings.TrimPrefix(msg, "buktu: "))
	if he, ok := errors.AsType[*hintError](err); ok {
		fmt.Fprintf(stderr, "buktu: hint: %s\n", he.hint)
	}
	var ue *usageError
	if errors.As(err, &ue) || isCobraUsage(msg) {
		fmt.Fprintf(stderr, "buktu: hint: see 'buktu %s --help'\n", commandPath(root, args))
		return ExitUsage
	}
	return ExitFailure
}

func isCobraUsage(msg string) bool {
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "invalid argument", "flag needs an argument", "requires at most"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func commandPath(root *cobra.Command, args []string) string {
	c, _, err := root.Find(args)
	if err != nil || c == root {
		return ""
	}
	return strings.TrimPrefix(c.CommandPath(), root.Name()+" ")
}

func (e *env) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "buktu",
		Short: "Timbuktu's remote-control suite, reborn: screens and files between computers",
		Long: `buktu brings back Timbuktu: see and control another computer's screen, and move files to it,
with the clients people already have. One binary is both the host and the client.

On the machine to be reached:
  buktu serve                       run the host (first run prints the admin password)

From anywhere:
  buktu send HOST FILE…             drop files into the host's inbox (port 1419)
  buktu ls|get|put|rm|mkdir HOST:PATH  use the host's exchange folder (port 1420)
  sftp -P 1420 admin@HOST           …or any SFTP client
  https://HOST:1417                 the console in a browser: screen, files, chat
  vncviewer HOST:1417               …or any VNC viewer (1418: watch only)
  buktu chat|notify|who HOST        talk to the person at the host, wait for them, see who is on
  buktu ports                       what listens on Timbuktu's ports, and what they were`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       version,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &usageError{err} })
	root.AddGroup(&cobra.Group{ID: "host", Title: "On the host:"}, &cobra.Group{ID: "client", Title: "From anywhere:"})
	for _, c := range append([]*cobra.Command{e.serveCmd(), e.inviteCmd()}, append(e.approveCmds(), e.userCmd(), e.logCmd(), e.idCmd(), e.configCmd())...) {
		c.GroupID = "host"
		root.AddCommand(c)
	}
	for _, c := range e.fileCmds() {
		c.GroupID = "client"
		root.AddCommand(c)
	}
	for _, c := range []*cobra.Command{e.portsCmd(), e.snapshotCmd(), e.chatCmd(), e.notifyCmd(), e.whoCmd()} {
		c.GroupID = "client"
		root.AddCommand(c)
	}
	return root
}

const version = "0.1.0"

// terminal reports whether w is a terminal.
func terminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
