package internal_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/buktu/buktu/"

// levels gives each internal package its level (see DESIGN.md): a package may import only
// packages on a lower level; packages on one level never import each other.
var levels = map[string]int{
	"cli":      4,
	"host":     3,
	"web":      2,
	"transfer": 2,
	"rfb":      1,
	"sshd":     1,
	"files":    1,
	"screen":   1,
	"auth":     1,
	"frame":    0,
	"events":   0,
	"identity": 0,
	"config":   0,
	"ports":    0,
	"progress": 0,
	"testenv":  -1, // test support: may import anything below cli, imported only by tests
}

func TestPackageLevels(t *testing.T) {
	dirs, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		name := d.Name()
		level, ok := levels[name]
		if !ok {
			t.Errorf("package internal/%s has no level in deps_test.go (add it, and to DESIGN.md)", name)
			continue
		}
		files, _ := filepath.Glob(filepath.Join(name, "*.go"))
		hasDoc := false
		for _, f := range files {
			ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			if ast.Doc != nil && !strings.HasSuffix(f, "_test.go") {
				hasDoc = true
			}
			isTest := strings.HasSuffix(f, "_test.go")
			for _, imp := range ast.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				rest, ok := strings.CutPrefix(p, module+"internal/")
				if !ok {
					continue
				}
				other := strings.Split(rest, "/")[0]
				if other == name {
					continue
				}
				if other == "testenv" {
					if !isTest {
						t.Errorf("%s imports internal/testenv outside a test", f)
					}
					continue
				}
				ol, ok := levels[other]
				if !ok {
					t.Errorf("%s imports internal/%s, which has no level", f, other)
					continue
				}
				if level >= 0 && ol >= level {
					t.Errorf("%s (level %d) imports internal/%s (level %d): only lower levels may be imported", f, level, other, ol)
				}
				if level < 0 && ol >= levels["cli"] {
					t.Errorf("%s imports internal/%s", f, other)
				}
			}
		}
		if len(files) > 0 && !hasDoc {
			t.Errorf("package internal/%s has no package doc comment", name)
		}
	}
}
