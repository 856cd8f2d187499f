package ports

import (
	"net/netip"
	"testing"
)

func TestParseNetLine(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    socket
		wantErr bool
	}{
		{
			"tcp listen on 0.0.0.0:22",
			"   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1145 1 00000000c90d3a55 100 0 0 10 0",
			socket{ap("0.0.0.0:22"), ap("0.0.0.0:0"), 0x0A, 0, 1145}, false,
		},
		{
			"tcp established from 127.0.0.1",
			"   1: 0100007F:9C40 0A01A8C0:01BB 01 00000000:00000000 02:000A7D8E 00000000  1000        0 98765 2 0000000000000000 20 4 30 10 -1",
			socket{ap("127.0.0.1:40000"), ap("192.168.1.10:443"), 0x01, 1000, 98765}, false,
		},
		{
			"udp6 on ::1",
			"  584: 00000000000000000000000001000000:0BAD 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 31337 2 0000000000000000 0",
			socket{ap("[::1]:2989"), ap("[::]:0"), 0x07, 0, 31337}, false,
		},
		{
			"tcp6 v4-mapped",
			"   1: 0000000000000000FFFF00000100007F:0589 0000000000000000FFFF00000100007F:9C41 06 00000000:00000000 00:00000000 00000000     0        0 0 1",
			socket{ap("[::ffff:127.0.0.1]:1417"), ap("[::ffff:127.0.0.1]:40001"), 0x06, 0, 0}, false,
		},
		{
			"link-local",
			"   3: 000080FE00000000FF00FC0001000000:14E9 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000   108        0 4242 2",
			socket{ap("[fe80::fc:ff:0:1]:5353"), ap("[::]:0"), 0x07, 108, 4242}, false,
		},
		{"header", "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode", socket{}, true},
		{"too few fields", "   0: 00000000:0016 00000000:0000 0A", socket{}, true},
		{"short address", "   0: 000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1", socket{}, true},
		{"mixed families", "   0: 00000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1", socket{}, true},
		{"port too wide", "   0: 00000000:10016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1", socket{}, true},
		{"signed hex", "   0: +0000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1", socket{}, true},
		{"state too wide", "   0: 00000000:0016 00000000:0000 10A 00000000:00000000 00:00000000 00000000     0        0 1", socket{}, true},
		{"bad uid", "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000    -1        0 1", socket{}, true},
		{"bad inode", "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 x", socket{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseNetLine(tt.in)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("parseNetLine(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// FuzzParseNetLine checks that parseNetLine never panics and that what it parses, written out
// again the kernel's way, parses back the same.
func FuzzParseNetLine(f *testing.F) {
	f.Add("   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1145 1 00000000c90d3a55 100 0 0 10 0")
	f.Fuzz(func(t *testing.T, line string) {
		s, err := parseNetLine(line)
		if err != nil {
			return
		}
		again := string(s.appendLine(nil))
		got, err := parseNetLine(again)
		if err != nil || got != s {
			t.Fatalf("round trip of %q via %q: got %+v, %v; want %+v", line, again, got, err, s)
		}
	})
}
