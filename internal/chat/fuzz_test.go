package chat

import (
	"bytes"
	"testing"
)

// encodeAll writes messages as a transcript.
func encodeAll(t *testing.T, ms []Message) []byte {
	t.Helper()
	var b []byte
	for _, m := range ms {
		var err error
		if b, err = appendLine(b, m); err != nil {
			t.Fatalf("appendLine(%+v): %v", m, err)
		}
	}
	return b
}

// FuzzReadTranscript checks that reading any transcript never panics, keeps at most Keep
// messages that all pass Post's checks, and that what it keeps writes back as a transcript that
// reads the same. Seeds are in testdata/fuzz/FuzzReadTranscript.
func FuzzReadTranscript(f *testing.F) {
	f.Add([]byte(`{"seq":1,"from":"ann","text":"hi\nthere","time":"2026-11-25T22:41:03.5+01:00"}` + "\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := readTranscript(bytes.NewReader(b), Keep)
		if err != nil {
			t.Fatalf("readTranscript(%q) = %v; want damage skipped, not an error", b, err)
		}
		if len(tr.recent) > Keep {
			t.Fatalf("readTranscript(%q) kept %d messages; want at most %d", b, len(tr.recent), Keep)
		}
		for _, m := range tr.recent {
			if err := m.check(); err != nil || m.Seq > tr.last {
				t.Fatalf("readTranscript(%q) kept %+v (%v), last seq %d", b, m, err, tr.last)
			}
		}
		line := encodeAll(t, tr.recent)
		again, err := readTranscript(bytes.NewReader(line), Keep)
		if err != nil || again.skipped != 0 || again.torn {
			t.Fatalf("reading back %q = %+v, %v", line, again, err)
		}
		if got := encodeAll(t, again.recent); !bytes.Equal(got, line) {
			t.Fatalf("round trip of %q: got %q; want %q", b, got, line)
		}
	})
}
