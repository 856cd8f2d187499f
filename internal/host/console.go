package host

import (
	"context"
	"crypto/tls"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"

	"github.com/buktu/buktu/internal/auth"
	"github.com/buktu/buktu/internal/config"
	"github.com/buktu/buktu/internal/events"
	"github.com/buktu/buktu/internal/files"
	"github.com/buktu/buktu/internal/identity"
	"github.com/buktu/buktu/internal/rfb"
	"github.com/buktu/buktu/internal/web"
	webui "github.com/buktu/buktu/web"
)

// consoleServer is the HTTPS console of a screen port: the same privileges, the same
// throttled logins, the same RFB sessions (over a WebSocket) and the same file policies as
// the other ports.
func (h *host) consoleServer(name config.Service, d *display, rs *rfb.Server, id *identity.Identity,
	screens map[string]*rfb.Server, wg *sync.WaitGroup) *web.Server {
	a := h.authenticator(name)
	hostname, _ := os.Hostname()
	return &web.Server{
		Logger:  h.log.With("svc", string(name), "part", "console"),
		Service: string(name),
		Login: func(ctx context.Context, account, password string, remote netip.AddrPort) (auth.Account, error) {
			return a.CheckPassword(ctx, account, password, remote.Addr())
		},
		Account: func(name string) (auth.Account, bool) {
			acct, err := h.store.Get(name)
			return acct, err == nil
		},
		Screen: func(ctx context.Context, c net.Conn, account string, input bool) {
			// The console logs this session and lists it among who is connected itself.
			rs.ServeInvited(ctx, c, rfb.Access{Account: account, Input: input, Tracked: true})
		},
		Accounts: h.store,
		Inbox:    h.inbox,
		Exchange: h.exchange,
		OnTransfer: func(account, remote string, t files.Transfer) {
			h.transferred("console", t)
		},
		Who:  h.who,
		Chat: h.chat,
		Ask:  h.ask,
		Notify: func(ctx context.Context, account, remote string) (bool, error) {
			return h.notify(ctx, d, account, remote)
		},
		Invite: func(ctx context.Context, address string, control bool) error {
			return h.invite(ctx, Request{Op: "invite", Addr: address, Control: control}, screens, wg)
		},
		Host: func() web.HostInfo {
			w, ht := d.conn.Size()
			return web.HostInfo{Name: desktopName(h.cfg.Screen.Name, hostname), Version: Version,
				TLSSHA256: id.TLSFingerprint(), SSHSHA256: id.SSHFingerprint(),
				Screen: web.ScreenSize{Width: w, Height: ht}}
		},
		Log:        h.readLog,
		Record:     h.record,
		SessionTTL: h.cfg.Console.SessionTTL.Std(),
		IdleTTL:    h.cfg.Console.IdleTTL.Std(),
		// A file being sent through the console gets the same grace as one over SFTP.
		ShutdownGrace: h.cfg.Limits.ShutdownGrace.Std(),
		Assets:        webui.Assets(),
		// One pool per port: silent viewers and stalled browsers wait in the same.
		Pending:          rs.Pending,
		HandshakeTimeout: h.cfg.Limits.HandshakeTimeout.Std(),
	}
}

// screenTLS is the TLS of the screen ports, for VNC viewers (VeNCrypt) and the console alike:
// the host's certificate.
func screenTLS(id *identity.Identity) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{id.TLS}, MinVersion: tls.VersionTLS12}
}

// desktopName is the name viewers and the console show.
func desktopName(configured, hostname string) string {
	if configured != "" {
		return configured
	}
	return "buktu on " + hostname
}

// logLimit bounds the records the console's activity view reads.
const logLimit = 1000

// readLog returns the newest records of the activity log that match account and service
// (empty matches any), at most limit of them, oldest first.
func (h *host) readLog(account, service string, limit int) ([]events.Record, error) {
	if limit <= 0 || limit > logLimit {
		limit = logLimit
	}
	if err := h.activity.Sync(); err != nil {
		return nil, err
	}
	return events.Tail(filepath.Join(h.dataDir, ActivityFile), events.Filter{Account: account, Service: service}, limit)
}
