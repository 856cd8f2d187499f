package host

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"

	"github.com/buktu/buktu/internal/auth"
	"github.com/buktu/buktu/internal/config"
	"github.com/buktu/buktu/internal/events"
	"github.com/buktu/buktu/internal/identity"
	"github.com/buktu/buktu/internal/rfb"
	"github.com/buktu/buktu/internal/screen"
	"github.com/buktu/buktu/internal/screen/x11"
	"github.com/buktu/buktu/internal/screen/xvfb"
)

var _ rfb.Display = (*screen.Screen)(nil)

// display is the screen the Control and Observe ports share, and what must be stopped with it.
type display struct {
	scr  *screen.Screen
	conn *x11.Conn
	xvfb *xvfb.Server // nil when sharing an existing display
	name string
}

// openDisplay opens the configured display, or $DISPLAY, or starts a virtual one.
func (h *host) openDisplay(ctx context.Context, flag string) (*display, error) {
	x11.RedirectLibraryLog(h.log)
	d := &display{}
	name := flag
	if name == "" {
		name = h.cfg.Screen.Display
	}
	if name == "" {
		name = os.Getenv("DISPLAY")
	}
	var authority string
	if name == "" {
		w, hgt, err := h.cfg.Screen.Size()
		if err != nil {
			return nil, err
		}
		srv, err := xvfb.Start(ctx, xvfb.Options{Width: w, Height: hgt, Depth: 24, Session: h.cfg.Screen.Session, Logger: h.log.With("svc", "xvfb")})
		if err != nil {
			return nil, fmt.Errorf("start a virtual display (Xvfb; 'make setup' installs it): %w", err)
		}
		d.xvfb, name, authority = srv, srv.Display(), srv.Authority()
		h.log.Info("virtual display started", "display", name, "geometry", h.cfg.Screen.Geometry)
	}
	conn, err := x11.Open(ctx, name, x11.Options{Authority: authority, MaxClipboard: h.cfg.Screen.MaxCutText, Logger: h.log.With("svc", "x11")})
	if err != nil {
		d.close()
		return nil, fmt.Errorf("open display %s: %w", name, err)
	}
	d.conn, d.name = conn, name
	d.scr = screen.New(conn, screen.Options{Logger: h.log.With("svc", "screen")})
	return d, nil
}

func (d *display) close() {
	if d.conn != nil {
		d.conn.Close()
	}
	if d.xvfb != nil {
		d.xvfb.Stop()
	}
}

