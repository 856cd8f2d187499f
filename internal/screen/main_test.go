package screen

import (
	"os"
	"testing"

	"github.com/buktu/buktu/internal/screen/x11"
)

func TestMain(m *testing.M) {
	x11.RedirectLibraryLog(nil)
	os.Exit(m.Run())
}
