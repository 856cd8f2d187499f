package internal_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/buktu/buktu/"

// levels gives each internal package its level: a package may import only packages on a lower
// level, and packages on one level never import each other. It refines DESIGN.md's picture
// where the code taught better: the RFB server and the capture loop use the encoders and the
// X11 code, so they sit a level above them, and what wires them sits above that.
var levels = map[string]int{
	"cli":          5,
	"host":         4,
	"web":          3,
	"transfer":     3,
	"console":      3,
	"rfb":          2,
	"screen":       2,
	"rfb/encoding": 1,
	"screen/x11":   1,
	"screen/xvfb":  1,
	"sshd":         1,
	"files":        1,
	"auth":         1,
	"frame":        0,
	"rfb/wire":     0,
	"events":       0,
	"identity":     0,
	"config":       0,
	"ports":        0,
	"progress":     0,
	"quota":        0,
	"who":          0,
	"chat":         0,
	"ask":          0,
	"tmpfile":      0,
	"testenv":      -1, // test support: imported only by tests, may import anything below cli
}

func TestPackageLevels(t *testing.T) {
	pkgs := map[string][]string{}
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") && filepath.Dir(p) != "." {
			dir := filepath.ToSlash(filepath.Dir(p))
			pkgs[dir] = append(pkgs[dir], p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, files := range pkgs {
		level, ok := levels[name]
		if !ok {
			t.Errorf("package internal/%s has no level in deps_test.go", name)
			continue
		}
		hasDoc := false
		for _, f := range files {
			ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			isTest := strings.HasSuffix(f, "_test.go")
			if ast.Doc != nil && !isTest {
				hasDoc = true
			}
			for _, imp := range ast.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				other, ok := strings.CutPrefix(p, module+"internal/")
				if !ok || other == name {
					continue
				}
				if other == "testenv" {
					if !isTest {
						t.Errorf("%s imports internal/testenv outside a test", f)
					}
					continue
				}
				ol, ok := levels[other]
				switch {
				case !ok:
					t.Errorf("%s imports internal/%s, which has no level", f, other)
				case level >= 0 && ol >= level:
					t.Errorf("%s (level %d) imports internal/%s (level %d): only lower levels may be imported", f, level, other, ol)
				case level < 0 && ol >= levels["cli"]:
					t.Errorf("%s imports internal/%s", f, other)
				}
			}
		}
		if !hasDoc {
			t.Errorf("package internal/%s has no package doc comment", name)
		}
	}
}
