package bench

import (
	"os"
	"testing"

	"github.com/buktu/buktu/internal/testenv"
)

// TestMain removes the buktu binary the benchmarks built, so no run leaves one behind.
func TestMain(m *testing.M) {
	code := m.Run()
	testenv.RemoveBinary()
	os.Exit(code)
}
