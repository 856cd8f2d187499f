// Package host turns a data directory and its configuration into a running buktu host: it
// creates what a first run needs (identity, admin account, folders, config file), starts the
// services on their ports, connects them to accounts, the activity log and the file policies,
// and stops them gracefully. It owns no protocol: those are in the packages it wires together.
package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/buktu/buktu/internal/ask"
	"github.com/buktu/buktu/internal/auth"
	"github.com/buktu/buktu/internal/chat"
	"github.com/buktu/buktu/internal/config"
	"github.com/buktu/buktu/internal/files"
	"github.com/buktu/buktu/internal/identity"
	"github.com/buktu/buktu/internal/quota"
	"github.com/buktu/buktu/internal/rfb"
	"github.com/buktu/buktu/internal/sshd"
	"github.com/buktu/buktu/internal/web"
	"github.com/buktu/buktu/internal/who"
)

// Files inside the data directory.
const (
	AccountsFile = "accounts.json"
	ActivityFile = "activity.log"
	LockFile     = "buktu.lock"
)

// Options say where a host keeps its state and where it reports.
type Options struct {
	DataDir    string // created if missing
	ConfigPath string // "" means DataDir/buktu.toml
	// Out receives what a person starting the host must see: the first admin password, the
	// addresses, the fingerprints.
	Out    io.Writer
	Logger *slog.Logger
	// Display is the X display to share; "" means the config's, then $DISPLAY, then a
	// virtual one.
	Display string
	// Ready, if set, is called once every service listens.
	Ready func(addrs map[config.Service]net.Addr)
}

// DefaultDataDir returns the XDG data home's buktu folder.
func DefaultDataDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "buktu"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the data directory (set --data or XDG_DATA_HOME): %w", err)
	}
	return filepath.Join(home, ".local", "share", "buktu"), nil
}

// Prepare creates what a host needs in its data directory and loads the configuration,
// without starting anything: `buktu serve` and the account commands share it.
func Prepare(dataDir, configPath string) (config.Config, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return config.Config{}, fmt.Errorf("make data directory: %w", err)
	}
	if configPath == "" {
		configPath = filepath.Join(dataDir, config.FileName)
		if _, err := os.Stat(configPath); errors.Is(err, os.ErrNotExist) {
			if err := os.WriteFile(configPath, []byte(config.Default), 0o600); err != nil {
				return config.Config{}, fmt.Errorf("write default config: %w", err)
			}
		}
	}
	return config.Load(configPath)
}

// Accounts returns the account store of a data directory.
func Accounts(dataDir string) *auth.Store {
	return &auth.Store{Path: filepath.Join(dataDir, AccountsFile)}
}

