package ports

import (
	"cmp"
	"fmt"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
)

// Port states, as Report.Status returns them.
const (
	StatusListening = "listening" // something listens on the port
	StatusGhost     = "ghost"     // IANA registered the port, and nothing listens on it
	StatusFree      = "free"      // not registered, and nothing listens on it
)

// Notes a Listener carries when its process is not known.
const (
	NoteOtherUser  = "owned by another user"
	NoteNotVisible = "process not visible: permission denied"
	NoteNoProcess  = "no visible process holds it: a kernel socket, or another pid namespace"
)

// Report is what one port looks like.
type Report struct {
	Port      int        `json:"port"`
	Status    string     `json:"status"`    // StatusListening, StatusGhost or StatusFree
	Ghost     bool       `json:"ghost"`     // registered with IANA (tcp or udp) but nothing listening
	Services  []Service  `json:"services"`  // IANA entries for tcp and udp, tcp first
	Listeners []Listener `json:"listeners"` // sorted by Proto, Addr, PID
}

// Listener is one listening socket on a port, and one process holding it; a socket several
// processes hold (after fork, or socket activation) gives one Listener per process.
type Listener struct {
	Proto   string `json:"proto"`   // tcp, tcp6, udp or udp6: the /proc/net file it was listed in
	Addr    string `json:"addr"`    // the bound address: 0.0.0.0, ::, 127.0.0.1, ::1…
	PID     int    `json:"pid"`     // 0 when the process is not visible
	Process string `json:"process"` // the process's name (its comm); empty when not visible
	UID     int    `json:"uid"`     // the process's effective uid, else the socket's owner
	User    string `json:"user"`    // UID's user name, or UID in decimal when it has none
	Note    string `json:"note"`    // why PID is 0 (NoteOtherUser…); empty otherwise
}

// Scanner looks up ports. Its zero value reads /proc and decodes the embedded IANA table per Scan.
type Scanner struct {
	Proc     string    // root of the proc filesystem; "" means "/proc"
	Registry *Registry // nil means LoadRegistry on each Scan
}

// DefaultPorts returns the ports `buktu ports` looks at when given none: Timbuktu's four service
// ports 1417–1420, then 407, the original Timbuktu port.
func DefaultPorts() []int {
	return []int{1417, 1418, 1419, 1420, 407}
}

// Scan reports on each port, in the order given. It fails if a port is outside 1–65535 or the
// socket tables cannot be read; processes it may not look at become Notes, not errors.
func (s Scanner) Scan(ports []int) ([]Report, error) {
	return s.scan(ports, os.Geteuid())
}

// scan is Scan as seen by a process with effective uid euid.
func (s Scanner) scan(ports []int, euid int) ([]Report, error) {
	wanted := make(map[int]bool, len(ports))
	for _, p := range ports {
		if p < 1 || p > 65535 {
			return nil, fmt.Errorf("scan ports: port %d is out of range 1-65535", p)
		}
		wanted[p] = true
	}
	reg := s.Registry
	if reg == nil {
		var err error
		if reg, err = LoadRegistry(); err != nil {
			return nil, err
		}
	}
	proc := cmp.Or(s.Proc, "/proc")
	socks, err := readListeners(proc, wanted)
	if err != nil {
		return nil, fmt.Errorf("scan ports: %w", err)
	}
	inodes := make(map[uint64]bool, len(socks))
	for _, sk := range socks {
		inodes[sk.inode] = true
	}
	owners, denied, err := findOwners(proc, inodes)
	if err != nil {
		return nil, fmt.Errorf("scan ports: list processes: %w", err)
	}

	users := userNames{}
	byPort := make(map[int][]Listener)
	for _, sk := range socks {
		port := int(sk.local.Port())
		base := Listener{Proto: sk.proto, Addr: sk.local.Addr().String(), UID: int(sk.uid)}
		held := owners[sk.inode]
		if len(held) == 0 {
			base.User = users.name(base.UID)
			base.Note = noteFor(int(sk.uid), euid, denied)
			byPort[port] = append(byPort[port], base)
			continue
		}
		for _, o := range held {
			l := base
			l.PID, l.Process = o.pid, o.name
			if o.uid >= 0 {
				l.UID = o.uid
			}
			l.User = users.name(l.UID)
			byPort[port] = append(byPort[port], l)
		}
	}

	reports := make([]Report, 0, len(ports))
	for _, p := range ports {
		r := Report{Port: p, Listeners: byPort[p], Services: []Service{}}
		if r.Listeners == nil {
			r.Listeners = []Listener{}
		}
		slices.SortFunc(r.Listeners, compareListeners)
		registered := false
		for _, svc := range reg.Lookup(p) {
			if svc.Proto == "tcp" || svc.Proto == "udp" {
				r.Services = append(r.Services, svc)
				registered = registered || svc.Registered()
			}
		}
		switch {
		case len(r.Listeners) > 0:
			r.Status = StatusListening
		case registered:
			r.Status, r.Ghost = StatusGhost, true
		default:
			r.Status = StatusFree
		}
		reports = append(reports, r)
	}
	return reports, nil
}

// noteFor explains why no process was found for a socket owned by uid, seen by a process with
// effective uid euid that was denied some fd directories (or not).
func noteFor(uid, euid int, denied bool) string {
	switch {
	case uid != euid && (euid != 0 || denied):
		// Without privilege (or, as root, without CAP_SYS_PTRACE in a container) other users'
		// fds are unreadable; with hidepid their processes are not even listed.
		return NoteOtherUser
	case denied:
		return NoteNotVisible
	}
	return NoteNoProcess
}

func compareListeners(a, b Listener) int {
	if c := protoRank(a.Proto) - protoRank(b.Proto); c != 0 {
		return c
	}
	return cmp.Or(
		strings.Compare(a.Proto, b.Proto),
		strings.Compare(a.Addr, b.Addr),
		cmp.Compare(a.PID, b.PID),
	)
}

// userNames resolves uids to user names, remembering answers for one scan.
type userNames map[int]string

func (u userNames) name(uid int) string {
	if n, ok := u[uid]; ok {
		return n
	}
	n := strconv.Itoa(uid)
	if usr, err := user.LookupId(n); err == nil && usr.Username != "" {
		n = usr.Username
	}
	u[uid] = n
	return n
}
