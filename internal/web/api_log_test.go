package web

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/events"
)

// TestLogAPIShowsCounts checks that a record standing for many refused logins reaches the
// console with its count, span, accounts and reasons.
func TestLogAPIShowsCounts(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)
	counted := events.Record{Seq: 2, Time: t0.Add(time.Minute), Kind: events.KindLogin, Outcome: events.OutcomeFailed,
		Service: "send", Remote: "203.0.113.9", Count: 41, First: t0, Last: t0.Add(50 * time.Second),
		Accounts: []string{"admin", "root"}, Reasons: map[string]uint64{"bad password": 3, "throttled": 38}}
	h := startHost(t, func(s *Server) {
		s.Log = func(account, service string, limit int) ([]events.Record, error) {
			return []events.Record{counted}, nil
		}
	})
	c := h.client(t)
	c.login("admin")
	resp, body := c.call("GET", "/api/v1/log", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /api/v1/log = %d %s", resp.StatusCode, body)
	}
	var got struct {
		Records []map[string]any `json:"records"`
	}
	if err := json.Unmarshal(body, &got); err != nil || len(got.Records) != 1 {
		t.Fatalf("GET /api/v1/log = %s, %v; want one record", body, err)
	}
	r := got.Records[0]
	reasons, _ := r["reasons"].(map[string]any)
	accounts, _ := r["accounts"].([]any)
	if r["count"] != 41.0 || r["first"] != "2026-11-25T22:00:00Z" || r["last"] != "2026-11-25T22:00:50Z" ||
		len(accounts) != 2 || reasons["throttled"] != 38.0 {
		t.Errorf("GET /api/v1/log record = %v; want count 41, first, last, 2 accounts, 38 throttled", r)
	}
}
