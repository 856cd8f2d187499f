package x11

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	RedirectLibraryLog(nil)
	os.Exit(m.Run())
}
