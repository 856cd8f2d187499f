package host

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/buktu/buktu/internal/ask"
	"github.com/buktu/buktu/internal/events"
	"github.com/buktu/buktu/internal/rfb"
)

// ControlSocket is the name, in the data directory, of the unix socket through which
// commands run on the host (buktu invite) reach the running host. Only the data
// directory's owner can reach it (mode 0600 in a 0700 folder).
const ControlSocket = "control.sock"

// Request is one command on the control socket, a JSON line.
type Request struct {
	Op      string `json:"op"`                // "invite", "approvals", "approve", "deny"
	Addr    string `json:"addr,omitempty"`    // invite: the listening viewer's host:port
	Control bool   `json:"control,omitempty"` // invite: let the viewer control the screen
	ID      string `json:"id,omitempty"`      // approve, deny: the waiting request
}

// Reply answers a Request.
type Reply struct {
	OK      bool          `json:"ok"`
	Error   string        `json:"error,omitempty"`
	Pending []ask.Request `json:"pending,omitempty"` // approvals: who waits for an answer
}

// Call sends one request to the host running on dataDir and returns its reply.
func Call(ctx context.Context, dataDir string, req Request) (Reply, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", filepath.Join(dataDir, ControlSocket))
	if err != nil {
		return Reply{}, fmt.Errorf("reach the running host (is 'buktu serve' running on %s?): %w", dataDir, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return Reply{}, err
	}
	var rep Reply
	if err := json.NewDecoder(bufio.NewReader(c)).Decode(&rep); err != nil {
		return Reply{}, fmt.Errorf("read the host's answer: %w", err)
	}
	if !rep.OK {
		return rep, errors.New(rep.Error)
	}
	return rep, nil
}

// serveControl answers requests on the control socket until ctx ends.
func (h *host) serveControl(ctx context.Context, dataDir string, screens map[string]*rfb.Server, wg *sync.WaitGroup) error {
	path := filepath.Join(dataDir, ControlSocket)
	os.Remove(path) // a socket left by a host that died; the data directory lock says none runs
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("listen on the control socket: %w", err)
	}
	os.Chmod(path, 0o600)
	wg.Go(func() {
		<-ctx.Done()
		ln.Close()
		os.Remove(path)
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(30 * time.Second))
				var req Request
				rep := Reply{OK: true}
				if err := json.NewDecoder(c).Decode(&req); err != nil {
					rep = Reply{Error: "bad request"}
				} else if err := h.control(ctx, req, screens, wg); err != nil {
					rep = Reply{Error: err.Error()}
				}
				if req.Op == "approvals" && rep.OK {
					rep.Pending = h.ask.Pending()
				}
				json.NewEncoder(c).Encode(rep)
			})
		}
	})
	return nil
}

func (h *host) control(ctx context.Context, req Request, screens map[string]*rfb.Server, wg *sync.WaitGroup) error {
	switch req.Op {
	case "invite":
		return h.invite(ctx, req, screens, wg)
	case "approvals":
		return nil
	case "approve", "deny":
		if err := h.ask.Decide(req.ID, req.Op == "approve"); err != nil {
			if errors.Is(err, ask.ErrUnknown) {
				return fmt.Errorf("no request %q is waiting (buktu approve lists those that are)", req.ID)
			}
			return err
		}
		return nil
	}
	return fmt.Errorf("unknown request %q", req.Op)
}

// invite connects out to a listening viewer and serves it the screen: Timbuktu's Invite,
// how a person asks a helper in from behind their own firewall.
func (h *host) invite(ctx context.Context, req Request, screens map[string]*rfb.Server, wg *sync.WaitGroup) error {
	port := "observe"
	if req.Control {
		port = "control"
	}
	srv := screens[port]
	if srv == nil {
		return fmt.Errorf("the %s screen service is off", port)
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	c, err := d.DialContext(ctx, "tcp", req.Addr)
	if err != nil {
		return fmt.Errorf("connect to the viewer at %s (is it listening, e.g. vncviewer -listen?): %w", req.Addr, err)
	}
	h.record(events.Record{Kind: "invite", Outcome: events.OutcomeOK, Service: port, Remote: req.Addr,
		Privilege: port, Reason: "the person at the host invited a listening viewer"})
	wg.Go(func() { srv.ServeInvited(ctx, c, rfb.Access{Account: "invited", Input: req.Control}) })
	return nil
}
