package events

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func TestFormatGolden(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 22, 41, 3, 0, time.UTC)
	recs := []Record{
		{Kind: KindLogin, Outcome: OutcomeOK, Account: "alice", Service: "send", Remote: "127.0.0.1:5555", Method: "password"},
		{Kind: KindLogin, Outcome: OutcomeFailed, Account: "mallory", Service: "exchange", Remote: "[2001:db8::1]:40022", Method: "password", Reason: "wrong password"},
		{Kind: KindSessionStart, Account: "alice", Service: "send", Remote: "127.0.0.1:5555", Session: "c0ffee"},
		{Kind: KindFile, Outcome: OutcomeOK, Account: "alice", Service: "send", Remote: "127.0.0.1:5555", Action: ActionUpload, Path: "report.pdf", Size: 1258291, SHA256: strings.Repeat("ab12", 16), DurationMS: 3100},
		{Kind: KindFile, Outcome: OutcomeOK, Account: "alice", Service: "exchange", Remote: "127.0.0.1:5555", Action: ActionDownload, Path: "notes/empty file.txt", DurationMS: 12},
		{Kind: KindSessionEnd, Account: "alice", Service: "send", Remote: "127.0.0.1:5555", Session: "c0ffee", DurationMS: 3723400},
		{Kind: KindDecision, Outcome: OutcomeDenied, Account: "bob", Service: "control", Privilege: "control", Reason: "no answer in time"},
		{Kind: KindDecision, Outcome: OutcomeDenied, Remote: "198.51.100.7:1234", Reason: "throttled: 10 failed logins"},
		{Kind: KindLogin, Outcome: OutcomeFailed, Account: "\x1b[2Jroot", Service: "send", Remote: "203.0.113.9:22", Path: "a\u202etxt.exe"},
		{Kind: KindLogRecovered, Size: 37, SHA256: strings.Repeat("0", 64), Reason: "dropped a torn final line"},
		{Kind: "viewer_joined", Account: "carol", Service: "observe"},
		{Kind: KindLogin, Outcome: OutcomeFailed, Account: "root", Service: "send", Remote: "203.0.113.9", Method: "password", Reason: "bad password",
			Count: 41, First: t0.Add(-30 * time.Second), Last: t0.Add(10 * time.Second), Reasons: map[string]uint64{"bad password": 41}},
		{Kind: KindLogin, Outcome: OutcomeFailed, Service: "exchange", Remote: "203.0.113.9", Count: 15643,
			First: t0.Add(-24 * time.Hour), Last: t0.Add(11 * time.Second), Accounts: []string{"admin", "a,b", "x y"}, OtherAccounts: 7,
			Reasons: map[string]uint64{"no such account": 15000, "throttled": 643}},
		{Kind: KindLogContinued, Path: "activity.log.3"},
	}
	var got bytes.Buffer
	for i, r := range recs {
		r.Seq, r.Time = uint64(i+1), t0.Add(time.Duration(i)*time.Second)
		got.Write(appendText(nil, r, time.UTC))
	}
	golden := filepath.Join("testdata", "format.golden")
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden file (go test -update writes it): %v", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("appendText:\n%s\nwant:\n%s", got.Bytes(), want)
	}
}

func TestFormatLocalTime(t *testing.T) {
	r := Record{Seq: 1, Time: time.Date(2026, 11, 25, 22, 41, 3, 0, time.UTC), Kind: KindLogin}
	var got bytes.Buffer
	if err := Format(&got, r); err != nil {
		t.Fatal(err)
	}
	if want := r.Time.Local().Format("2006-01-02 15:04:05") + "  login"; !strings.HasPrefix(got.String(), want) {
		t.Errorf("Format = %q; want it to start %q", got.String(), want)
	}
}

func TestHumanSize(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1258291, "1.2 MiB"},
		{5 << 30, "5.0 GiB"},
		{1 << 62, "4.0 EiB"},
	}
	for _, tt := range tests {
		if got := humanSize(tt.in); got != tt.want {
			t.Errorf("humanSize(%d) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestSafe(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "report.pdf", "report.pdf"},
		{"unicode", "Übersicht.pdf", "Übersicht.pdf"},
		{"space", "my file", `"my file"`},
		{"escape", "\x1b[2J", `"\x1b[2J"`},
		{"bidi override", "a\u202etxt", `"a\u202etxt"`},
		{"quote", `a"b`, `"a\"b"`},
		{"invalid utf-8", "a\xffb", `"a\xffb"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := safe(tt.in); got != tt.want {
				t.Errorf("safe(%q) = %s; want %s", tt.in, got, tt.want)
			}
		})
	}
}
