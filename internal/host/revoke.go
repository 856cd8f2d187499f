package host

import (
	"context"
	"errors"
	"time"

	"github.com/buktu/buktu/internal/auth"
	"github.com/buktu/buktu/internal/events"
)

// accountsPoll is how often the host looks whether the accounts of running sessions still
// exist: `buktu user remove` and the console change the accounts file, not the host.
const accountsPoll = time.Second

// cutRemoved ends, until ctx ends, every running session (screen, files, console) whose
// account was removed or disabled, as the console already does at its next request: a
// removed account keeps no way in.
func (h *host) cutRemoved(ctx context.Context) {
	t := time.NewTicker(accountsPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, s := range h.who.List() {
			if s.Account == legacyAccount {
				continue
			}
			acct, err := h.store.Get(s.Account)
			switch {
			case errors.Is(err, auth.ErrNoAccount):
			case err == nil && acct.Disabled:
			default:
				continue // still there, or the file could not be read: nothing is known
			}
			if h.who.Disconnect(s.ID) {
				h.log.Info("session cut: its account was removed", "account", s.Account,
					"service", s.Service, "remote_addr", s.Remote)
				h.record(events.Record{Kind: events.KindDecision, Outcome: events.OutcomeDenied,
					Account: s.Account, Service: s.Service, Remote: s.Remote,
					Reason: "account removed or disabled: session cut"})
			}
		}
	}
}
