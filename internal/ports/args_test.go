package ports

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParsePortArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    []int
		wantErr string // a substring of the error; "" means no error
	}{
		{"none gives defaults", nil, []int{1417, 1418, 1419, 1420, 407}, ""},
		{"single ports", []string{"22", "443", "5900"}, []int{22, 443, 5900}, ""},
		{"range", []string{"1417-1420"}, []int{1417, 1418, 1419, 1420}, ""},
		{"one-port range", []string{"80-80"}, []int{80}, ""},
		{"commas and spaces", []string{"22, 80-81,443"}, []int{22, 80, 81, 443}, ""},
		{"duplicates dropped, order kept", []string{"443", "22", "20-23"}, []int{443, 22, 20, 21, 23}, ""},
		{"extremes", []string{"1", "65535"}, []int{1, 65535}, ""},
		{"leading zeros", []string{"0022"}, []int{22}, ""},
		{"largest range", []string{"1-1024"}, seq(1, 1024), ""},
		{"zero", []string{"0"}, nil, "out of range"},
		{"too big", []string{"65536"}, nil, "out of range"},
		{"huge", []string{"99999999999999999999999"}, nil, "out of range"},
		{"garbage", []string{"ssh"}, nil, "not a port number"},
		{"sign", []string{"+22"}, nil, "not a port number"},
		{"negative", []string{"-22"}, nil, "missing port number"},
		{"empty", []string{""}, nil, "empty port"},
		{"trailing comma", []string{"22,"}, nil, "empty port"},
		{"open range", []string{"1417-"}, nil, "missing port number"},
		{"double range", []string{"1-2-3"}, nil, "not a port number"},
		{"reversed", []string{"1420-1417"}, nil, "reversed"},
		{"range too wide", []string{"1-1025"}, nil, "covers 1025 ports"},
		{"range end out of range", []string{"65000-70000"}, nil, "out of range"},
		{"range start zero", []string{"0-10"}, nil, "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePortArgs(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ParsePortArgs(%q) = %v, %v; want an error containing %q", tt.args, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("ParsePortArgs(%q) = %v, %v; want %v", tt.args, got, err, tt.want)
			}
		})
	}
}

func seq(low, high int) []int {
	var s []int
	for p := low; p <= high; p++ {
		s = append(s, p)
	}
	return s
}

// FuzzParsePortArgs splits its input into arguments at blanks. The property: no panic; what
// parses is unique ports in range, and those ports written out one per argument parse back the same.
func FuzzParsePortArgs(f *testing.F) {
	f.Add("1417-1420 407")
	f.Add("22,443 5900")
	f.Fuzz(func(t *testing.T, in string) {
		args := strings.Fields(in)
		ports, err := ParsePortArgs(args)
		if err != nil {
			return
		}
		seen := make(map[int]bool)
		for _, p := range ports {
			if p < 1 || p > 65535 || seen[p] {
				t.Fatalf("ParsePortArgs(%q) = %v: port %d out of range or repeated", args, ports, p)
			}
			seen[p] = true
		}
		again := make([]string, len(ports))
		for i, p := range ports {
			again[i] = strconv.Itoa(p)
		}
		got, err := ParsePortArgs(again)
		if err != nil || !slices.Equal(got, ports) {
			t.Fatalf("round trip of %q: ParsePortArgs(%q) = %v, %v; want %v", args, again, got, err, ports)
		}
	})
}
