package transfer

import "testing"

func TestParseTarget(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		withPath bool
		want     Target
		wantErr  bool
	}{
		{"host", "alice@example.com", false, Target{"alice", "example.com", 1419, ""}, false},
		{"host port", "alice@example.com:2419", false, Target{"alice", "example.com", 2419, ""}, false},
		{"ipv6", "bob@[::1]:2000", false, Target{"bob", "::1", 2000, ""}, false},
		{"path", "alice@h:docs/a.txt", true, Target{"alice", "h", 1419, "docs/a.txt"}, false},
		{"port and path", "alice@h:1420:docs", true, Target{"alice", "h", 1420, "docs"}, false},
		{"top", "alice@h:", true, Target{"alice", "h", 1419, ""}, false},
		{"digit path", "alice@h:2024", true, Target{"alice", "h", 1419, "2024"}, false},
		{"ipv6 path", "alice@[::1]:1420:/x", true, Target{"alice", "::1", 1420, "/x"}, false},
		{"no path", "alice@h", true, Target{}, true},
		{"bad port", "alice@h:99999", false, Target{}, true},
		{"word port", "alice@h:abc", false, Target{}, true},
		{"empty", "", false, Target{}, true},
		{"empty user", "@h", false, Target{}, true},
		{"unclosed", "a@[::1", false, Target{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTarget(tt.in, 1419, tt.withPath)
			if (err != nil) != tt.wantErr || (err == nil && got != tt.want) {
				t.Errorf("ParseTarget(%q, %v) = %+v, %v; want %+v (error %v)", tt.in, tt.withPath, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"a@h", "a@h:1:p", "a@[::1]:2:/x", "h:", "@", "[", "a@h:9999999:"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, withPath bool) {
		got, err := ParseTarget(s, 1419, withPath)
		if err != nil {
			return
		}
		if got.Host == "" || got.Port < 1 || got.Port > 65535 {
			t.Fatalf("ParseTarget(%q) = %+v: accepted without a host or port", s, got)
		}
	})
}
