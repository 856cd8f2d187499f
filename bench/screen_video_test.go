package bench

import (
	"bytes"
	"compress/flate"
	"image"
	"image/jpeg"
	"math"
	"testing"

	"github.com/buktu/buktu/internal/frame"
)

// scrVideoFrames draws the n frames of the video workload in order and hands each to put,
// which may keep it. The frames show a made-up outdoor scene as a camera would film it:
// sky and ground gradients under a hilly horizon (a hard edge), large soft shapes (the sun's
// glow, out-of-focus blobs) that sway a little each frame, grass-like texture on the ground, a
// post and a ball with hard edges, all under a slow pan and a slight change of exposure. The
// motion is periodic in n, so the frames loop without a jump, and no pixel stays the same
// from one frame to the next (the last to the first included): like real footage, every
// frame is new everywhere, yet zlib and JPEG find the smooth areas they find in real video.
func scrVideoFrames(w, h, n int, put func(*frame.Frame)) {
	sc := scrNewScene(w, h)
	var first, prev *frame.Frame
	for k := range n {
		f := sc.draw(2 * math.Pi * float64(k) / float64(n))
		refs := []*frame.Frame{prev}
		if k == n-1 {
			refs = append(refs, first)
		}
		scrMakeDiffer(f, refs)
		put(f)
		if k == 0 {
			first = f
		}
		prev = f
	}
}

// scrMakeDiffer nudges the blue of every pixel of f that equals the same pixel of any of
// refs (nil ones are skipped), so that none does: a pan leaves pixels of a smooth area alike
// now and then, and the workload promises a full-screen change every frame.
func scrMakeDiffer(f *frame.Frame, refs []*frame.Frame) {
	for y := range f.H {
		row := f.Row(0, y, f.W)
		for x := 0; x < len(row); x += 4 {
			same := func(b byte) bool {
				for _, r := range refs {
					if r == nil {
						continue
					}
					o := r.Row(0, y, r.W)[x : x+3]
					if o[0] == b && o[1] == row[x+1] && o[2] == row[x+2] {
						return true
					}
				}
				return false
			}
			if !same(row[x]) {
				continue
			}
			for _, d := range []int{1, -1, 2, -2} {
				if b := int(row[x]) + d; b >= 0 && b <= 255 && !same(byte(b)) {
					row[x] = byte(b)
					break
				}
			}
		}
	}
}

// scrScene is the video's world; draw films it at one moment.
type scrScene struct {
	w, h         int
	s            float64 // the scene's scale: 1 at 1080 lines
	margin       float64 // world coordinates start this far out, so the pan never leaves them
	fine, coarse scrValueNoise
	soft         []scrBlob
}

// scrBlob is a soft round shape: its colour fades out towards its edge.
type scrBlob struct {
	x, y, rx, ry float64 // centre and radii, in world pixels
	ax, ay       float64 // how far it sways each way
	phase        float64
	col          [3]float64 // red, green, blue
	opacity      float64
}

func scrNewScene(w, h int) *scrScene {
	s := float64(h) / 1080
	sc := &scrScene{w: w, h: h, s: s, margin: 24 * s}
	ww, hh := float64(w)+2*sc.margin, float64(h)+2*sc.margin
	sc.fine = scrNewValueNoise(ww, hh, max(2, 3.5*s), 1)
	sc.coarse = scrNewValueNoise(ww, hh, max(4, 60*s), 2)
	fw, fh := float64(w), float64(h)
	sc.soft = []scrBlob{
		{x: 0.78 * fw, y: 0.16 * fh, rx: 260 * s, ry: 260 * s, ax: 6 * s, ay: 3 * s, col: [3]float64{255, 236, 190}, opacity: 0.85},
		{x: 0.30 * fw, y: 0.28 * fh, rx: 330 * s, ry: 120 * s, ax: 14 * s, ay: 4 * s, phase: 1, col: [3]float64{240, 244, 250}, opacity: 0.6},
		{x: 0.22 * fw, y: 0.74 * fh, rx: 210 * s, ry: 170 * s, ax: 10 * s, ay: 8 * s, phase: 2, col: [3]float64{170, 60, 50}, opacity: 0.7},
		{x: 0.55 * fw, y: 0.82 * fh, rx: 150 * s, ry: 150 * s, ax: 12 * s, ay: 10 * s, phase: 3, col: [3]float64{230, 200, 60}, opacity: 0.55},
		{x: 0.88 * fw, y: 0.70 * fh, rx: 260 * s, ry: 200 * s, ax: 8 * s, ay: 6 * s, phase: 4, col: [3]float64{40, 60, 30}, opacity: 0.75},
	}
	return sc
}

