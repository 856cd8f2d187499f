// Package config owns the host's configuration file: its keys, their defaults, the documented
// default file, and loading it. It knows nothing of the services that read the values; the host
// package turns a Config into running services.
package config

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// FileName is the name of the config file inside the data directory.
const FileName = "buktu.toml"

// Default is the documented default configuration file, written into a new data directory.
//
//go:embed default.toml
var Default string

// Config is the host's whole configuration. The zero value is not useful; use Load or Defaults.
type Config struct {
	Listen  Listen  `toml:"listen"`
	Folders Folders `toml:"folders"`
	Limits  Limits  `toml:"limits"`
	Screen  Screen  `toml:"screen"`
	Console Console `toml:"console"`
	Log     Log     `toml:"log"`
	Hooks   Hooks   `toml:"hooks"`
}

// Screen says which screen the Control and Observe ports share and how.
type Screen struct {
	Display     string   `toml:"display"`
	Geometry    string   `toml:"geometry"`
	Session     []string `toml:"session"`
	Name        string   `toml:"name"`
	VNCPassword string   `toml:"vnc_password"`
	MaxCutText  int      `toml:"max_cut_text"`
	MaxViewers  int      `toml:"max_viewers_per_address"`
}

// Console configures the HTTPS console on the screen ports and the person-to-person services.
type Console struct {
	Enabled     bool     `toml:"enabled"`
	SessionTTL  Duration `toml:"session_ttl"`
	IdleTTL     Duration `toml:"idle_ttl"`
	AskTimeout  Duration `toml:"ask_timeout"`
	SniffWindow Duration `toml:"sniff_window"`
	Notify      string   `toml:"notify"`
}

// Listen says where each service listens.
type Listen struct {
	Address  string `toml:"address"`
	BasePort int    `toml:"base_port"`
	Control  string `toml:"control"`
	Observe  string `toml:"observe"`
	Send     string `toml:"send"`
	Exchange string `toml:"exchange"`
}

// Folders names the folders the file services serve.
type Folders struct {
	Inbox    string `toml:"inbox"`
	Exchange string `toml:"exchange"`
}

// Limits bounds what one client can make the host do.
type Limits struct {
	MaxFileSize           int64 `toml:"max_file_size"`
	MaxSessions           int   `toml:"max_sessions"`
	MaxSessionsPerAddress int   `toml:"max_sessions_per_address"`
	// MaxUnauthenticated bounds, per port, the connections still logging in, apart from the
	// sessions; MaxUnauthenticatedPerAddress bounds them per address (IPv6: per /64).
	MaxUnauthenticated           int      `toml:"max_unauthenticated"`
	MaxUnauthenticatedPerAddress int      `toml:"max_unauthenticated_per_address"`
	HandshakeTimeout             Duration `toml:"handshake_timeout"`
	IdleTimeout                  Duration `toml:"idle_timeout"`
	ShutdownGrace                Duration `toml:"shutdown_grace"`
	MaxPathLength                int      `toml:"max_path_length"`
	// PartialTTL is how long a partial upload may go unwritten before it is removed; 0 keeps
	// partial uploads until they are resumed.
	PartialTTL Duration `toml:"partial_ttl"`
}

// Log chooses how the host writes its log, and how it keeps the activity log.
type Log struct {
	Format                  string   `toml:"format"`
	Level                   string   `toml:"level"`
	ActivityMaxSize         int64    `toml:"activity_max_size"`         // bytes; 0 never rotates
	ActivityKeep            int      `toml:"activity_keep"`             // rotated files kept
	ActivityRefusalInterval Duration `toml:"activity_refusal_interval"` // 0 writes each refusal
}

// Hooks are commands the host runs when something happens.
type Hooks struct {
	OnReceive string `toml:"on_receive"`
}

// Duration is a time.Duration written in a config file as a string such as "30s" or "5m".
type Duration time.Duration

