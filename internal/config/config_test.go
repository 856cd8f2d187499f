package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefaultFileMatchesDefaults(t *testing.T) {
	var got Config
	if err := got.parse(Default); err != nil {
		t.Fatalf("parse(Default) = %v", err)
	}
	if want := Defaults(); !reflect.DeepEqual(got, want) {
		t.Errorf("parse(Default) = %+v; want Defaults() = %+v", got, want)
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name, text string
		check      func(Config) bool
		wantErr    string
	}{
		{"missing file", "", func(c Config) bool { return reflect.DeepEqual(c, Defaults()) }, ""},
		{"send port", "[listen]\nsend = \"127.0.0.1:0\"\n", func(c Config) bool { return c.Listen.Addr(Send) == "127.0.0.1:0" }, ""},
		{"duration", "[limits]\nshutdown_grace = \"2s\"\n", func(c Config) bool { return c.Limits.ShutdownGrace.Std() == 2*time.Second }, ""},
		{"unknown key", "[listen]\nsned = \":1\"\n", nil, "unknown key listen.sned"},
		{"bad duration", "[limits]\nshutdown_grace = \"soon\"\n", nil, "parse duration"},
		{"bad address", "[listen]\nsend = \"1419\"\n", nil, "not host:port"},
		{"bad format", "[log]\nformat = \"xml\"\n", nil, "log.format"},
		{"bad port", "[listen]\nbase_port = 70000\n", nil, "out of range"},
		{"activity rotation", "[log]\nactivity_max_size = 4096\nactivity_keep = 2\n", func(c Config) bool {
			return c.Log.ActivityMaxSize == 4096 && c.Log.ActivityKeep == 2
		}, ""},
		{"activity never rotated", "[log]\nactivity_max_size = 0\n", func(c Config) bool { return c.Log.ActivityMaxSize == 0 }, ""},
		{"activity size too small", "[log]\nactivity_max_size = 100\n", nil, "activity_max_size"},
		{"activity keep none", "[log]\nactivity_keep = 0\n", nil, "activity_keep"},
		{"refusals each written", "[log]\nactivity_refusal_interval = \"0s\"\n", func(c Config) bool { return c.Log.ActivityRefusalInterval == 0 }, ""},
		{"refusal interval too short", "[log]\nactivity_refusal_interval = \"10ms\"\n", nil, "activity_refusal_interval"},
		{"refusal interval too long", "[log]\nactivity_refusal_interval = \"2h\"\n", nil, "activity_refusal_interval"},
		{"partial ttl", "[limits]\npartial_ttl = \"2s\"\n", func(c Config) bool { return c.Limits.PartialTTL.Std() == 2*time.Second }, ""},
		{"partials kept", "[limits]\npartial_ttl = \"0s\"\n", func(c Config) bool { return c.Limits.PartialTTL == 0 }, ""},
		{"partial ttl too short", "[limits]\npartial_ttl = \"10ms\"\n", nil, "limits.partial_ttl"},
		{"not toml", "[listen\n", nil, "config"},
		{"unauthenticated", "[limits]\nmax_unauthenticated = 300\nmax_unauthenticated_per_address = 16\n", func(c Config) bool {
			return c.Limits.MaxUnauthenticated == 300 && c.Limits.MaxUnauthenticatedPerAddress == 16
		}, ""},
		{"no unauthenticated", "[limits]\nmax_unauthenticated = 0\n", nil, "max_unauthenticated"},
		{"unauthenticated per address above all", "[limits]\nmax_unauthenticated = 4\nmax_unauthenticated_per_address = 8\n", nil, "no more than the first"},
		{"handshake timeout too short", "[limits]\nhandshake_timeout = \"100ms\"\n", nil, "limits.handshake_timeout"},
		{"handshake timeout too long", "[limits]\nhandshake_timeout = \"1h\"\n", nil, "limits.handshake_timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), FileName)
			if tt.text != "" {
				if err := os.WriteFile(path, []byte(tt.text), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := Load(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load(%q) error = %v; want one containing %q", tt.text, err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(got) {
				t.Errorf("Load(%q) = %+v, %v", tt.text, got, err)
			}
		})
	}
}

func TestAddr(t *testing.T) {
	tests := []struct {
		name string
		l    Listen
		s    Service
		want string
	}{
		{"base control", Listen{BasePort: 1417}, Control, ":1417"},
		{"base exchange", Listen{BasePort: 1417}, Exchange, ":1420"},
		{"address", Listen{Address: "127.0.0.1", BasePort: 2417}, Send, "127.0.0.1:2419"},
		{"override", Listen{BasePort: 1417, Send: "[::1]:9"}, Send, "[::1]:9"},
		{"off", Listen{BasePort: 1417, Send: "off"}, Send, ""},
		{"system picks", Listen{Address: "127.0.0.1"}, Exchange, "127.0.0.1:0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.l.Addr(tt.s); got != tt.want {
				t.Errorf("%+v.Addr(%s) = %q; want %q", tt.l, tt.s, got, tt.want)
			}
		})
	}
}

func FuzzLoad(f *testing.F) {
	f.Add(Default)
	f.Add("[listen]\nsend = \"127.0.0.1:0\"\n")
	f.Fuzz(func(t *testing.T, text string) {
		var c Config
		_ = c.parse(text) // rejecting is fine; panicking is not
	})
}