// draw films the scene at phase t of its loop (radians).
func (sc *scrScene) draw(t float64) *frame.Frame {
	f := frame.New(sc.w, sc.h)
	s, fw, fh := sc.s, float64(sc.w), float64(sc.h)
	cx, cy := sc.margin+9*s*math.Sin(t), sc.margin+5*s*math.Cos(t)
	horizon := make([]float64, sc.w)
	for x := range horizon {
		X := float64(x) + cx
		horizon[x] = fh*0.6 + 0.045*fh*math.Sin(2*math.Pi*X/(0.7*fw)) + 0.02*fh*math.Sin(2*math.Pi*X/(0.23*fw)+1)
	}
	for y := range sc.h {
		row := f.Row(0, y, sc.w)
		Y := float64(y) + cy
		for x := range sc.w {
			X := float64(x) + cx
			hz := horizon[x]
			// One pixel of blend on the horizon, as a lens draws an edge.
			switch a := Y - hz + 0.5; {
			case a <= 0:
				scrPut(row[4*x:], sc.sky(X, Y, hz))
			case a >= 1:
				scrPut(row[4*x:], sc.ground(X, Y, hz))
			default:
				sky, ground := sc.sky(X, Y, hz), sc.ground(X, Y, hz)
				scrPut(row[4*x:], [3]float64{sky[0] + (ground[0]-sky[0])*a,
					sky[1] + (ground[1]-sky[1])*a, sky[2] + (ground[2]-sky[2])*a})
			}
		}
	}
	for _, b := range sc.soft {
		sc.blend(f, b, cx+b.ax*math.Sin(t+b.phase), cy+b.ay*math.Cos(t+b.phase))
	}
	sc.hardShapes(f, t, cx, cy)
	// A slight change of exposure, as a camera's automatic one makes.
	e := 1 + 0.03*math.Sin(t+0.5)
	var exposure [256]byte
	for i := range exposure {
		exposure[i] = byte(min(255, float64(i)*e+0.5))
	}
	for i, v := range f.Pix {
		f.Pix[i] = exposure[v]
	}
	return f
}

func (sc *scrScene) sky(X, Y, hz float64) [3]float64 {
	v := min(max(Y/hz, 0), 1)
	cloud := 10*sc.coarse.at(X, Y) + 3*sc.fine.at(X, Y)
	return [3]float64{40 + 120*v + cloud, 90 + 110*v + cloud, 170 + 60*v + cloud}
}

func (sc *scrScene) ground(X, Y, hz float64) [3]float64 {
	d := min(max((Y-hz)/(float64(sc.h)-hz+1), 0), 1)
	grass := 24*sc.fine.at(X, Y) + 22*sc.coarse.at(X+500, Y)
	return [3]float64{70 + 30*d + 0.6*grass, 110 + 30*d + grass, 40 + 10*d + 0.4*grass}
}

// blend paints a soft shape over f, its centre at (b.x, b.y) less the camera's (cx, cy).
func (sc *scrScene) blend(f *frame.Frame, b scrBlob, cx, cy float64) {
	x0, x1 := max(0, int(b.x-cx-b.rx)), min(f.W, int(b.x-cx+b.rx)+1)
	y0, y1 := max(0, int(b.y-cy-b.ry)), min(f.H, int(b.y-cy+b.ry)+1)
	for y := y0; y < y1; y++ {
		dy := (float64(y) + cy - b.y) / b.ry
		row := f.Row(0, y, f.W)
		for x := x0; x < x1; x++ {
			dx := (float64(x) + cx - b.x) / b.rx
			d2 := dx*dx + dy*dy
			if d2 >= 1 {
				continue
			}
			a := (1 - d2) * (1 - d2) * b.opacity
			p := row[4*x:]
			scrPut(p, [3]float64{
				float64(p[2]) + (b.col[0]-float64(p[2]))*a,
				float64(p[1]) + (b.col[1]-float64(p[1]))*a,
				float64(p[0]) + (b.col[2]-float64(p[0]))*a,
			})
		}
	}
}

