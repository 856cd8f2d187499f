package ports

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// goldenReports covers every shape WriteText and WriteJSON render: a ghost, listeners with and
// without a visible process, a reserved port, an unregistered listener, protocols whose IANA
// entries differ, and a process name that tries to drive the terminal.
func goldenReports() []Report {
	srv := func(name, desc string) []Service {
		return []Service{{"tcp", name, desc}, {"udp", name, desc}}
	}
	return []Report{
		{Port: 1417, Status: StatusGhost, Ghost: true, Services: srv("timbuktu-srv1", "Timbuktu Service 1 Port")},
		{Port: 1419, Status: StatusListening, Services: srv("timbuktu-srv3", "Timbuktu Service 3 Port"), Listeners: []Listener{
			{Proto: "tcp", Addr: "0.0.0.0", PID: 812, Process: "buktu", UID: 0, User: "root"},
			{Proto: "tcp6", Addr: "::", PID: 812, Process: "buktu", UID: 0, User: "root"},
		}},
		{Port: 22, Status: StatusListening, Services: srv("ssh", "The Secure Shell (SSH) Protocol"), Listeners: []Listener{
			{Proto: "tcp", Addr: "192.168.1.10", UID: 105, User: "sshd", Note: NoteOtherUser},
			{Proto: "udp6", Addr: "fe80::1", PID: 4242, Process: "evil\x1b[2Jname", UID: 1000, User: "ann"},
		}},
		{Port: 143, Status: StatusGhost, Ghost: true, Services: []Service{
			{"tcp", "imap", "Internet Message Access Protocol"},
			{"udp", "imap", "Reserved"},
		}},
		{Port: 514, Status: StatusGhost, Ghost: true, Services: []Service{
			{"tcp", "shell", "cmd"},
			{"udp", "syslog", ""},
		}},
		{Port: 1023, Status: StatusFree, Services: srv("", "Reserved")},
		{Port: 49152, Status: StatusFree},
		{Port: 50000, Status: StatusListening, Listeners: []Listener{
			{Proto: "udp", Addr: "127.0.0.1", PID: 77, Process: "dnsmasq", UID: 65534, User: "nobody"},
		}},
	}
}

func TestWriteTextGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, goldenReports()); err != nil {
		t.Fatalf("WriteText() = %v", err)
	}
	checkGolden(t, "text.golden", b.Bytes())
}

func TestWriteJSONGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, goldenReports()); err != nil {
		t.Fatalf("WriteJSON() = %v", err)
	}
	checkGolden(t, "json.golden", b.Bytes())

	var back struct{ Ports []Report }
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatalf("decode WriteJSON output: %v", err)
	}
	want := goldenReports()
	for i := range want {
		if want[i].Services == nil {
			want[i].Services = []Service{}
		}
		if want[i].Listeners == nil {
			want[i].Listeners = []Listener{}
		}
	}
	if !reflect.DeepEqual(back.Ports, want) {
		t.Errorf("WriteJSON output decodes to\n%+v\nwant\n%+v", back.Ports, want)
	}
}

func TestWriteTextEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, nil); err != nil || b.Len() != 0 {
		t.Errorf("WriteText(nil) wrote %q, %v; want nothing", b.String(), err)
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("update golden file: %v", err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (go test -update writes it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it; review the diff):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
