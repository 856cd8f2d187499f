package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/buktu/buktu/internal/events"
	"github.com/buktu/buktu/internal/host"
)

func (e *env) logCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "log",
		Short: "Show the host's activity log: logins, sessions, files",
		Long: `Show the activity log: every login (ok or failed), privilege decision, session start and
end, and file transferred (who, from where, path, size, SHA-256, duration).

A refused login is shown at once; more refusals from the same address on the same port within
[log] activity_refusal_interval are one record with count=N, the first and last time, and the
accounts and reasons tried. The log reads across the files rotation made (activity.log.1, .2, …).

Each record carries the SHA-256 of the line before it, so an edited, removed or reordered line
is detectable: 'buktu log verify' follows the chain across the files and says where it breaks.`,
		Example: `  buktu log --account alice --since 24h
  buktu log --service send --kind file
  buktu log --json | jq .
  buktu log verify`,
		Args: cobra.NoArgs,
	}
	data := new(string)
	c.PersistentFlags().StringVar(data, "data", "", "the host's data directory (default $XDG_DATA_HOME/buktu, or ~/.local/share/buktu)")
	account := c.Flags().String("account", "", "only this account's records")
	service := c.Flags().String("service", "", "only this service's records (send, exchange, …)")
	kind := c.Flags().String("kind", "", "only records of this kind (login, decision, session_start, session_end, file, log_continued)")
	since := c.Flags().String("since", "", "only records since a time (RFC 3339, 2006-01-02, or a duration back such as 24h)")
	until := c.Flags().String("until", "", "only records before a time (same forms as --since)")
	asJSON := c.Flags().Bool("json", false, "print the records as JSON lines")
	logPath := func() (string, error) {
		dir, err := dataDir(*data)
		if err != nil {
			return "", err
		}
		return filepath.Join(dir, host.ActivityFile), nil
	}
	c.RunE = func(c *cobra.Command, _ []string) error {
		f := events.Filter{Account: *account, Service: *service, Kind: *kind}
		var err error
		if f.Since, err = parseWhen(*since); err != nil {
			return err
		}
		if f.Until, err = parseWhen(*until); err != nil {
			return err
		}
		path, err := logPath()
		if err != nil {
			return err
		}
		enc := json.NewEncoder(e.stdout)
		err = events.ReadFiles(path, f, func(r events.Record) error {
			if *asJSON {
				return enc.Encode(r)
			}
			return events.Format(e.stdout, r)
		})
		if errors.Is(err, os.ErrNotExist) {
			return noLog(path)
		}
		return err
	}
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Check that no line of the activity log was edited, removed or reordered",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			path, err := logPath()
			if err != nil {
				return err
			}
			res, err := events.VerifyFile(path)
			if errors.Is(err, os.ErrNotExist) {
				return noLog(path)
			}
			if err != nil {
				return err
			}
			for _, n := range res.Notes {
				fmt.Fprintf(e.stdout, "note: %s\n", n)
			}
			files := "1 file"
			if res.Files != 1 {
				files = fmt.Sprintf("%d files", res.Files)
			}
			if res.OK {
				fmt.Fprintf(e.stdout, "ok: %d records in %s, chain intact", res.Records, files)
				if res.Records > 0 {
					fmt.Fprintf(e.stdout, " (%s to %s)", res.First.Local().Format(time.DateTime), res.Last.Local().Format(time.DateTime))
				}
				fmt.Fprintln(e.stdout)
				return nil
			}
			for _, p := range res.Problems {
				fmt.Fprintf(e.stdout, "broken: %s\n", p)
			}
			noun := "problems"
			if len(res.Problems) == 1 {
				noun = "problem"
			}
			fmt.Fprintf(e.stderr, "buktu: the activity log %s has been tampered with or damaged (%d %s in %d records, %s)\n", path, len(res.Problems), noun, res.Records, files)
			return errFailed
		},
	}
	c.AddCommand(verify)
	return c
}

// noLog says that there is no activity log at path.
func noLog(path string) error {
	return withHint(fmt.Errorf("no activity log at %s", path), "the host writes it once 'buktu serve' has run; name its data directory with --data")
}

// parseWhen reads a time: RFC 3339, a date, or a duration back from now.
func parseWhen(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.DateTime, "2006-01-02T15:04", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, strings.TrimSpace(s), time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usagef("time %q: use RFC 3339 (2026-11-25T10:00:00Z), a date (2026-11-25) or a duration back (24h)", s)
}
