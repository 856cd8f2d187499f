package host_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGetResumes continues downloads that an earlier try left as partial files, small ones
// (which otherwise go to unnamed files) and large ones alike, on the get stream and over
// SFTP: what arrived is kept and checked
// with the rest against the host's SHA-256. A partial file that does not match the host's
// start is caught by that check, removed, and the next try starts afresh.
func TestGetResumes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	alice := w.user(t, "alice", everything...)
	c := newClient(t, w)
	small := writeRandom(t, w.exchange("d/small.bin"), 100_003)
	large := writeRandom(t, w.exchange("d/large.bin"), 6<<20+5)
	at := "alice@" + w.h.Exchange + ":d"

	var local string
	part := func(name string) string { return filepath.Join(local, "d", name+".buktu-part") }
	for _, way := range [][]string{nil, {"--sftp"}} {
		local = t.TempDir()
		if err := os.MkdirAll(filepath.Join(local, "d"), 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(part("small.bin"), small[:40_000], 0o644)
		os.WriteFile(part("large.bin"), large[:3<<20], 0o644)
		c.must(t, alice.password, append([]string{"get", at, local}, way...)...)
		sameFile(t, filepath.Join(local, "d", "small.bin"), small)
		sameFile(t, filepath.Join(local, "d", "large.bin"), large)
		absent(t, part("small.bin"))
		absent(t, part("large.bin"))
	}

	local = t.TempDir()
	if err := os.MkdirAll(filepath.Join(local, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	wrong := append([]byte{}, large[:1<<20]...)
	wrong[100] ^= 1
	os.WriteFile(part("large.bin"), wrong, 0o644)
	_, errOut, code := c.run(t, alice.password, "get", at, local)
	if code != 1 || !strings.Contains(errOut, "SHA-256 mismatch") {
		t.Fatalf("a resume from a wrong partial file: exit %d, stderr:\n%s\nwant exit 1 and a SHA-256 mismatch", code, errOut)
	}
	absent(t, filepath.Join(local, "d", "large.bin"))
	absent(t, part("large.bin"))
	sameFile(t, filepath.Join(local, "d", "small.bin"), small)
	c.must(t, alice.password, "get", at, local)
	sameFile(t, filepath.Join(local, "d", "large.bin"), large)
}

// TestPlainSFTP moves files with --sftp, by SFTP requests as any SFTP client would, and with
// buktu's streams, both ways, and gets the same result.
func TestPlainSFTP(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	alice := w.user(t, "alice", everything...)
	c := newClient(t, w)
	at := func(path string) string { return "alice@" + w.h.Exchange + ":" + path }
	p := newPayload(t)
	for _, way := range [][]string{{"--sftp"}, nil} {
		name := "streams"
		if way != nil {
			name = "sftp"
		}
		c.must(t, alice.password, "mkdir", at(name))
		c.must(t, alice.password, append([]string{"put", p.path("one.bin"), p.path("tree"), at(name)}, way...)...)
		p.check(t, w.exchange(name))
		back := t.TempDir()
		c.must(t, alice.password, append([]string{"get", at(name + "/one.bin"), at(name + "/tree"), back}, way...)...)
		p.check(t, back)
		c.must(t, alice.password, append([]string{"send", "alice@" + w.h.Send, p.path("tree")}, way...)...)
	}
	sameFile(t, w.inbox("alice", "tree/sub/two.bin"), p.two)
	sameFile(t, w.inbox("alice", "tree/sub/two (2).bin"), p.two)
}
