package events

import (
	"bytes"
	"testing"
)

// encode encodes r as Append does, without the newline.
func encode(t testing.TB, r Record) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := newEncoder(&b).Encode(r); err != nil {
		t.Fatalf("encode %+v: %v", r, err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'})
}

// FuzzParseLine checks that ParseLine never panics and that what it accepts encodes to a line
// that parses back to the same record. Seeds are in testdata/fuzz/FuzzParseLine.
func FuzzParseLine(f *testing.F) {
	f.Add([]byte(`{"seq":1,"time":"2026-11-25T22:41:03Z","kind":"login","outcome":"failed","account":"\u001b[2J"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseLine(b)
		if err != nil {
			return // rejecting is fine; panicking is not
		}
		line := encode(t, r)
		again, err := ParseLine(line)
		if err != nil {
			t.Fatalf("ParseLine(%q) = %v after re-encoding %q", line, err, b)
		}
		if got := encode(t, again); !bytes.Equal(got, line) {
			t.Fatalf("round trip of %q: got %q; want %q", b, got, line)
		}
	})
}

// FuzzVerify checks that Verify never panics or fails on any input, and that a log it passes
// reads back record for record.
func FuzzVerify(f *testing.F) {
	f.Add([]byte("x\n\n{}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := Verify(bytes.NewReader(b), nil)
		if err != nil {
			t.Fatalf("Verify(%q) = %v", b, err)
		}
		if !res.OK {
			return
		}
		n := 0
		if err := Read(bytes.NewReader(b), Filter{}, func(Record) error { n++; return nil }); err != nil || n != res.Records {
			t.Fatalf("Read(%q) = %d records, %v; Verify passed it with %d", b, n, err, res.Records)
		}
	})
}

// FuzzParseHead checks that parseHead never panics and that what it accepts writes back as a
// head file that parses the same.
func FuzzParseHead(f *testing.F) {
	f.Add([]byte(`{"seq":1,"hash":""}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHead(b)
		if err != nil {
			return
		}
		again, err := parseHead(h.appendLine(nil))
		if err != nil || again != h {
			t.Fatalf("round trip of %q: got %+v, %v; want %+v", b, again, err, h)
		}
	})
}

// FuzzParseRotated checks that parseRotated never panics, that what it accepts is exactly the
// name rotatedPath gives its number, and that nothing else is taken for a rotated file. Seeds
// are in testdata/fuzz/FuzzParseRotated.
func FuzzParseRotated(f *testing.F) {
	f.Add("activity.log.1")
	f.Fuzz(func(t *testing.T, name string) {
		n, ok := parseRotated("activity.log", name)
		if !ok {
			return
		}
		if n < 1 || rotatedPath("activity.log", n) != name {
			t.Fatalf("parseRotated(%q) = %d; rotatedPath gives %q", name, n, rotatedPath("activity.log", n))
		}
	})
}
