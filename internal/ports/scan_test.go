package ports

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
)

// TestScanFakeProc scans testdata/proc, a little-endian machine's /proc cut down to what Scan reads.
func TestScanFakeProc(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("testdata/proc/net holds a little-endian machine's addresses")
	}
	reg, err := LoadRegistry()
	if err != nil {
		t.Fatalf("LoadRegistry() = %v", err)
	}
	root := lookupName(t, 0)
	srv := func(name, desc string) []Service {
		return []Service{{"tcp", name, desc}, {"udp", name, desc}}
	}
	ports := []int{1417, 1418, 1419, 1420, 407, 22, 1023, 49152}
	want := func(note string) []Report {
		return []Report{
			{Port: 1417, Status: StatusGhost, Ghost: true, Services: srv("timbuktu-srv1", "Timbuktu Service 1 Port"), Listeners: []Listener{}},
			{Port: 1418, Status: StatusGhost, Ghost: true, Services: srv("timbuktu-srv2", "Timbuktu Service 2 Port"), Listeners: []Listener{}},
			{Port: 1419, Status: StatusListening, Services: srv("timbuktu-srv3", "Timbuktu Service 3 Port"), Listeners: []Listener{
				{Proto: "tcp", Addr: "0.0.0.0", PID: 100, Process: "sshd", UID: 0, User: root},
				{Proto: "tcp6", Addr: "::", PID: 100, Process: "sshd", UID: 0, User: root},
			}},
			{Port: 1420, Status: StatusListening, Services: srv("timbuktu-srv4", "Timbuktu Service 4 Port"), Listeners: []Listener{
				{Proto: "tcp", Addr: "127.0.0.1", PID: 200, Process: "buktu", UID: 4000001, User: "4000001"},
				{Proto: "tcp", Addr: "127.0.0.1", PID: 201, Process: "buktu-worker", UID: 4000001, User: "4000001"},
				{Proto: "udp6", Addr: "::1", PID: 300, Process: "avahi-daemon", UID: 0, User: root},
				{Proto: "udp6", Addr: "fe80::1", UID: 4000002, User: "4000002", Note: note},
			}},
			{Port: 407, Status: StatusListening, Services: srv("timbuktu", "Timbuktu"), Listeners: []Listener{
				{Proto: "udp", Addr: "0.0.0.0", PID: 200, Process: "buktu", UID: 4000001, User: "4000001"},
			}},
			{Port: 22, Status: StatusListening, Services: srv("ssh", "The Secure Shell (SSH) Protocol"), Listeners: []Listener{
				{Proto: "tcp", Addr: "192.168.1.10", UID: 4000002, User: "4000002", Note: note},
			}},
			{Port: 1023, Status: StatusFree, Services: srv("", "Reserved"), Listeners: []Listener{}},
			{Port: 49152, Status: StatusFree, Services: []Service{}, Listeners: []Listener{}},
		}
	}
	tests := []struct {
		name string
		euid int
		want []Report
	}{
		{"as root", 0, want(NoteNoProcess)},
		{"as another user", 4000001, want(NoteOtherUser)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Scanner{Proc: filepath.Join("testdata", "proc"), Registry: reg}
			got, err := s.scan(ports, tt.euid)
			if err != nil {
				t.Fatalf("scan(%v, %d) = %v", ports, tt.euid, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("scan(%v, %d) =\n%+v\nwant\n%+v", ports, tt.euid, got, tt.want)
			}
		})
	}
}

func TestScanErrors(t *testing.T) {
	tests := []struct {
		name  string
		proc  string
		ports []int
	}{
		{"port zero", "testdata/proc", []int{0}},
		{"port too big", "testdata/proc", []int{65536}},
		{"unreadable socket table", "testdata/proc/net/tcp", []int{22}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := (Scanner{Proc: tt.proc}).Scan(tt.ports); err == nil {
				t.Errorf("Scanner{Proc: %q}.Scan(%v) = %v, nil; want an error", tt.proc, tt.ports, got)
			}
		})
	}
}

