package wire

import (
	"bytes"
	"io"
	"runtime"
	"testing"
)

// allocated returns the bytes f allocates, on average over runs.
func allocated(f func()) uint64 {
	const runs = 20
	f() // warm up
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / runs
}

// TestSmallInputSmallAllocation feeds each reader a few bytes that announce the largest length
// it accepts; none may allocate much more than one read chunk for them.
func TestSmallInputSmallAllocation(t *testing.T) {
	big := Limits{MaxCutText: 1 << 30, MaxEncodings: 0xFFFF}
	gigaText := Clipboard{Flags: ClipboardProvide | ClipboardText, Data: deflate(u32(1<<30), true)}
	tests := []struct {
		name string
		in   []byte
		read func(io.Reader) error
	}{
		{"cut text of 1 GiB", cat([]byte{6, 0, 0, 0}, u32(1<<30), []byte("hello")),
			func(r io.Reader) error { _, err := ReadClientMessage(r, big); return err }},
		{"extended cut text of 1 GiB", cat([]byte{6, 0, 0, 0}, u32(uint32(0x100000000-(1<<30))), []byte("hello")),
			func(r io.Reader) error { _, err := ReadClientMessage(r, big); return err }},
		{"65535 encodings", cat([]byte{2, 0}, u16(0xFFFF), u32(7)),
			func(r io.Reader) error { _, err := ReadClientMessage(r, big); return err }},
		{"cut text over the limit", cat([]byte{6, 0, 0, 0}, u32(0x7FFFFFFF), []byte("hello")),
			func(r io.Reader) error { _, err := ReadClientMessage(r, Limits{}); return err }},
		{"server cut text of 1 GiB", cat([]byte{3, 0, 0, 0}, u32(1<<30), []byte("hello")),
			func(r io.Reader) error { _, err := ReadServerMessage(r, big); return err }},
		{"65535 colours", cat([]byte{1, 0}, u16(0), u16(0xFFFF), u16(1)),
			func(r io.Reader) error { _, err := ReadServerMessage(r, big); return err }},
		{"255 screens", cat([]byte{251, 0}, u16(1), u16(1), []byte{255, 0}),
			func(r io.Reader) error { _, err := ReadClientMessage(r, big); return err }},
		{"plain auth at the limit", cat(u32(MaxPlainLength), u32(MaxPlainLength)),
			func(r io.Reader) error { _, err := ReadPlainAuth(r); return err }},
		{"server name at the limit", cat(make([]byte, 20), u32(MaxNameLength)),
			func(r io.Reader) error { _, err := ReadServerInit(r); return err }},
		{"reason at the limit", cat([]byte{0}, u32(MaxReasonLength)),
			func(r io.Reader) error { _, err := ReadSecurityTypes(r, V38); return err }},
		{"clipboard text of 1 GiB", nil, func(io.Reader) error {
			_, err := gigaText.Text(1 << 30)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			n := allocated(func() { err = tt.read(bytes.NewReader(tt.in)) })
			if err == nil {
				t.Errorf("reading %x succeeded", tt.in)
			}
			if n > 3*chunk {
				t.Errorf("reading %d bytes allocated %d bytes", len(tt.in), n)
			}
		})
	}
}

func TestReadNLarge(t *testing.T) {
	in := make([]byte, 5*chunk+3)
	for i := range in {
		in[i] = byte(i * 7)
	}
	got, err := readN(bytes.NewReader(in), len(in))
	if err != nil || !bytes.Equal(got, in) {
		t.Fatalf("readN(%d bytes) = %d bytes, %v", len(in), len(got), err)
	}
	if got, err := readN(bytes.NewReader(nil), 0); got != nil || err != nil {
		t.Errorf("readN(0) = %v, %v; want nil, nil", got, err)
	}
}
