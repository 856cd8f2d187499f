package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The tests in this file keep the repository's NOTICE true to what the binary bundles: every
// Go module linked into cmd/buktu and every npm package bundled into web/dist has an entry
// there, at the version the build uses, and nothing else claims to be bundled.

// root is the repository's root, seen from this package's folder (where go test runs it).
const root = "../.."

// builds are the configurations whose links NOTICE must cover: pure Go (GOTAGS= on a
// machine without a C compiler), and the Makefile's default, which adds libjpeg-turbo
// through cgo. Each is written as the go command's environment and flag.
var builds = []string{"CGO_ENABLED=0 -tags=", "CGO_ENABLED=1 -tags=turbojpeg"}

// notice holds the entries of NOTICE that the tests check: each name with its versions
// (one, but npm may bundle two versions of a package, and then NOTICE lists both).
type notice struct {
	goModules   map[string][]string // "Go module PATH VERSION"
	npmPackages map[string][]string // "npm package NAME VERSION"
}

// readNotice reads the entry headings of NOTICE: lines that start with "Go module " or
// "npm package ", then a name and a version. Other lines are for people.
func readNotice(t *testing.T) notice {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "NOTICE"))
	if err != nil {
		t.Fatalf("read NOTICE: %v", err)
	}
	n := notice{goModules: map[string][]string{}, npmPackages: map[string][]string{}}
	kinds := []struct {
		prefix  string
		entries map[string][]string
	}{
		{"Go module ", n.goModules},
		{"npm package ", n.npmPackages},
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for line := 1; sc.Scan(); line++ {
		for _, k := range kinds {
			rest, ok := strings.CutPrefix(sc.Text(), k.prefix)
			if !ok {
				continue
			}
			f := strings.Fields(rest)
			if len(f) != 2 {
				t.Errorf("NOTICE line %d: %q; want %sNAME VERSION", line, sc.Text(), k.prefix)
				continue
			}
			if slices.Contains(k.entries[f[0]], f[1]) {
				t.Errorf("NOTICE line %d: a second entry for %s%s %s", line, k.prefix, f[0], f[1])
				continue
			}
			k.entries[f[0]] = append(k.entries[f[0]], f[1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read NOTICE: %v", err)
	}
	return n
}

// checkEntries compares NOTICE's entries of one kind ("Go module", "npm package") with what
// the build bundles, name → versions. source says what was asked about the build; where
// says how a name got into it.
func checkEntries(t *testing.T, kind string, entries, built map[string][]string, source string, where func(name string) string) {
	t.Helper()
	names := slices.Collect(maps.Keys(built))
	for name := range entries {
		if _, ok := built[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		have, want := slices.Sorted(slices.Values(entries[name])), slices.Sorted(slices.Values(built[name]))
		switch {
		case slices.Equal(have, want):
		case len(have) == 0:
			t.Errorf("%s %s %s is bundled (%s) but NOTICE has no entry for it: add \"%s %s %s\" with its licence (SPDX id) and the copyright line of its licence file",
				kind, name, strings.Join(want, ", "), where(name), kind, name, want[0])
		case len(want) == 0:
			t.Errorf("NOTICE lists %s %s, which the build does not bundle (%s): remove its entry", kind, name, source)
		default:
			t.Errorf("NOTICE lists %s %s at %s; the build (%s) has %s: update the entry, and check that its licence is still the one NOTICE names",
				kind, name, strings.Join(have, ", "), where(name), strings.Join(want, ", "))
		}
	}
}

// goTool returns the go command, or skips the test when there is none to ask.
func goTool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if goroot := os.Getenv("GOROOT"); goroot != "" {
		p := filepath.Join(goroot, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("the go tool is neither on PATH nor in $GOROOT/bin: cannot list the modules cmd/buktu links, so NOTICE goes unchecked")
	return ""
}

// linkedModules asks the go tool which modules, the main module aside, provide the packages
// linked into cmd/buktu in build (one of builds), each with the version the build list
// selects. Listing compiles nothing, so CGO_ENABLED=1 lists the cgo build even on a machine
// without a C compiler.
func linkedModules(t *testing.T, goCmd, build string) map[string]string {
	t.Helper()
	env, flag, _ := strings.Cut(build, " ")
	cmd := exec.CommandContext(t.Context(), goCmd, "list", "-deps", flag,
		"-f", "{{with .Module}}{{if not .Main}}{{.Path}} {{.Version}}{{end}}{{end}}", ".")
	cmd.Env = append(os.Environ(), env)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s go list -deps ./cmd/buktu: %v\n%s", build, err, stderr.Bytes())
	}
	mods := map[string]string{}
	for line := range strings.Lines(string(out)) {
		if path, version, ok := strings.Cut(strings.TrimSpace(line), " "); ok {
			mods[path] = version
		}
	}
	if len(mods) == 0 {
		t.Fatalf("%s go list -deps ./cmd/buktu names no module besides buktu's own", build)
	}
	return mods
}

func TestNoticeListsGoModules(t *testing.T) {
	goCmd := goTool(t)
	built := map[string][]string{}    // module path → the version linked
	linkedBy := map[string][]string{} // module path → the builds that link it
	for _, build := range builds {
		for path, v := range linkedModules(t, goCmd, build) {
			built[path] = []string{v} // one build list: the same version in every build
			linkedBy[path] = append(linkedBy[path], build)
		}
	}
	source := fmt.Sprintf("cmd/buktu links it in none of %q", builds)
	checkEntries(t, "Go module", readNotice(t).goModules, built, source, func(path string) string {
		return fmt.Sprintf("linked into cmd/buktu by %q", linkedBy[path])
	})
}

// lockPackage is one entry of package-lock.json's "packages", with what the walk needs.
type lockPackage struct {
	Name                 string            `json:"name"` // set for an alias: the real name
	Version              string            `json:"version"`
	Dependencies         map[string]string `json:"dependencies"`
	OptionalDependencies map[string]string `json:"optionalDependencies"`
	PeerDependencies     map[string]string `json:"peerDependencies"`
}

// bundledPackages returns the npm packages that a package-lock.json (lockfileVersion 2 or
// 3) says are bundled, name → versions: the project's dependencies (not its devDependencies,
// such as esbuild) and, transitively, theirs.
func bundledPackages(lockJSON []byte) (map[string][]string, error) {
	var lock struct {
		LockfileVersion int                    `json:"lockfileVersion"`
		Packages        map[string]lockPackage `json:"packages"`
	}
	if err := json.Unmarshal(lockJSON, &lock); err != nil {
		return nil, err
	}
	if lock.LockfileVersion < 2 || lock.Packages == nil {
		return nil, fmt.Errorf("lockfileVersion %d without \"packages\"; want 2 or 3 (npm 7 or newer)", lock.LockfileVersion)
	}
	bundled := map[string][]string{}
	seen := map[string]bool{}
	var errs []error
	var walk func(from string, deps map[string]string, required bool)
	walk = func(from string, deps map[string]string, required bool) {
		for _, name := range slices.Sorted(maps.Keys(deps)) {
			p, ok := resolve(lock.Packages, from, name)
			if !ok {
				if required {
					errs = append(errs, fmt.Errorf("no entry for %s, which %s depends on: run npm install in web", name, describe(from)))
				}
				continue // an optional or peer dependency that is not installed
			}
			if seen[p] {
				continue
			}
			seen[p] = true
			pkg := lock.Packages[p]
			pkgName := pkg.Name
			if pkgName == "" {
				pkgName = p[strings.LastIndex(p, "node_modules/")+len("node_modules/"):]
			}
			if !slices.Contains(bundled[pkgName], pkg.Version) {
				bundled[pkgName] = append(bundled[pkgName], pkg.Version)
			}
			walk(p, pkg.Dependencies, true)
			walk(p, pkg.OptionalDependencies, false)
			walk(p, pkg.PeerDependencies, false)
		}
	}
	top := lock.Packages[""]
	walk("", top.Dependencies, true)
	walk("", top.OptionalDependencies, false)
	return bundled, errors.Join(errs...)
}

// resolve finds where npm installed name for the package at from (a "packages" key, "" for
// the project): the nearest node_modules folder going up, as Node looks for it.
func resolve(pkgs map[string]lockPackage, from, name string) (string, bool) {
	for {
		p := "node_modules/" + name
		if from != "" {
			p = from + "/" + p
		}
		if _, ok := pkgs[p]; ok {
			return p, true
		}
		if from == "" {
			return "", false
		}
		if i := strings.LastIndex(from, "/node_modules/"); i >= 0 {
			from = from[:i]
		} else {
			from = ""
		}
	}
}

func describe(from string) string {
	if from == "" {
		return "web/package.json"
	}
	return from
}

func TestNoticeListsNPMPackages(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "web", "package-lock.json"))
	if err != nil {
		t.Fatalf("read web/package-lock.json: %v", err)
	}
	built, err := bundledPackages(b)
	if err != nil {
		t.Fatalf("web/package-lock.json: %v", err)
	}
	if len(built) == 0 {
		t.Fatal("web/package-lock.json lists no bundled (non-dev) package, yet web/dist bundles noVNC: it belongs in web/package.json's dependencies, not devDependencies")
	}
	source := "not a dependency in web/package-lock.json, or only a dev dependency"
	checkEntries(t, "npm package", readNotice(t).npmPackages, built, source, func(string) string {
		return "into web/dist, as a dependency in web/package-lock.json"
	})
}

func TestBundledPackages(t *testing.T) {
	tests := []struct {
		name, lock string
		want       map[string][]string
		wantErr    bool
	}{
		{"dev only", `{"lockfileVersion": 3, "packages": {
			"": {"devDependencies": {"esbuild": "0.28.2"}},
			"node_modules/esbuild": {"version": "0.28.2", "dev": true}}}`,
			map[string][]string{}, false},
		{"transitive", `{"lockfileVersion": 3, "packages": {
			"": {"dependencies": {"a": "^1"}, "devDependencies": {"d": "1"}},
			"node_modules/a": {"version": "1.0.0", "dependencies": {"b": "^2"}},
			"node_modules/b": {"version": "2.1.0"},
			"node_modules/d": {"version": "1.0.0", "dev": true}}}`,
			map[string][]string{"a": {"1.0.0"}, "b": {"2.1.0"}}, false},
		{"nested versions", `{"lockfileVersion": 3, "packages": {
			"": {"dependencies": {"a": "1", "c": "2"}},
			"node_modules/a": {"version": "1.0.0", "dependencies": {"c": "1"}},
			"node_modules/a/node_modules/c": {"version": "1.0.0"},
			"node_modules/c": {"version": "2.0.0"}}}`,
			map[string][]string{"a": {"1.0.0"}, "c": {"1.0.0", "2.0.0"}}, false},
		{"scoped, resolved upwards", `{"lockfileVersion": 2, "packages": {
			"": {"dependencies": {"@s/x": "1"}},
			"node_modules/@s/x": {"version": "1.0.0", "dependencies": {"@s/y": "1", "z": "1"}},
			"node_modules/@s/x/node_modules/z": {"version": "3.0.0", "dependencies": {"@s/y": "1"}},
			"node_modules/@s/y": {"version": "1.2.0"}}}`,
			map[string][]string{"@s/x": {"1.0.0"}, "@s/y": {"1.2.0"}, "z": {"3.0.0"}}, false},
		{"alias", `{"lockfileVersion": 3, "packages": {
			"": {"dependencies": {"p": "npm:q@1"}},
			"node_modules/p": {"name": "q", "version": "1.0.0"}}}`,
			map[string][]string{"q": {"1.0.0"}}, false},
		{"optional not installed", `{"lockfileVersion": 3, "packages": {
			"": {"dependencies": {"a": "1"}},
			"node_modules/a": {"version": "1.0.0", "optionalDependencies": {"o": "1"}, "peerDependencies": {"p": "1"}}}}`,
			map[string][]string{"a": {"1.0.0"}}, false},
		{"required not installed", `{"lockfileVersion": 3, "packages": {
			"": {"dependencies": {"a": "1"}},
			"node_modules/a": {"version": "1.0.0", "dependencies": {"gone": "1"}}}}`,
			map[string][]string{"a": {"1.0.0"}}, true},
		{"lockfileVersion 1", `{"lockfileVersion": 1, "dependencies": {}}`, nil, true},
		{"not JSON", `{`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := bundledPackages([]byte(tt.lock))
			for _, versions := range got {
				slices.Sort(versions)
			}
			if (err != nil) != tt.wantErr || (tt.want != nil && !maps.EqualFunc(got, tt.want, slices.Equal[[]string])) {
				t.Errorf("bundledPackages(%s) = %v, %v; want %v, error %t", tt.name, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