// hardShapes paints what has sharp edges: a post standing on the ground and a ball flying
// past it.
func (sc *scrScene) hardShapes(f *frame.Frame, t, cx, cy float64) {
	s, fw, fh := sc.s, float64(f.W), float64(f.H)
	post := frame.Rect{X: int(0.66*fw - cx), Y: int(0.32*fh - cy), W: int(26 * s), H: int(0.45 * fh)}.Intersect(f.Bounds())
	for y := post.Y; y < post.Bottom(); y++ {
		row := f.Row(0, y, f.W)
		for x := post.X; x < post.Right(); x++ {
			shade := 60 + 30*float64(x-post.X)/float64(max(post.W, 1)) + 6*sc.fine.at(float64(x)+cx, float64(y)+cy)
			scrPut(row[4*x:], [3]float64{shade + 20, shade, shade - 15})
		}
	}
	r := 46 * s
	bx, by := 0.45*fw+40*s*math.Sin(t), 0.5*fh+30*s*math.Sin(2*t)
	for y := max(0, int(by-r)); y < min(f.H, int(by+r)+1); y++ {
		row := f.Row(0, y, f.W)
		for x := max(0, int(bx-r)); x < min(f.W, int(bx+r)+1); x++ {
			dx, dy := float64(x)-bx, float64(y)-by
			d := math.Sqrt(dx*dx + dy*dy)
			a := min(max(r-d+0.5, 0), 1) // anti-aliased rim
			if a == 0 {
				continue
			}
			light := 1 - 0.5*(dx+dy)/(2*r) // lit from the top left
			p := row[4*x:]
			scrPut(p, [3]float64{
				float64(p[2]) + (200*light-float64(p[2]))*a,
				float64(p[1]) + (40*light-float64(p[1]))*a,
				float64(p[0]) + (45*light-float64(p[0]))*a,
			})
		}
	}
}

// scrPut stores c (red, green, blue) into the pixel p starts with.
func scrPut(p []byte, c [3]float64) {
	p[0] = byte(min(max(c[2]+0.5, 0), 255))
	p[1] = byte(min(max(c[1]+0.5, 0), 255))
	p[2] = byte(min(max(c[0]+0.5, 0), 255))
}

// scrValueNoise is smooth random texture: random values on a lattice, interpolated.
type scrValueNoise struct {
	cell       float64
	cols, rows int
	v          []float64 // in [-1, 1]
}

func scrNewValueNoise(w, h, cell float64, seed uint32) scrValueNoise {
	n := scrValueNoise{cell: cell, cols: int(w/cell) + 3, rows: int(h/cell) + 3}
	n.v = make([]float64, n.cols*n.rows)
	seed = seed*0x9e3779b9 + 1
	for i := range n.v {
		seed ^= seed << 13
		seed ^= seed >> 17
		seed ^= seed << 5
		n.v[i] = float64(seed%2001)/1000 - 1
	}
	return n
}

// at returns the texture at (x, y), both at least 0.
func (n scrValueNoise) at(x, y float64) float64 {
	fx, fy := x/n.cell, y/n.cell
	ix, iy := int(fx), int(fy)
	tx, ty := fx-float64(ix), fy-float64(iy)
	tx, ty = tx*tx*(3-2*tx), ty*ty*(3-2*ty)
	// The lattice repeats: any point has a texture.
	x0, x1 := ix%n.cols, (ix+1)%n.cols
	r0, r1 := iy%n.rows*n.cols, (iy+1)%n.rows*n.cols
	a := n.v[r0+x0] + (n.v[r0+x1]-n.v[r0+x0])*tx
	b := n.v[r1+x0] + (n.v[r1+x1]-n.v[r1+x0])*tx
	return a + (b-a)*ty
}