// UnmarshalText parses a duration such as "30s".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("parse duration %q (use a form like 30s or 5m): %w", b, err)
	}
	if v < 0 {
		return fmt.Errorf("duration %q is negative", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration as a string such as "30s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// Std returns the duration as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// Defaults returns the configuration a new host runs with; it equals the parsed Default file.
func Defaults() Config {
	return Config{
		Listen:  Listen{BasePort: 1417},
		Folders: Folders{Inbox: "inbox", Exchange: "exchange"},
		Limits: Limits{
			MaxSessions:                  64,
			MaxSessionsPerAddress:        8,
			MaxUnauthenticated:           128,
			MaxUnauthenticatedPerAddress: 8,
			HandshakeTimeout:             Duration(30 * time.Second),
			IdleTimeout:                  Duration(15 * time.Minute),
			ShutdownGrace:                Duration(10 * time.Second),
			MaxPathLength:                1024,
			PartialTTL:                   Duration(7 * 24 * time.Hour),
		},
		Screen: Screen{Geometry: "1280x800", Session: []string{"xterm"}, MaxCutText: 1 << 20, MaxViewers: 8},
		Console: Console{Enabled: true, SessionTTL: Duration(12 * time.Hour), IdleTTL: Duration(30 * time.Minute),
			AskTimeout: Duration(time.Minute), SniffWindow: Duration(200 * time.Millisecond), Notify: "auto"},
		Log: Log{Format: "auto", Level: "info", ActivityMaxSize: 64 << 20, ActivityKeep: 8,
			ActivityRefusalInterval: Duration(time.Minute)},
	}
}

// Load reads the config file at path on top of the defaults. A missing file is not an error:
// the defaults apply. Unknown keys are an error, so that a typo never passes silently.
func Load(path string) (Config, error) {
	c := Defaults()
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("read config: %w", err)
	}
	if err := c.parse(string(b)); err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

func (c *Config) parse(text string) error {
	md, err := toml.Decode(text, c)
	if err != nil {
		return err
	}
	if un := md.Undecoded(); len(un) > 0 {
		keys := make([]string, len(un))
		for i, k := range un {
			keys[i] = k.String()
		}
		return fmt.Errorf("unknown key %s (see the default file: buktu config default)", strings.Join(keys, ", "))
	}
	return c.Validate()
}

// minActivitySize is the smallest activity_max_size: a few records per file.
const minActivitySize = 4096

// Validate checks values that TOML's types cannot.
func (c *Config) Validate() error {
	if c.Listen.BasePort < 0 || c.Listen.BasePort > 65532 {
		return fmt.Errorf("listen.base_port %d is out of range (1 to 65532, or 0 for ports the system picks)", c.Listen.BasePort)
	}
	for _, s := range []struct{ key, v string }{
		{"control", c.Listen.Control}, {"observe", c.Listen.Observe},
		{"send", c.Listen.Send}, {"exchange", c.Listen.Exchange},
	} {
		if s.v == "" || s.v == "off" {
			continue
		}
		if _, _, err := net.SplitHostPort(s.v); err != nil {
			return fmt.Errorf("listen.%s %q is not host:port (for example \"127.0.0.1:2419\" or \":2419\")", s.key, s.v)
		}
	}
	if _, _, err := c.Screen.Size(); err != nil {
		return err
	}
	if c.Screen.MaxCutText < 1 || c.Screen.MaxViewers < 1 {
		return errors.New("screen: max_cut_text and max_viewers_per_address must be 1 or more")
	}
	if c.Console.SessionTTL.Std() < time.Minute || c.Console.IdleTTL.Std() < time.Minute ||
		c.Console.AskTimeout.Std() < time.Second || c.Console.SniffWindow.Std() < 10*time.Millisecond ||
		c.Console.SniffWindow.Std() > 5*time.Second {
		return errors.New("console: session_ttl and idle_ttl must be 1m or more, ask_timeout 1s or more, sniff_window between 10ms and 5s")
	}
	if c.Console.Notify != "auto" && c.Console.Notify != "ask" {
		return fmt.Errorf("console.notify %q: use auto or ask", c.Console.Notify)
	}
	switch c.Log.Format {
	case "auto", "text", "json":
	default:
		return fmt.Errorf("log.format %q: use auto, text or json", c.Log.Format)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level %q: use debug, info, warn or error", c.Log.Level)
	}
	if c.Log.ActivityMaxSize != 0 && c.Log.ActivityMaxSize < minActivitySize || c.Log.ActivityKeep < 1 {
		return fmt.Errorf("log: activity_max_size must be 0 (never rotate) or %d or more, activity_keep 1 or more", minActivitySize)
	}
	if i := c.Log.ActivityRefusalInterval.Std(); i != 0 && (i < time.Second || i > time.Hour) {
		return errors.New("log.activity_refusal_interval must be 0s (write each refusal) or between 1s and 1h")
	}
	if c.Limits.MaxFileSize < 0 || c.Limits.MaxSessions < 1 || c.Limits.MaxSessionsPerAddress < 1 || c.Limits.MaxPathLength < 16 {
		return errors.New("limits: max_file_size must be 0 or more, max_sessions and max_sessions_per_address 1 or more, max_path_length 16 or more")
	}
	if c.Limits.MaxUnauthenticated < 1 || c.Limits.MaxUnauthenticatedPerAddress < 1 ||
		c.Limits.MaxUnauthenticatedPerAddress > c.Limits.MaxUnauthenticated {
		return errors.New("limits: max_unauthenticated and max_unauthenticated_per_address must be 1 or more, and the second no more than the first")
	}
	if t := c.Limits.HandshakeTimeout.Std(); t < time.Second || t > 10*time.Minute {
		return fmt.Errorf("limits.handshake_timeout %v: use 1s to 10m", t)
	}
	if ttl := c.Limits.PartialTTL.Std(); ttl != 0 && ttl < time.Second {
		return fmt.Errorf("limits.partial_ttl %q: use 1s or more, or \"0s\" to keep partial uploads", ttl)
	}
	return nil
}

// Service names a service by its Timbuktu name.
type Service string

// The four services, in port order.
const (
	Control  Service = "control"
	Observe  Service = "observe"
	Send     Service = "send"
	Exchange Service = "exchange"
)

// Services lists the four services in port order.
func Services() []Service { return []Service{Control, Observe, Send, Exchange} }

// Addr returns the address service s listens on, or "" when it is turned off.
func (l Listen) Addr(s Service) string {
	var v string
	var offset int
	switch s {
	case Control:
		v, offset = l.Control, 0
	case Observe:
		v, offset = l.Observe, 1
	case Send:
		v, offset = l.Send, 2
	case Exchange:
		v, offset = l.Exchange, 3
	}
	switch v {
	case "off":
		return ""
	case "":
		port := 0
		if l.BasePort != 0 {
			port = l.BasePort + offset
		}
		return net.JoinHostPort(l.Address, strconv.Itoa(port))
	}
	return v
}

// Folder resolves a configured folder: a relative path is relative to dataDir.
func Folder(dataDir, configured string) string {
	if filepath.IsAbs(configured) {
		return configured
	}
	return filepath.Join(dataDir, configured)
}

// Size parses the geometry of a virtual display, such as "1920x1080".
func (s Screen) Size() (w, h int, err error) {
	ws, hs, ok := strings.Cut(s.Geometry, "x")
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if !ok || err1 != nil || err2 != nil || w < 64 || h < 64 || w > 8192 || h > 8192 {
		return 0, 0, fmt.Errorf("screen.geometry %q: use WIDTHxHEIGHT, each 64 to 8192, such as \"1920x1080\"", s.Geometry)
	}
	return w, h, nil
}
