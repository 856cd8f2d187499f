//go:build turbojpeg && cgo

package encoding

import (
	"sync"
	"testing"

	"github.com/buktu/buktu/internal/frame"
)

func TestNewJPEGIsTurbo(t *testing.T) {
	if j, ok := NewJPEG().(*TurboJPEG); !ok {
		t.Errorf("NewJPEG() = %T; want *TurboJPEG in a turbojpeg build", j)
	}
}

// TestTurboJPEGKeepsFewCompressors checks the free list stays bounded after more
// goroutines than it holds used the encoder at once.
func TestTurboJPEGKeepsFewCompressors(t *testing.T) {
	f := photo(64, 64, 1)
	j := new(TurboJPEG)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			<-start
			if _, err := j.AppendJPEG(nil, f, frame.Rect{W: 64, H: 64}, 80); err != nil {
				t.Errorf("AppendJPEG: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if n := len(j.free); n < 1 || n > cap(j.free) {
		t.Errorf("%d idle compressors after use; want 1 to %d", n, cap(j.free))
	}
}