// Run runs the host until ctx is cancelled, then stops gracefully.
func Run(ctx context.Context, o Options) error {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	unlock, err := lockDataDir(o.DataDir)
	if err != nil {
		return err
	}
	defer unlock()
	cfg, err := Prepare(o.DataDir, o.ConfigPath)
	if err != nil {
		return err
	}
	id, _, err := identity.LoadOrCreate(o.DataDir)
	if err != nil {
		return err
	}
	store := Accounts(o.DataDir)
	pw, err := store.Bootstrap()
	if err != nil {
		return fmt.Errorf("create the admin account: %w", err)
	}
	if pw != "" {
		fmt.Fprintf(out, "admin password: %s\n", pw)
		fmt.Fprintf(out, "  (shown once; change it with: buktu user passwd admin)\n")
	}
	activity, err := openActivity(o.DataDir, cfg.Log)
	if err != nil {
		return fmt.Errorf("open activity log: %w", err)
	}
	defer func() {
		// Closing writes the refusals still being counted: say so if they are lost.
		if err := activity.Close(); err != nil {
			log.Error("close activity log", "err", err)
		}
	}()

	fopts := files.Options{MaxFileSize: cfg.Limits.MaxFileSize, MaxPathLength: cfg.Limits.MaxPathLength, Logger: log}
	inboxDir := config.Folder(o.DataDir, cfg.Folders.Inbox)
	inbox, err := files.OpenInbox(inboxDir, fopts)
	if err != nil {
		return err
	}
	defer inbox.Close()
	exchange, err := files.OpenExchange(config.Folder(o.DataDir, cfg.Folders.Exchange), fopts)
	if err != nil {
		return err
	}
	defer exchange.Close()

	room, err := chat.Open(filepath.Join(o.DataDir, ChatFile))
	if err != nil {
		return fmt.Errorf("open chat transcript: %w", err)
	}
	defer room.Close()

	h := &host{cfg: cfg, log: log, store: store, activity: activity, inbox: inbox,
		inboxDir: inboxDir, exchange: exchange, throttle: &auth.Throttle{},
		dataDir: o.DataDir, out: out, who: &who.Registry{}, chat: room}
	h.ask = &ask.Queue{Timeout: cfg.Console.AskTimeout.Std(), OnAsk: h.asked}
	defer h.hooks.Wait()

	type service struct {
		name config.Service
		srv  *sshd.Server
		ln   net.Listener
	}
	var services []service
	defer func() {
		for _, s := range services {
			s.ln.Close()
		}
	}()
	for _, name := range []config.Service{config.Send, config.Exchange} {
		addr := cfg.Listen.Addr(name)
		if addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("listen for %s on %s: %w", name, addr, err)
		}
		services = append(services, service{name, h.sshServer(name, id), ln})
	}

	screenLns, err := listenScreen(cfg)
	if err != nil {
		return err
	}
	var disp *display
	if len(screenLns) > 0 {
		disp, err = h.openDisplay(ctx, o.Display)
		if err != nil {
			// The file services are worth running without a screen; say what is missing.
			log.Error("screen services off", "err", err)
			fmt.Fprintf(out, "screen services off: %v\n", err)
			for _, ln := range screenLns {
				ln.Close()
			}
			screenLns = nil
		} else {
			defer disp.close()
		}
	}

	fmt.Fprintf(out, "data directory  %s\n", o.DataDir)
	addrs := map[config.Service]net.Addr{}
	for _, name := range []config.Service{config.Control, config.Observe} {
		if ln, ok := screenLns[name]; ok {
			addrs[name] = ln.Addr()
			fmt.Fprintf(out, "%-9s vnc://%s  (%s)\n", name, ln.Addr(), describe(name))
			if cfg.Console.Enabled {
				fmt.Fprintf(out, "%-9s https://%s  (console: %s)\n", "", ln.Addr(), consoleKind(name))
			}
		}
	}
	if disp != nil {
		fmt.Fprintf(out, "display   %s\n", disp.name)
	}
	for _, s := range services {
		addrs[s.name] = s.ln.Addr()
		fmt.Fprintf(out, "%-9s sftp://%s  (%s)\n", s.name, s.ln.Addr(), describe(s.name))
	}
	fmt.Fprintf(out, "ssh host key    %s\n", id.SSHFingerprint())
	fmt.Fprintf(out, "tls certificate %s\n", id.TLSFingerprint())
	log.Info("host started", "data_dir", o.DataDir, "services", len(services))
	if o.Ready != nil {
		o.Ready(addrs)
	}

	var wg sync.WaitGroup
	// The log is appended without a sync per record; syncing each second bounds what a
	// power failure can take. Refusals counted for an interval that has ended are written
	// first; those still counted when the host stops are written when the log closes.
	syncCtx, stopSync := context.WithCancel(ctx)
	defer stopSync()
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-syncCtx.Done():
				return
			case <-t.C:
				if err := activity.Sweep(); err != nil {
					log.Error("write activity log", "err", err)
				}
				if err := activity.Sync(); err != nil {
					log.Warn("sync activity log", "err", err)
				}
			}
		}
	})
	wg.Go(func() { h.expirePartials(syncCtx) })
	errs := make([]error, len(services))
	var served sync.WaitGroup
	for i, s := range services {
		served.Go(func() { errs[i] = s.srv.Serve(ctx, s.ln) })
	}
	var screenErrs []error
	var screenMu sync.Mutex
	keep := func(err error) {
		if err != nil {
			screenMu.Lock()
			screenErrs = append(screenErrs, err)
			screenMu.Unlock()
		}
	}
	byName := map[string]*rfb.Server{}
	if disp != nil {
		served.Go(func() { keep(disp.scr.Run(ctx)) })
		var servers []*rfb.Server
		for name := range screenLns {
			srv := h.rfbServer(name, disp, id)
			servers = append(servers, srv)
			byName[string(name)] = srv
		}
		for name, ln := range screenLns {
			srv := byName[string(name)]
			if !cfg.Console.Enabled {
				served.Go(func() { keep(srv.Serve(ctx, ln)) })
				continue
			}
			// A browser speaks first (a TLS ClientHello), a VNC viewer waits: one port, both.
			rfbLn, httpsLn := web.Split(ln, cfg.Console.SniffWindow.Std())
			con := h.consoleServer(name, disp, srv, id, byName, &served)
			served.Go(func() { keep(srv.Serve(ctx, rfbLn)) })
			served.Go(func() { keep(con.Serve(ctx, httpsLn, screenTLS(id))) })
		}
		served.Go(func() {
			// The host's clipboard goes to the viewers who may control the screen.
			for {
				select {
				case <-ctx.Done():
					return
				case text, ok := <-disp.scr.Clipboard():
					if !ok {
						return
					}
					for _, srv := range servers {
						srv.Broadcast(text)
					}
				}
			}
		})
	}
	served.Go(func() { h.cutRemoved(ctx) })
	if err := h.serveControl(ctx, o.DataDir, byName, &served); err != nil {
		log.Warn("no control socket: buktu invite, approve and deny will not reach this host", "err", err)
	}
	served.Wait()
	errs = append(errs, screenErrs...)
	stopSync()
	wg.Wait()
	log.Info("host stopped")
	// A stop asked for is a success: a service that returns the context's own error says
	// only that it was stopped.
	errs = slices.DeleteFunc(errs, func(err error) bool { return ctx.Err() != nil && errors.Is(err, ctx.Err()) })
	return errors.Join(errs...)
}

// pending returns a new pool for the connections of one port that are still logging in.
func (h *host) pending() *quota.Pending {
	return &quota.Pending{Max: h.cfg.Limits.MaxUnauthenticated, MaxPerAddr: h.cfg.Limits.MaxUnauthenticatedPerAddress}
}

// consoleKind says what the console on a screen port offers.
func consoleKind(s config.Service) string {
	if s == config.Control {
		return "screen, files, chat, who is connected"
	}
	return "view-only screen, chat, who is connected"
}

func describe(s config.Service) string {
	switch s {
	case config.Control:
		return "Control: screen, keyboard, mouse, clipboard"
	case config.Observe:
		return "Observe: screen only"
	case config.Send:
		return "Send Files: write-only inbox"
	case config.Exchange:
		return "Exchange Files: shared folder"
	}
	return string(s)
}
