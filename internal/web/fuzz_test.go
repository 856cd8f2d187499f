package web

import (
	"encoding/json"
	"mime"
	"reflect"
	"strconv"
	"testing"
)

// fuzzJSON checks a request parser: no panic, and what parses re-encodes to JSON that
// parses back the same.
func fuzzJSON[T any](f *testing.F, parse func([]byte) (T, error), seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := parse(b)
		if err != nil {
			return // refusing is fine; panicking is not
		}
		again, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", v, err)
		}
		w, err := parse(again)
		if err != nil || !reflect.DeepEqual(v, w) {
			t.Fatalf("round trip of %q: got %+v, %v; want %+v", b, w, err, v)
		}
	})
}

func FuzzLoginRequest(f *testing.F) {
	fuzzJSON(f, parseLogin, `{"account":"ann","password":"pw"}`, `{"account":"\u00e9","password":""}`, `{"account":"a"}{}`)
}

func FuzzChatRequest(f *testing.F) {
	fuzzJSON(f, parseChat, `{"text":"hello"}`, `{"text":"a\nb\tc"}`, `{"text":null}`)
}

func FuzzApprovalRequest(f *testing.F) {
	fuzzJSON(f, parseApproval, `{"approve":true}`, `{"approve":false}`, `{"approve":null}`)
}

func FuzzInviteRequest(f *testing.F) {
	fuzzJSON(f, parseInvite, `{"address":"192.0.2.1:5500","control":true,"password":"pw"}`, `{"address":"[::1]:5500"}`)
}

func FuzzPathRequest(f *testing.F) {
	fuzzJSON(f, parsePath, `{"path":"a/b"}`, `{"path":"../../etc"}`)
}

func FuzzRenameRequest(f *testing.F) {
	fuzzJSON(f, parseRename, `{"from":"a","to":"b"}`, `{"from":"\ud800","to":""}`)
}

// FuzzPartFileName checks the file names of send's parts: what parses, written again as a
// Content-Disposition, parses to the same name.
func FuzzPartFileName(f *testing.F) {
	for _, s := range []string{`form-data; name="file"; filename="a.txt"`, `form-data; name="file"; filename="dir/b c.txt"`,
		`form-data; name="file"; filename*=UTF-8''%C3%A9t%C3%A9.txt`, `form-data; name="file"; filename="a\"b"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cd string) {
		name, err := partFileName(cd)
		if err != nil {
			return
		}
		again := mime.FormatMediaType("form-data", map[string]string{"name": "file", "filename": name})
		if again == "" {
			return // a name mime cannot write (a control character): a browser could not send it either
		}
		got, err := partFileName(again)
		if err != nil || got != name {
			t.Fatalf("round trip of %q through %q: got %q, %v; want %q", cd, again, got, err, name)
		}
	})
}

// FuzzCount checks the numbers of query parameters (after, limit).
func FuzzCount(f *testing.F) {
	for _, s := range []string{"", "0", "7", "18446744073709551615", "-1", "1e3", " 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseCount(s, 200, 10000)
		if err != nil {
			return
		}
		if n > 10000 {
			t.Fatalf("parseCount(%q) = %d; want at most the maximum", s, n)
		}
		if again, err := parseCount(strconv.FormatUint(n, 10), 200, 10000); err != nil || again != n {
			t.Fatalf("round trip of %q: got %d, %v; want %d", s, again, err, n)
		}
	})
}
