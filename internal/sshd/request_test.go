package sshd

import (
	"reflect"
	"testing"
)

func TestSumsRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   []FileSum
	}{
		{"none", []FileSum{}},
		{"one", []FileSum{{Path: "a/b,c.txt", Size: 5, SHA256: "2cf2"}}},
		{"error", []FileSum{{Error: "no such file"}, {Path: "x", Size: 1 << 40}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := UnmarshalSums(MarshalSums(tt.in))
			if err != nil || !reflect.DeepEqual(got, tt.in) {
				t.Errorf("UnmarshalSums(MarshalSums(%v)) = %v, %v", tt.in, got, err)
			}
		})
	}
}

func TestPathsAndNoteRoundTrip(t *testing.T) {
	paths := []string{"a,b", "", "dir/ü x.txt", "a\nb"}
	got, err := UnmarshalPaths(MarshalPaths(paths))
	if err != nil || !reflect.DeepEqual(got, paths) {
		t.Errorf("UnmarshalPaths(MarshalPaths(%q)) = %q, %v", paths, got, err)
	}
	text, files, err := UnmarshalNote(MarshalNote("hi, there", paths))
	if err != nil || text != "hi, there" || !reflect.DeepEqual(files, paths) {
		t.Errorf("UnmarshalNote = %q, %q, %v", text, files, err)
	}
}

func TestListLimits(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"huge count", []byte{0xff, 0xff, 0xff, 0xff}},
		{"entry past end", []byte{0, 0, 0, 1, 0, 0, 1, 0, 'a'}},
		{"trailing", []byte{0, 0, 0, 0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := UnmarshalPaths(tt.in); err == nil {
				t.Errorf("UnmarshalPaths(%x) = %q; want an error", tt.in, got)
			}
		})
	}
}

func FuzzUnmarshalSums(f *testing.F) {
	f.Add(MarshalSums([]FileSum{{Path: "a", Size: 3, SHA256: "ab"}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		sums, err := UnmarshalSums(b)
		if err != nil {
			return
		}
		again, err := UnmarshalSums(MarshalSums(sums))
		if err != nil || !reflect.DeepEqual(again, sums) {
			t.Fatalf("round trip of %x: %v, %v; want %v", b, again, err, sums)
		}
	})
}

func FuzzUnmarshalPaths(f *testing.F) {
	f.Add(MarshalPaths([]string{"a", "b/c"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		paths, err := UnmarshalPaths(b)
		if err != nil {
			return
		}
		again, err := UnmarshalPaths(MarshalPaths(paths))
		if err != nil || !reflect.DeepEqual(again, paths) {
			t.Fatalf("round trip of %x: %v, %v; want %v", b, again, err, paths)
		}
	})
}

func FuzzUnmarshalNote(f *testing.F) {
	f.Add(MarshalNote("hello", []string{"a.txt"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		text, files, err := UnmarshalNote(b)
		if err != nil {
			return
		}
		t2, f2, err := UnmarshalNote(MarshalNote(text, files))
		if err != nil || t2 != text || !reflect.DeepEqual(f2, files) {
			t.Fatalf("round trip of %x: %q %q %v; want %q %q", b, t2, f2, err, text, files)
		}
	})
}
