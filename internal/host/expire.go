package host

import (
	"context"
	"time"

	"github.com/buktu/buktu/internal/events"
	"github.com/buktu/buktu/internal/files"
)

// sweepEvery is how often the partial folders are checked for partial uploads unused for
// ttl: hourly, and more often for a short ttl, so none outlives it by more than a quarter.
func sweepEvery(ttl time.Duration) time.Duration {
	return min(time.Hour, max(time.Second, ttl/4))
}

// expirePartials removes the partial uploads of the inbox and the exchange folder that
// nobody has written for limits.partial_ttl: at start, then every sweepEvery, until ctx
// ends. The files' own code never removes one that an upload has open.
func (h *host) expirePartials(ctx context.Context) {
	ttl := h.cfg.Limits.PartialTTL.Std()
	if ttl <= 0 {
		return
	}
	t := time.NewTicker(sweepEvery(ttl))
	defer t.Stop()
	for {
		h.expire("send", ttl, h.inbox.ExpirePartials)
		h.expire("exchange", ttl, h.exchange.ExpirePartials)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// expire runs one service's sweep and logs and records each partial upload it removed.
func (h *host) expire(service string, ttl time.Duration, sweep func(time.Duration) ([]files.Expired, error)) {
	gone, err := sweep(ttl)
	if err != nil {
		h.log.Warn("expire partial uploads", "service", service, "err", err)
	}
	for _, e := range gone {
		unused := e.Unused.Round(time.Second)
		h.log.Info("partial upload expired", "service", service, "account", e.Account, "path", e.Path,
			"size", e.Size, "unused", unused.String())
		h.record(events.Record{Kind: events.KindFile, Outcome: events.OutcomeFailed, Account: e.Account,
			Service: service, Action: events.ActionUpload, Path: e.Path, Size: e.Size,
			Reason: "partial upload unused for " + unused.String() + "; removed"})
	}
}