// rfbServer builds the RFB server of the control or observe port.
func (h *host) rfbServer(name config.Service, d *display, id *identity.Identity) *rfb.Server {
	a := h.authenticator(name)
	hostname, _ := os.Hostname()
	var mu sync.Mutex
	leave := map[uint64]func(){} // who is connected: the viewers of this port, by session
	s := &rfb.Server{
		Display:          d.scr,
		Logger:           h.log.With("svc", string(name)),
		TLS:              screenTLS(id),
		Name:             desktopName(h.cfg.Screen.Name, hostname),
		ViewOnly:         name == config.Observe,
		MaxCutText:       h.cfg.Screen.MaxCutText,
		HandshakeTimeout: h.cfg.Limits.HandshakeTimeout.Std(),
		MaxConnsPerAddr:  h.cfg.Screen.MaxViewers,
		Pending:          h.pending(), // the console of the port shares it
		Authenticate: func(ctx context.Context, user, pw string, remote netip.AddrPort) (rfb.Access, error) {
			acct, err := a.CheckPassword(ctx, user, pw, remote.Addr())
			if te, ok := errors.AsType[*auth.ThrottledError](err); ok {
				return rfb.Access{}, &rfb.DeniedError{Reason: te.Message()}
			}
			if err != nil {
				return rfb.Access{}, &rfb.DeniedError{Reason: "wrong account or password"}
			}
			return rfb.Access{Account: acct.Name}, nil
		},
		// Privileges are decided once the password is right, with the handshake's deadline
		// lifted: one set to ask waits for the person at the host.
		Approve: func(ctx context.Context, a rfb.Access, remote netip.AddrPort) (rfb.Access, error) {
			if a.Account == legacyAccount {
				return a, nil
			}
			acct, err := h.store.Get(a.Account)
			if err != nil {
				return rfb.Access{}, &rfb.DeniedError{Reason: "wrong account or password"}
			}
			return h.screenAccess(ctx, name, acct, remote)
		},
		OnSession: func(si rfb.SessionInfo, end bool) {
			kind := events.KindSessionStart
			if end {
				kind = events.KindSessionEnd
			}
			priv := "observe"
			if si.Input {
				priv = "control"
			}
			h.record(events.Record{Kind: kind, Account: si.Account, Service: string(name), Remote: si.Remote,
				Privilege: priv, Reason: si.Reason})
			mu.Lock()
			defer mu.Unlock()
			if !end {
				leave[si.ID] = h.join(si.Account, si.Remote, string(name), si.Disconnect)
				return
			}
			if l := leave[si.ID]; l != nil {
				l()
				delete(leave, si.ID)
			}
			// What the viewer held down went up when its session ended (rfb), and only
			// that: another viewer may be holding Shift.
		},
	}
	if pw := h.cfg.Screen.VNCPassword; pw != "" {
		h.log.Warn("legacy VNC authentication is on: its password crosses the network weakly protected (DES) and its sessions are view-only", "port", string(name))
		s.LegacyPassword = func() (string, rfb.Access) { return pw, rfb.Access{Account: legacyAccount} }
	}
	return s
}

// legacyAccount is the account name of sessions that logged in with the shared VNC password.
const legacyAccount = "vnc-password"

// screenAccess decides what an account may do on a screen port: the port caps it, the
// account's privileges narrow it, and a privilege set to ask waits for the person at the
// host. On the Control port a refused control still leaves watching, when that is allowed.
func (h *host) screenAccess(ctx context.Context, name config.Service, acct auth.Account, remote netip.AddrPort) (rfb.Access, error) {
	r := remote.String()
	control := acct.Mode(auth.PrivControl)
	if name == config.Control && control != auth.Deny {
		if h.allowed(ctx, acct, auth.PrivControl, string(name), r, "") {
			return rfb.Access{Account: acct.Name, Input: true}, nil
		}
		control = auth.Deny // refused (or not answered): not asked again for watching
	}
	// Watching is observe's to grant, or control's: control includes watching.
	priv := auth.PrivObserve
	if control == auth.Allow || control == auth.Ask && acct.Mode(auth.PrivObserve) == auth.Deny {
		priv = auth.PrivControl
	}
	switch acct.Mode(priv) {
	case auth.Allow:
		h.record(events.Record{Kind: events.KindDecision, Outcome: events.OutcomeOK, Account: acct.Name,
			Service: string(name), Remote: r, Privilege: string(auth.PrivObserve)})
		return rfb.Access{Account: acct.Name}, nil
	case auth.Ask:
		if h.allowed(ctx, acct, priv, string(name), r, "") {
			return rfb.Access{Account: acct.Name}, nil
		}
	default:
		h.record(events.Record{Kind: events.KindDecision, Outcome: events.OutcomeDenied, Account: acct.Name,
			Service: string(name), Remote: r, Privilege: string(auth.PrivObserve), Reason: "privileges observe and control are not allow"})
	}
	return rfb.Access{}, &rfb.DeniedError{Reason: "account " + acct.Name + " may not see this screen"}
}

// listenScreen opens the listeners of the screen ports that are on.
func listenScreen(cfg config.Config) (map[config.Service]net.Listener, error) {
	lns := map[config.Service]net.Listener{}
	for _, name := range []config.Service{config.Control, config.Observe} {
		addr := cfg.Listen.Addr(name)
		if addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, fmt.Errorf("listen for %s on %s: %w", name, addr, err)
		}
		lns[name] = ln
	}
	return lns, nil
}