func TestScanBadSocketTable(t *testing.T) {
	proc := t.TempDir()
	if err := os.Mkdir(filepath.Join(proc, "net"), 0o755); err != nil {
		t.Fatal(err)
	}
	table := "  sl  local_address rem_address   st\n   0: garbage\n"
	if err := os.WriteFile(filepath.Join(proc, "net", "udp"), []byte(table), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := (Scanner{Proc: proc}).Scan([]int{22}); err == nil {
		t.Errorf("Scan over a garbled net/udp = %v, nil; want an error", got)
	}
}

func TestScanEmptyProc(t *testing.T) {
	got, err := Scanner{Proc: t.TempDir()}.Scan([]int{407})
	if err != nil {
		t.Fatalf("Scan over an empty proc = %v", err)
	}
	if len(got) != 1 || got[0].Status != StatusGhost || len(got[0].Listeners) != 0 {
		t.Errorf("Scan over an empty proc = %+v; want 407 as a ghost", got)
	}
}

func TestNoteFor(t *testing.T) {
	tests := []struct {
		name      string
		uid, euid int
		denied    bool
		want      string
	}{
		{"user sees another user's socket", 0, 1000, true, NoteOtherUser},
		{"user, hidepid hides the other user", 0, 1000, false, NoteOtherUser},
		{"root without ptrace, other user", 1000, 0, true, NoteOtherUser},
		{"root, nobody holds it", 1000, 0, false, NoteNoProcess},
		{"own socket, nobody holds it", 1000, 1000, false, NoteNoProcess},
		{"own socket, denied", 1000, 1000, true, NoteNotVisible},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := noteFor(tt.uid, tt.euid, tt.denied); got != tt.want {
				t.Errorf("noteFor(%d, %d, %v) = %q; want %q", tt.uid, tt.euid, tt.denied, got, tt.want)
			}
		})
	}
}

func TestStatusUID(t *testing.T) {
	tests := []struct {
		name, in string
		want     int
	}{
		{"effective", "Name:\tx\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n", 0},
		{"no uid line", "Name:\tx\n", -1},
		{"short", "Uid:\t1000\n", -1},
		{"garbage", "Uid:\t1000\tx\t0\t0\n", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := statusUID(tt.in); got != tt.want {
				t.Errorf("statusUID(%q) = %d; want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestSocketInode(t *testing.T) {
	tests := []struct {
		in     string
		want   uint64
		wantOK bool
	}{
		{"socket:[12345]", 12345, true},
		{"socket:[]", 0, false},
		{"socket:[12", 0, false},
		{"pipe:[12]", 0, false},
		{"/dev/null", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := socketInode(tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("socketInode(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// TestScanFindsOwnSockets scans the real /proc for sockets this test opens.
func TestScanFindsOwnSockets(t *testing.T) {
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skipf("no /proc/net/tcp here: %v", err)
	}
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen tcp: %v", err)
	}
	t.Cleanup(func() { tcp.Close() })
	udp, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	t.Cleanup(func() { udp.Close() })

	tcpPort := int(netip.MustParseAddrPort(tcp.Addr().String()).Port())
	udpPort := int(netip.MustParseAddrPort(udp.LocalAddr().String()).Port())
	reports, err := Scanner{}.Scan([]int{tcpPort, udpPort})
	if err != nil {
		t.Fatalf("Scan(%d, %d) = %v", tcpPort, udpPort, err)
	}
	me, err := user.Current()
	if err != nil {
		t.Fatalf("current user: %v", err)
	}
	uid, _ := strconv.Atoi(me.Uid)
	name := filepath.Base(os.Args[0])
	if len(name) > 15 { // the kernel keeps 15 bytes of a process name
		name = name[:15]
	}
	tests := []struct {
		name   string
		report Report
		want   Listener
	}{
		{"tcp", reports[0], Listener{Proto: "tcp", Addr: "127.0.0.1", PID: os.Getpid(), Process: name, UID: uid, User: me.Username}},
		{"udp6", reports[1], Listener{Proto: "udp6", Addr: "::1", PID: os.Getpid(), Process: name, UID: uid, User: me.Username}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.report.Status != StatusListening {
				t.Errorf("port %d status = %q; want %q", tt.report.Port, tt.report.Status, StatusListening)
			}
			found := false
			for _, l := range tt.report.Listeners {
				found = found || l == tt.want
			}
			if !found {
				t.Errorf("port %d listeners = %+v; want one to be %+v", tt.report.Port, tt.report.Listeners, tt.want)
			}
		})
	}
}

func lookupName(t *testing.T, uid int) string {
	t.Helper()
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username
	}
	return strconv.Itoa(uid)
}
