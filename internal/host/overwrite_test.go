package host_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/buktu/buktu/internal/testenv"
)

// TestReputOntoCompleteFile resumes, with OpenSSH's reput, onto a file that is complete on
// the host, as someone does who appended to a file already sent. reput asks for the remote
// size and appends from there. The host may refuse that or append for real; it must never
// place a file that starts with zeros the client never sent, nor change the file that was
// there unless the account may replace it (then only with what was sent).
func TestReputOntoCompleteFile(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	alice := w.user(t, "alice", everything...)
	local := t.TempDir()
	small := writeRandom(t, filepath.Join(local, "small.bin"), 1000)
	big := append(bytes.Clone(small), writeRandom(t, filepath.Join(local, "tail.bin"), 500)...)
	if err := os.WriteFile(filepath.Join(local, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	batch := "put " + local + "/small.bin m.bin\n-reput " + local + "/big.bin m.bin\n"

	t.Run("send", func(t *testing.T) {
		out, code := testenv.SFTP(t, w.h.Send, alice.key(), batch)
		mustRun(t, "sftp put and reput into the inbox", out, code)
		sameFile(t, w.inbox("alice", "m.bin"), small)
		entries, _ := os.ReadDir(w.inbox("alice", ""))
		for _, e := range entries {
			if e.Name() != "m.bin" && strings.HasPrefix(e.Name(), "m ") {
				// A new file for the reput is fine if it holds what the client meant.
				sameFile(t, w.inbox("alice", e.Name()), big)
			}
		}
	})
	t.Run("exchange", func(t *testing.T) {
		out, code := testenv.SFTP(t, w.h.Exchange, alice.key(), batch)
		mustRun(t, "sftp put and reput on the exchange", out, code)
		got, err := os.ReadFile(w.exchange("m.bin"))
		if err != nil || !(bytes.Equal(got, small) || bytes.Equal(got, big)) {
			t.Errorf("after reput, m.bin holds %d bytes, %d of them leading zeros; want the 1000 bytes put or the 1500 of the reput (%v)",
				len(got), len(got)-len(bytes.TrimLeft(got, "\x00")), err)
		}
	})
}
