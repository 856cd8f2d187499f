package host_test

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/rfb"
	"github.com/buktu/buktu/internal/rfb/wire"
	"github.com/buktu/buktu/internal/screen/xvfb"
	"github.com/buktu/buktu/internal/testenv"
)

// patternW and patternH are the size of the displays that show the test pattern: big
// enough for several Hextile, ZRLE and Tight tiles and rectangles, small enough to be quick.
const patternW, patternH = 400, 300

// scene is a display showing the test pattern and a host sharing it.
type scene struct {
	host   *testenv.Host
	disp   *xvfb.Server
	want   *frame.Frame // the display's true pixels
	marker frame.Rect   // the pattern's marker block
}

// patternHost starts a display showing the test pattern and a host sharing it with extra
// config, and waits until the host shows the pattern.
func patternHost(t *testing.T, extra string) scene {
	t.Helper()
	d := startDisplay(t, patternW, patternH)
	_, marker := dialX(t, d).drawPattern(patternW, patternH)
	want := truth(t, d)
	if n := colours(want); n < 300 {
		t.Fatalf("the test pattern shows %d colours; drawing it failed", n)
	}
	h := startScreenHostOn(t, d, extra)
	v := dialViewer(t, h, h.Observe, "admin", h.AdminPassword, rfb.ClientOptions{Encodings: []wire.Encoding{wire.EncodingRaw}})
	v.waitFrame("the test pattern", func(f *frame.Frame) bool { return equalFrames(f, want) })
	v.Close()
	return scene{host: h, disp: d, want: want, marker: marker}
}

// colours counts the distinct colours of f.
func colours(f *frame.Frame) int {
	seen := map[uint32]bool{}
	for y := range f.H {
		for x := range f.W {
			seen[f.Pixel(x, y)&0xFFFFFF] = true
		}
	}
	return len(seen)
}

// TestScreenPixelExact fetches a whole frame in every encoding and pixel format a viewer
// may ask for, and compares it with the display's true pixels: exact for lossless encodings
// (in the client's precision), close for JPEG.
func TestScreenPixelExact(t *testing.T) {
	t.Parallel()
	sc := patternHost(t, "")
	h, want := sc.host, sc.want
	encodings := []struct {
		name  string
		encs  []wire.Encoding
		lossy bool
	}{
		{"raw", []wire.Encoding{wire.EncodingRaw}, false},
		{"hextile", []wire.Encoding{wire.EncodingHextile}, false},
		{"zrle", []wire.Encoding{wire.EncodingZRLE}, false},
		{"tight", []wire.Encoding{wire.EncodingTight}, false},
		{"tight-jpeg5", []wire.Encoding{wire.EncodingTight, wire.EncodingQualityLevel0 + 5}, true},
	}
	formats := []struct {
		name string
		pf   wire.PixelFormat
	}{
		{"bgrx", wire.BGRX()},
		{"rgbx", wire.RGBX()},
		{"rgb565", wire.RGB565()},
		{"bgr233", wire.BGR233()},
	}
	for _, e := range encodings {
		for _, f := range formats {
			t.Run(e.name+"/"+f.name, func(t *testing.T) {
				v := dialViewer(t, h, h.Observe, "admin", h.AdminPassword, rfb.ClientOptions{Encodings: e.encs, Format: f.pf})
				got := v.full()
				if gw, gh := v.Size(); gw != want.W || gh != want.H {
					t.Fatalf("viewer's screen is %dx%d, want %dx%d", gw, gh, want.W, want.H)
				}
				// Tight sends JPEG only for 16 and 32 bits per pixel.
				if e.lossy && f.pf.BitsPerPixel >= 16 {
					if p := psnr(got, want); p < 25 {
						t.Errorf("PSNR %.1f dB, want at least 25 dB", p)
					}
					return
				}
				if n, first := diffFrames(got, want, 0, 0, reduceTo(f.pf)); n > 0 {
					t.Errorf("%d of %d pixels differ from the display's (in %v); first %s", n, want.W*want.H, f.pf, first)
				}
			})
		}
	}
}

// TestScreenSnapshotCLI runs `buktu snapshot` against the Observe port: the PNG it writes is
// the display's true pixels.
func TestScreenSnapshotCLI(t *testing.T) {
	t.Parallel()
	sc := patternHost(t, "")
	h, want := sc.host, sc.want
	h.AddAccount(t, "watcher", "watcher-pw-1", "observe")
	out := filepath.Join(t.TempDir(), "screen.png")
	stdout, stderr, code := h.Buktu(t, "", testenv.ClientEnv(t, "watcher-pw-1"),
		"snapshot", "watcher@"+h.Observe, "-o", out)
	if code != 0 {
		t.Fatalf("buktu snapshot: exit %d\n%s%s", code, stdout, stderr)
	}
	fh, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatalf("decode the snapshot: %v", err)
	}
	b := img.Bounds()
	if b.Dx() != want.W || b.Dy() != want.H {
		t.Fatalf("snapshot is %dx%d, want %dx%d", b.Dx(), b.Dy(), want.W, want.H)
	}
	got := frame.New(b.Dx(), b.Dy())
	for y := range b.Dy() {
		for x := range b.Dx() {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			got.SetPixel(x, y, r>>8<<16|g>>8<<8|bl>>8)
		}
	}
	if n, first := diffFrames(got, want, 0, 0, nil); n > 0 {
		t.Errorf("%d pixels of the snapshot differ from the display's; first %s", n, first)
	}
}
