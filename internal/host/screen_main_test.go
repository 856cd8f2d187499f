package host_test

import (
	"os"
	"testing"

	"github.com/buktu/buktu/internal/screen/x11"
	"github.com/buktu/buktu/internal/testenv"
)

// TestMain removes the buktu binary the tests built, and quiets xgb, which otherwise prints to stderr for each X connection the screen
// tests make with a cookie of their own; it keeps its logger in a package variable, so this
// is done once, before any test runs.
func TestMain(m *testing.M) {
	x11.RedirectLibraryLog(nil)
	code := m.Run()
	testenv.RemoveBinary()
	os.Exit(code)
}
