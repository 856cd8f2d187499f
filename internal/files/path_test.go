package files

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestClean(t *testing.T) {
	tests := []struct {
		name, in string
		want     string
		wantErr  bool
	}{
		{"top", "/", ".", false},
		{"empty", "", ".", false},
		{"dot", ".", ".", false},
		{"file", "/a.txt", "a.txt", false},
		{"relative", "dir/a.txt", "dir/a.txt", false},
		{"dotdot stays inside", "/../../etc/passwd", "etc/passwd", false},
		{"inner dotdot", "a/b/../../../c", "c", false},
		{"double slash", "//a//b/", "a/b", false},
		{"unicode", "/Grüße/日本.txt", "Grüße/日本.txt", false},
		{"nul", "a\x00b", "", true},
		{"newline", "a\nb", "", true},
		{"bad utf8", "a\xffb", "", true},
		{"reserved", "/.buktu-partial/x", "", true},
		{"reserved deeper", "a/.buktu-partial", "", true},
		{"long name", strings.Repeat("x", 256), "", true},
		{"long path", strings.Repeat("a/", 600), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Clean(tt.in, 1024)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("Clean(%q) = %q, %v; want %q (error %v)", tt.in, got, err, tt.want, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrBadPath) {
				t.Errorf("Clean(%q) error %v is not ErrBadPath", tt.in, err)
			}
		})
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"/", "a/../b", "/../../x", "a\x00", ".buktu-partial", "a//b/./c", "…/.."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := Clean(in, 1024)
		if err != nil {
			return
		}
		if got != "." && !filepath.IsLocal(got) {
			t.Fatalf("Clean(%q) = %q, which is not local", in, got)
		}
		for _, el := range strings.Split(got, "/") {
			if el == ".." || el == "" || el == partialDir {
				t.Fatalf("Clean(%q) = %q has element %q", in, got, el)
			}
		}
		if again, err := Clean(got, 1024); err != nil || again != got {
			t.Fatalf("Clean(Clean(%q)) = %q, %v; want %q", in, again, err, got)
		}
	})
}
