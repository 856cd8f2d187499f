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
		{"none", nil},
		{"one", []FileSum{{Path: "a/b.txt", Size: 5, SHA256: "2cf2"}}},
		{"error", []FileSum{{Error: "no such file"}, {Path: "x", Size: 1 << 40}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := UnmarshalSums(MarshalSums(tt.in))
			if err != nil || len(got) != len(tt.in) || (len(got) > 0 && !reflect.DeepEqual(got, tt.in)) {
				t.Errorf("UnmarshalSums(MarshalSums(%v)) = %v, %v", tt.in, got, err)
			}
		})
	}
}

func FuzzUnmarshalSums(f *testing.F) {
	f.Add(MarshalSums([]FileSum{{Path: "a", Size: 3, SHA256: "ab"}}))
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		sums, err := UnmarshalSums(b)
		if err != nil {
			return
		}
		again, err := UnmarshalSums(MarshalSums(sums))
		if err != nil || len(again) != len(sums) || (len(sums) > 0 && !reflect.DeepEqual(again, sums)) {
			t.Fatalf("round trip of %x: %v, %v; want %v", b, again, err, sums)
		}
	})
}

func FuzzPathsRequest(f *testing.F) {
	f.Add(Marshal(PathsRequest{Paths: []string{"a", "b/c"}}))
	f.Add(Marshal(NoteRequest{Text: "hi", Files: []string{"x"}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p PathsRequest
		if Unmarshal(b, &p) != nil {
			return
		}
		var again PathsRequest
		if err := Unmarshal(Marshal(p), &again); err != nil || len(again.Paths) != len(p.Paths) {
			t.Fatalf("round trip of %x: %v, %v; want %v", b, again, err, p)
		}
	})
}
