package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// Kinds of record. Kind is an open string: later services add their own.
const (
	KindLogin        = "login"         // a login attempt: Outcome, Method, Account, Remote, Service, Reason; Count and the rest for refusals counted by Log.Login
	KindSessionStart = "session_start" // an authenticated session began: Session, Account, Remote, Service
	KindSessionEnd   = "session_end"   // a session ended: Session, DurationMS, Reason
	KindFile         = "file"          // a file transferred: Action, Path, Size, SHA256, DurationMS
	KindDecision     = "decision"      // a privilege decision or throttling: Privilege, Outcome, Reason
	KindLogRecovered = "log_recovered" // Open dropped a torn final line: Size and SHA256 of the dropped bytes
	KindLogMismatch  = "log_mismatch"  // Open found the log and its head disagreeing: Reason
	// KindLogContinued is the first record of a file started by rotation: Path names the file
	// the chain continues from (see the package documentation).
	KindLogContinued = "log_continued"
)

// Outcomes. A privilege decision that allows is OutcomeOK.
const (
	OutcomeOK     = "ok"
	OutcomeFailed = "failed"
	OutcomeDenied = "denied"
)

// Actions of a file record.
const (
	ActionUpload   = "upload"
	ActionDownload = "download"
)

// MaxLine is the longest line, without its newline, that the log holds. Append refuses a record
// that would encode longer; readers treat a longer line as damage.
const MaxLine = 1 << 20

// Record is one line of the activity log. Append fills Seq, Prev and, when zero, Time.
type Record struct {
	Seq        uint64    `json:"seq"`                   // 1-based position in the chain
	Time       time.Time `json:"time"`                  // UTC, RFC 3339 with nanoseconds
	Kind       string    `json:"kind"`                  // KindLogin, …; open-ended
	Outcome    string    `json:"outcome,omitempty"`     // OutcomeOK, OutcomeFailed, OutcomeDenied
	Account    string    `json:"account,omitempty"`     // the account name, as given when a login failed
	Service    string    `json:"service,omitempty"`     // "send", "exchange", "control", …
	Remote     string    `json:"remote,omitempty"`      // the peer's address, host:port
	Session    string    `json:"session,omitempty"`     // an id tying a session's records together
	Method     string    `json:"method,omitempty"`      // how a login authenticated: "password", "publickey"
	Privilege  string    `json:"privilege,omitempty"`   // what a decision was about: "control", "exchange:write", …
	Action     string    `json:"action,omitempty"`      // what happened to a file: ActionUpload, ActionDownload
	Path       string    `json:"path,omitempty"`        // a file's path inside its share
	Size       int64     `json:"size,omitempty"`        // bytes
	SHA256     string    `json:"sha256,omitempty"`      // hex
	DurationMS int64     `json:"duration_ms,omitempty"` // milliseconds
	Reason     string    `json:"reason,omitempty"`      // free text: why it failed, what was decided
	// The fields of a record that stands for several refused logins from one source (see
	// Log.Login); a record without Count stands for one event.
	Count         uint64            `json:"count,omitempty"`          // how many refused logins
	First         time.Time         `json:"first,omitzero"`           // when the first of them was refused
	Last          time.Time         `json:"last,omitzero"`            // when the last of them was refused
	Accounts      []string          `json:"accounts,omitempty"`       // the names tried, when more than one
	OtherAccounts uint64            `json:"other_accounts,omitempty"` // attempts with names not in Accounts
	Reasons       map[string]uint64 `json:"reasons,omitempty"`        // how many were refused for each reason
	Prev          string            `json:"prev,omitempty"`           // hex SHA-256 of the previous line; "" on the first
}

// Duration returns DurationMS as a time.Duration.
func (r Record) Duration() time.Duration {
	return time.Duration(r.DurationMS) * time.Millisecond
}

// Events returns how many events r stands for: Count, or 1 for a record without one.
func (r Record) Events() uint64 {
	return max(r.Count, 1)
}

// span returns the times r covers: from its first refusal, for a record with a count, to when it
// was written.
func (r Record) span() (from, to time.Time) {
	if !r.First.IsZero() && r.First.Before(r.Time) {
		return r.First, r.Time
	}
	return r.Time, r.Time
}

// ParseLine parses one line of the log, without its newline. Fields it does not know are
// ignored, so logs written by later versions still read.
func ParseLine(line []byte) (Record, error) {
	r, err := parse(line)
	if err != nil {
		return Record{}, fmt.Errorf("parse activity record: %w", err)
	}
	return r, nil
}

// parse is ParseLine with errors short enough to follow "line 5: not a valid record: ".
func parse(line []byte) (Record, error) {
	var r Record
	if err := json.Unmarshal(line, &r); err != nil {
		return Record{}, fmt.Errorf("invalid JSON: %w", err)
	}
	switch {
	case r.Seq == 0:
		return Record{}, errors.New("no seq")
	case r.Kind == "":
		return Record{}, errors.New("no kind")
	case r.Time.IsZero():
		return Record{}, errors.New("no time")
	}
	return r, nil
}

// newEncoder returns the encoder that writes records as log lines: one JSON object and '\n',
// in one Write. HTML characters stay as they are, for people reading the file.
func newEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

// Filter selects records. Zero fields match everything.
type Filter struct {
	Account string // Account, or one of Accounts
	Service string
	Kind    string
	Since   time.Time // inclusive
	Until   time.Time // exclusive
}

// Match reports whether r passes the filter. A record with a count matches an account it lists
// in Accounts, and a time window that overlaps the span from First to Time.
func (f Filter) Match(r Record) bool {
	from, to := r.span()
	switch {
	case f.Account != "" && r.Account != f.Account && !slices.Contains(r.Accounts, f.Account),
		f.Service != "" && r.Service != f.Service,
		f.Kind != "" && r.Kind != f.Kind,
		!f.Since.IsZero() && to.Before(f.Since),
		!f.Until.IsZero() && !from.Before(f.Until):
		return false
	}
	return true
}
