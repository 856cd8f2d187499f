package host_test

import (
	"context"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/buktu/buktu/internal/events"
	"github.com/buktu/buktu/internal/rfb"
)

// TestRemovedAccountSessionsCut removes an account while it has a VNC viewer on the Observe
// port and SFTP sessions on the send and exchange ports: each is cut within a few seconds,
// and the activity log says why.
func TestRemovedAccountSessionsCut(t *testing.T) {
	t.Parallel()
	h := startScreenHostOn(t, startDisplay(t, 320, 240), "")
	const pw = "leavers-password-1"
	h.AddAccount(t, "leaver", pw, "observe", "send", "exchange:read")

	ctx, cancel := context.WithTimeout(t.Context(), screenWait)
	defer cancel()
	viewer, err := rfb.Dial(ctx, h.Observe, rfb.ClientOptions{User: "leaver", Password: pw, TLS: h.ScreenTLS(t), Timeout: screenWait})
	if err != nil {
		t.Fatal(err)
	}
	defer viewer.Close()
	viewerEnded := make(chan error, 1)
	go func() {
		for {
			if err := viewer.Request(true); err != nil {
				viewerEnded <- err
				return
			}
			if err := viewer.ReadUpdate(nil); err != nil {
				viewerEnded <- err
				return
			}
		}
	}()
	var sessions []*sftp.Client
	for _, addr := range []string{h.Send, h.Exchange} {
		conn, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{User: "leaver", Auth: []ssh.AuthMethod{ssh.Password(pw)},
			HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: screenWait}) // the host's key is not what this tests
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		c, err := sftp.NewClient(conn)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		sessions = append(sessions, c)
	}
	if _, err := sessions[1].ReadDir("."); err != nil {
		t.Fatalf("the exchange before the removal: %v", err)
	}

	if out, errOut, code := h.Buktu(t, "", nil, "user", "remove", "leaver", "--data", h.DataDir); code != 0 {
		t.Fatalf("buktu user remove: exit %d\n%s%s", code, out, errOut)
	}
	removed := time.Now()
	select {
	case <-viewerEnded:
	case <-time.After(screenWait):
		t.Errorf("the VNC viewer of the removed account still runs %v later", screenWait)
	}
	for i, c := range sessions {
		if !endsWithin(c, screenWait) {
			t.Errorf("SFTP session %d of the removed account still runs %v after the removal", i+1, time.Since(removed))
		} else if _, err := c.Getwd(); err == nil {
			t.Errorf("SFTP session %d of the removed account still answers", i+1)
		}
	}
	cut := 0
	for _, r := range h.Records(t, "--kind", events.KindDecision, "--account", "leaver") {
		if r.Reason == "account removed or disabled: session cut" {
			cut++
		}
	}
	if cut != 3 {
		t.Errorf("%d sessions recorded as cut; want 3", cut)
	}
}

// endsWithin reports whether c's connection ends within d.
func endsWithin(c *sftp.Client, d time.Duration) bool {
	done := make(chan struct{})
	go func() { c.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}
