//go:build turbojpeg && cgo

package encoding

/*
#cgo LDFLAGS: -lturbojpeg
#include <stdio.h>
#include <turbojpeg.h>

// buktu_tj_init returns a new compressor, or NULL with the reason copied to msg: TurboJPEG
// keeps that reason per thread, and the goroutine may be on another thread by the time Go
// reads it.
static tjhandle buktu_tj_init(char *msg, int n) {
	tjhandle h = tjInitCompress();
	if (h == NULL) {
		snprintf(msg, n, "%s", tjGetErrorStr2(NULL));
	}
	return h;
}

// buktu_tj_compress compresses BGRX pixels with 4:2:0 chroma and the fast integer DCT (what
// TigerVNC's and libvncserver's encoders use too: at the qualities viewers ask for, the
// difference is below what the eye sees, and it takes a fifth less CPU) into out, which holds
// tjBufSize(w, h, TJSAMP_420) bytes, and returns the JPEG's length, or 0 on error. The output
// pointer lives here, in C, because Go may not pass C a pointer to memory holding a Go pointer.
static unsigned long buktu_tj_compress(tjhandle h, const unsigned char *src, int w, int pitch,
		int rows, unsigned char *out, int quality) {
	unsigned long size = 0;
	if (tjCompress2(h, src, w, pitch, rows, TJPF_BGRX, &out, &size, TJSAMP_420, quality,
			TJFLAG_NOREALLOC | TJFLAG_FASTDCT) != 0 && tjGetErrorCode(h) != TJERR_WARNING) {
		return 0;
	}
	return size;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"unsafe"

	"github.com/buktu/buktu/internal/frame"
)

// TurboJPEG is the JPEGEncoder of libjpeg-turbo's TurboJPEG API, about ten times faster than
// [StdJPEG] (BenchmarkJPEG); it exists in builds with the turbojpeg tag and cgo. It reads the
// frame's pixels in place and writes into the Go slice it appends to, so a call allocates
// nothing in C. Its zero value is ready; use it by pointer. It is safe for concurrent use.
type TurboJPEG struct {
	once sync.Once
	// free holds idle compressors, at most GOMAXPROCS of them: each call takes one (or makes
	// one) and puts it back (or destroys it when enough are idle).
	free chan C.tjhandle
}

// NewJPEG returns the JPEGEncoder NewEncoder uses when given none: a [TurboJPEG] in this
// build. Create one per process and share it, so its compressors are reused.
func NewJPEG() JPEGEncoder { return new(TurboJPEG) }

// AppendJPEG implements JPEGEncoder.
func (t *TurboJPEG) AppendJPEG(dst []byte, f *frame.Frame, r frame.Rect, quality int) ([]byte, error) {
	if err := checkJPEGRect(f, r); err != nil {
		return dst, err
	}
	if r.W > 1<<16-1 || r.H > 1<<16-1 || f.Stride > 1<<31-1 {
		return dst, fmt.Errorf("jpeg of %v: too large", r)
	}
	need := C.tjBufSize(C.int(r.W), C.int(r.H), C.TJSAMP_420)
	if need == ^C.ulong(0) || uint64(need) > 1<<31 {
		return dst, fmt.Errorf("jpeg of %v: no buffer size", r)
	}
	h, err := t.get()
	if err != nil {
		return dst, err
	}
	dst = slices.Grow(dst, int(need))
	out := dst[len(dst):cap(dst)]
	n := C.buktu_tj_compress(h,
		(*C.uchar)(unsafe.Pointer(&f.Pix[f.Offset(r.X, r.Y)])), C.int(r.W), C.int(f.Stride), C.int(r.H),
		(*C.uchar)(unsafe.Pointer(&out[0])), C.int(min(max(quality, 1), 100)))
	if n == 0 || uint64(n) > uint64(len(out)) {
		// The message lives in h: read it before another call may use h.
		err = fmt.Errorf("jpeg of %v: %s", r, C.GoString(C.tjGetErrorStr2(h)))
	}
	t.put(h)
	if err != nil {
		return dst, err
	}
	return dst[:len(dst)+int(n)], nil
}

// get returns an idle compressor, or a new one when none is idle.
func (t *TurboJPEG) get() (C.tjhandle, error) {
	t.once.Do(t.init)
	select {
	case h := <-t.free:
		return h, nil
	default:
	}
	var msg [200]C.char
	h := C.buktu_tj_init(&msg[0], C.int(len(msg)))
	if h == nil {
		return nil, errors.New("start turbojpeg compressor: " + C.GoString(&msg[0]))
	}
	return h, nil
}

// put keeps h for the next call, or destroys it when enough compressors are idle.
func (t *TurboJPEG) put(h C.tjhandle) {
	select {
	case t.free <- h:
	default:
		C.tjDestroy(h)
	}
}

// init makes the free list and arranges for its compressors, which live in C memory the
// garbage collector does not see, to be destroyed when t is.
func (t *TurboJPEG) init() {
	t.free = make(chan C.tjhandle, runtime.GOMAXPROCS(0))
	runtime.AddCleanup(t, destroyAll, t.free)
}

// destroyAll destroys the idle compressors in free.
func destroyAll(free chan C.tjhandle) {
	for {
		select {
		case h := <-free:
			C.tjDestroy(h)
		default:
			return
		}
	}
}
