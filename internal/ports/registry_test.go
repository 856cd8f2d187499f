package ports

import (
	"slices"
	"testing"
)

func TestRegistryLookup(t *testing.T) {
	reg, err := LoadRegistry()
	if err != nil {
		t.Fatalf("LoadRegistry() = %v", err)
	}
	tests := []struct {
		name string
		port int
		want []Service
	}{
		{"timbuktu", 407, []Service{{"tcp", "timbuktu", "Timbuktu"}, {"udp", "timbuktu", "Timbuktu"}}},
		{"timbuktu-srv1", 1417, []Service{
			{"tcp", "timbuktu-srv1", "Timbuktu Service 1 Port"},
			{"udp", "timbuktu-srv1", "Timbuktu Service 1 Port"},
		}},
		{"timbuktu-srv4", 1420, []Service{
			{"tcp", "timbuktu-srv4", "Timbuktu Service 4 Port"},
			{"udp", "timbuktu-srv4", "Timbuktu Service 4 Port"},
		}},
		{"rfb", 5900, []Service{{"tcp", "rfb", "Remote Framebuffer"}, {"udp", "rfb", "Remote Framebuffer"}}},
		{"last alias kept", 80, []Service{
			{"tcp", "www-http", "World Wide Web HTTP"},
			{"udp", "www-http", "World Wide Web HTTP"},
			{"sctp", "http", "HTTP"},
		}},
		{"reserved", 1023, []Service{{"tcp", "", "Reserved"}, {"udp", "", "Reserved"}}},
		{"not listed", 49152, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := reg.Lookup(tt.port)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Lookup(%d) = %q; want %q", tt.port, got, tt.want)
			}
		})
	}
}

func TestRegistryLookupReturnsCopy(t *testing.T) {
	reg, err := LoadRegistry()
	if err != nil {
		t.Fatalf("LoadRegistry() = %v", err)
	}
	reg.Lookup(22)[0].Name = "changed"
	if got := reg.Lookup(22)[0].Name; got != "ssh" {
		t.Errorf("Lookup(22)[0].Name after changing a returned copy = %q; want ssh", got)
	}
}

func TestDecodeRegistryErrors(t *testing.T) {
	tests := []struct{ name, in string }{
		{"not json", `{`},
		{"no proto", `{"22": ["ssh", "SSH"]}`},
		{"bad port", `{"x/tcp": ["ssh", "SSH"]}`},
		{"port too big", `{"65536/tcp": ["ssh", "SSH"]}`},
		{"wrong value", `{"22/tcp": "ssh"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decodeRegistry([]byte(tt.in)); err == nil {
				t.Errorf("decodeRegistry(%q) = nil error; want an error", tt.in)
			}
		})
	}
}
