package cli

import (
	"io"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/buktu/buktu/internal/config"
	"github.com/buktu/buktu/internal/host"
)

// dataFlag adds --data to a host-side command and returns where its value lands.
func dataFlag(c *cobra.Command) *string {
	p := new(string)
	c.Flags().StringVar(p, "data", "", "the host's data directory (default $XDG_DATA_HOME/buktu, or ~/.local/share/buktu)")
	return p
}

func dataDir(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	return host.DefaultDataDir()
}

// The host's soft memory limit unless GOMEMLIMIT says otherwise: with only the file services,
// and with the screen services too.
const (
	fileHostMemoryLimit   = 40 << 20
	screenHostMemoryLimit = 112 << 20
)

func (e *env) serveCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the host: the screen (Control, Observe) and file (Send, Exchange) services",
		Long: `Run the host. The first run creates the data directory with a TLS certificate, an SSH host
key, an inbox, an exchange folder, a documented config file (buktu.toml) and an account
"admin" whose password is printed once. Later runs reuse all of it.

The host listens on Timbuktu's ports: 1417 Control (screen, keyboard, mouse; any VNC viewer),
1418 Observe (screen only), 1419 Send (a write-only inbox: others drop files in, never see what
is there) and 1420 Exchange (a shared folder). It shares the X display named by --display, the
config or $DISPLAY; with none, it starts a virtual display (Xvfb) running screen.session. It
prints the addresses and the fingerprints of its keys, which clients show on their first
connection.

SIGINT or SIGTERM stops it: no new sessions; running transfers get the shutdown grace
(limits.shutdown_grace), and what is unfinished then stays on disk, resumable.`,
		Example: `  buktu serve
  buktu serve --data /srv/buktu --log-format json`,
		Args: cobra.NoArgs,
	}
	data := dataFlag(c)
	cfgPath := c.Flags().String("config", "", "read this config file instead of DATA/buktu.toml")
	logFormat := c.Flags().String("log-format", "", "auto, text or json (default: the config's log.format)")
	display := c.Flags().String("display", "", "the X display to share (default: the config's screen.display, then $DISPLAY, then a virtual one)")
	c.RunE = func(c *cobra.Command, _ []string) error {
		dir, err := dataDir(*data)
		if err != nil {
			return err
		}
		cfg, err := host.Prepare(dir, *cfgPath)
		if err != nil {
			return err
		}
		if *logFormat != "" {
			cfg.Log.Format = *logFormat
		}
		log, err := e.logger(cfg.Log)
		if err != nil {
			return err
		}
		if os.Getenv("GOMEMLIMIT") == "" {
			// A soft limit makes the collector work harder before the host grows past what a
			// small machine can give it; GOMEMLIMIT overrides it. Sharing a screen needs room
			// for frames: a tight limit there makes the collector run dozens of times a second.
			limit := fileHostMemoryLimit
			if cfg.Listen.Addr(config.Control) != "" || cfg.Listen.Addr(config.Observe) != "" {
				limit = screenHostMemoryLimit
			}
			debug.SetMemoryLimit(int64(limit))
		}
		return host.Run(e.ctx, host.Options{DataDir: dir, ConfigPath: *cfgPath, Out: e.stdout, Logger: log, Display: *display})
	}
	return c
}

// logger makes the host's logger: text on a terminal, JSON otherwise, on stderr.
func (e *env) logger(l config.Log) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.Level)); err != nil {
		return nil, usagef("log level %q: use debug, info, warn or error", l.Level)
	}
	opts := &slog.HandlerOptions{Level: level}
	var w io.Writer = e.stderr
	switch l.Format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "auto", "":
		if terminal(w) {
			return slog.New(slog.NewTextHandler(w, opts)), nil
		}
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("log format %q: use auto, text or json", l.Format)
}

func (e *env) configCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "config",
		Short: "Show the host's configuration",
	}
	c.AddCommand(&cobra.Command{
		Use:   "default",
		Short: "Print the documented default config file",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, err := io.WriteString(e.stdout, config.Default)
			return err
		},
	})
	return c
}
