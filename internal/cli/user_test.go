package cli

import (
	"bytes"
	"strings"
	"testing"
)

// TestUserHelp checks that `buktu user --help` tells what ask does now, and what removing an
// account does to its sessions.
func TestUserHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Run(t.Context(), []string{"user", "--help"}, strings.NewReader(""), &out, &errOut); code != ExitOK {
		t.Fatalf("buktu user --help: exit %d\n%s", code, errOut.String())
	}
	help := out.String()
	for _, want := range []string{"the person at the host approves each session", "ends its running sessions"} {
		if !strings.Contains(help, want) {
			t.Errorf("buktu user --help does not say %q:\n%s", want, help)
		}
	}
	if strings.Contains(help, "works as deny") {
		t.Errorf("buktu user --help still says ask works as deny:\n%s", help)
	}
}
