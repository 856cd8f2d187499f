package host_test

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/events"
	"github.com/buktu/buktu/internal/testenv"
)

// TestScreenInvite is Timbuktu's Invite: a helper runs `vncviewer -listen`, the person at the
// host runs `buktu invite`, and the running host connects out and shows its screen, pixel for
// pixel, with no account on the helper's side. The invitation is in the activity log.
func TestScreenInvite(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "vncviewer")
	sc := patternHost(t, "")
	vd := startDisplay(t, 640, 480)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // vncviewer -listen takes a port number, not a socket
	_, out := startPeer(t, []string{"DISPLAY=" + vd.Display(), "XAUTHORITY=" + vd.Authority(), "HOME=" + t.TempDir()},
		"vncviewer", "-AutoSelect=0", "-PreferredEncoding=ZRLE", "-FullColor", "-NoJPEG", "-listen", strconv.Itoa(port))

	// The viewer starts listening when it is ready; until then the host's call is refused
	// (a probe of our own would be taken for a server by vncviewer).
	target := "127.0.0.1:" + strconv.Itoa(port)
	var stdout, stderr string
	pollUntil(t, "buktu invite to reach the listening viewer", func() bool {
		var code int
		stdout, stderr, code = sc.host.Buktu(t, "", nil, "invite", target, "--data", sc.host.DataDir)
		return code == 0
	})
	if !strings.Contains(stdout, "invited "+target+" (view only)") {
		t.Fatalf("buktu invite printed %q%s", stdout, stderr)
	}

	xc := dialX(t, vd)
	deadline := time.Now().Add(screenWait)
	for {
		shot := xc.capture()
		if x, y, ok := findColour(shot, 0x123456); ok {
			if n, _ := diffFrames(shot, sc.want, x-sc.marker.X, y-sc.marker.Y, nil); n == 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the invited viewer never showed the host's screen\nvncviewer:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond) // polling another process's window
	}

	recs := sc.host.Records(t)
	if !hasRecord(recs, func(r events.Record) bool { return r.Kind == "invite" && r.Remote == target }) ||
		!hasRecord(recs, func(r events.Record) bool {
			return r.Kind == events.KindSessionStart && r.Account == "invited" && r.Privilege == "observe"
		}) {
		t.Errorf("the activity log lacks the invitation or its view-only session")
	}

	// Nobody listening: a clear error, not a hang.
	_, stderr, code := sc.host.Buktu(t, "", nil, "invite", "127.0.0.1:1", "--data", sc.host.DataDir)
	if code == 0 || !strings.Contains(stderr, "is it listening") {
		t.Errorf("buktu invite to a closed port: exit %d, %s", code, stderr)
	}
}