// scrNoiseFrame draws frame k of the noise workload: colour waves drifting across the
// screen with a fine grain on top: no two neighbouring pixels alike, no flat areas, nothing
// for zlib to find. It is a stress test, harder to compress than any real video.
func scrNoiseFrame(w, h, k int) *frame.Frame {
	var wave [256]int
	for i := range wave {
		wave[i] = int(127.5 + 127.5*math.Sin(float64(i)*2*math.Pi/256))
	}
	f := frame.New(w, h)
	seed := uint32(k)*0x9e3779b9 + 1
	for y := range h {
		row := f.Row(0, y, w)
		for x := range w {
			seed ^= seed << 13
			seed ^= seed >> 17
			seed ^= seed << 5
			grain := int(seed&7) - 4
			r := (wave[(x/4+k*9)&255] + wave[(y/3+k*5)&255]) / 2
			g := (wave[((x+y)/5+k*13)&255] + wave[(y/2+256-k*7%256)&255]) / 2
			b := (wave[(x/3+256-k*11%256)&255] + wave[((x+2*y)/7+k*3)&255]) / 2
			row[4*x] = byte(min(max(b+grain, 0), 255))
			row[4*x+1] = byte(min(max(g+grain, 0), 255))
			row[4*x+2] = byte(min(max(r+grain, 0), 255))
		}
	}
	return f
}

// TestScreenVideoFrames checks what the video workload promises: every pixel changes from
// one frame to the next, the loop included, and the frames compress about as real footage
// does (zlib, as lossless Tight uses it, to about half; JPEG of quality 90, as Tight's quality
// 8, to about a bit or so a pixel), unlike the noise. At 1920x1080 the video compresses to
// 44% and 1.1 bits a pixel; at this test's quarter size its detail is denser.
func TestScreenVideoFrames(t *testing.T) {
	const w, h = 960, 540
	var video []*frame.Frame
	scrVideoFrames(w, h, scrVideoKinds, func(f *frame.Frame) { video = append(video, f) })
	if len(video) != scrVideoKinds {
		t.Fatalf("scrVideoFrames drew %d frames, want %d", len(video), scrVideoKinds)
	}
	for k, f := range video {
		next := video[(k+1)%len(video)]
		same := 0
		for y := range h {
			for x := range w {
				if f.Pixel(x, y)&0xffffff == next.Pixel(x, y)&0xffffff {
					same++
				}
			}
		}
		if same > 0 {
			t.Errorf("video frames %d and %d: %d pixels alike, want none", k, (k+1)%len(video), same)
		}
	}
	tests := []struct {
		name             string
		f                *frame.Frame
		minZlib, maxZlib float64 // compressed size over 3 bytes a pixel
		minJPEG, maxJPEG float64 // bits a pixel
	}{
		{"video", video[0], 0.35, 0.65, 0.7, 2.2},
		{"noise", scrNoiseFrame(w, h, 1), 0.8, 1, 0.5, 2.2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z, j := scrCompressed(t, tt.f)
			if z < tt.minZlib || z > tt.maxZlib || j < tt.minJPEG || j > tt.maxJPEG {
				t.Errorf("%s compresses to %.0f%% with zlib, %.2f bits a pixel with JPEG; want %.0f–%.0f%% and %.1f–%.1f",
					tt.name, 100*z, j, 100*tt.minZlib, 100*tt.maxZlib, tt.minJPEG, tt.maxJPEG)
			}
		})
	}
}

// scrCompressed returns f's size with zlib (level 2, as CompressLevel 2 asks) over its size
// in 3 bytes a pixel, and its bits a pixel as a JPEG of quality 90.
func scrCompressed(t *testing.T, f *frame.Frame) (float64, float64) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, f.W, f.H))
	rgb := make([]byte, 0, 3*f.W*f.H)
	for y := range f.H {
		row := f.Row(0, y, f.W)
		for x := 0; x < len(row); x += 4 {
			rgb = append(rgb, row[x+2], row[x+1], row[x])
			copy(img.Pix[y*img.Stride+x:], []byte{row[x+2], row[x+1], row[x], 255})
		}
	}
	var z, j bytes.Buffer
	zw, err := flate.NewWriter(&z, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(rgb); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&j, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return float64(z.Len()) / float64(len(rgb)), 8 * float64(j.Len()) / float64(f.W*f.H)
}
