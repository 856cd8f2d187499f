package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// contractIDs are the element ids the browser tests rely on (the console's contract).
var contractIDs = []string{
	"login-form", "login-account", "login-password", "login-submit", "login-error", "logout",
	"host-name", "whoami", "screen", "screen-status", "scale-toggle", "fullscreen",
	"clipboard-text", "keys-menu", "send-files", "send-note", "send-submit", "send-progress",
	"send-result", "exchange-path", "exchange-list", "exchange-upload", "exchange-mkdir",
	"chat-log", "chat-input", "chat-send", "who-list", "notify-button", "notify-status",
	"approvals-list", "invite-address", "invite-password", "invite-submit", "waiting", "error",
	"accounts-panel", "accounts-list", "account-new-name", "account-new-password", "account-add",
	"accounts-admin-password",
}

func TestBuiltFiles(t *testing.T) {
	if !Built() {
		t.Fatal("the console is not built into this binary: make web (scripts/build-web.sh) builds it")
	}
	tests := []struct {
		name     string
		minSize  int
		contains []string
	}{
		{"index.html", 1000, []string{`<script type="module" src="/assets/console.js">`}},
		{"novnc.js", 100_000, []string{"noVNC", "MPL-2.0", " as RFB}"}},
		{"console.js", 5_000, []string{`from"./novnc.js"`, "/api/v1/events"}},
		{"console.css", 1_000, []string{"prefers-color-scheme:dark"}},
		{"novnc-LICENSE.txt", 100, []string{"Mozilla Public License", "Widget Workshop", "AT&T Laboratories"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := fs.ReadFile(Assets(), tt.name)
			if err != nil {
				t.Fatalf("read %s from Assets(): %v", tt.name, err)
			}
			if len(b) < tt.minSize {
				t.Errorf("%s has %d bytes; want at least %d", tt.name, len(b), tt.minSize)
			}
			for _, s := range tt.contains {
				if !strings.Contains(string(b), s) {
					t.Errorf("%s does not contain %q", tt.name, s)
				}
			}
		})
	}
}

// TestBuildIsCurrent fails when the build embedded here is older than web/src or the lock
// file: the browser tests would test yesterday's page. build.mjs writes the same sum.
func TestBuildIsCurrent(t *testing.T) {
	if !Built() {
		t.Fatal("the console is not built into this binary: make web (scripts/build-web.sh) builds it")
	}
	built, err := fs.ReadFile(Assets(), "source.sha256")
	if err != nil {
		t.Fatalf("read the build's source.sha256: %v", err)
	}
	entries, err := os.ReadDir("src")
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"package-lock.json"}
	for _, e := range entries {
		names = append(names, "src/"+e.Name())
	}
	slices.Sort(names)
	all := sha256.New()
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(all, "%s\n%x\n", name, sha256.Sum256(b))
	}
	if got, want := strings.TrimSpace(string(built)), hex.EncodeToString(all.Sum(nil)); got != want {
		t.Errorf("the build is from other sources (sum %s; the sources now: %s): run scripts/build-web.sh", got, want)
	}
}

// page returns the console page: the built one when there is a build, else the source, so
// that its checks run in a clone that has never been built too.
func page(t *testing.T) (name, text string) {
	t.Helper()
	if Built() {
		b, err := fs.ReadFile(Assets(), "index.html")
		if err != nil {
			t.Fatal(err)
		}
		return "built index.html", string(b)
	}
	b, err := os.ReadFile("src/index.html")
	if err != nil {
		t.Fatal(err)
	}
	return "src/index.html", string(b)
}

var (
	tagRE  = regexp.MustCompile(`(?s)<([a-zA-Z][a-zA-Z0-9-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>`)
	attrRE = regexp.MustCompile(`([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?`)
	// scriptRE finds each script element with what is between its tags.
	scriptRE = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
)

type tag struct {
	name  string
	attrs map[string]string
}

func tags(html string) []tag {
	var out []tag
	for _, m := range tagRE.FindAllStringSubmatch(html, -1) {
		attrs := map[string]string{}
		for _, a := range attrRE.FindAllStringSubmatch(m[2], -1) {
			attrs[strings.ToLower(a[1])] = strings.Trim(a[2], `"'`)
		}
		out = append(out, tag{strings.ToLower(m[1]), attrs})
	}
	return out
}

// TestPageIsSelfContained checks what the host's CSP (default-src 'self', no inline script or
// style) needs: every script and style comes from our own /assets/, nothing from elsewhere,
// and no inline code a browser would refuse to run.
func TestPageIsSelfContained(t *testing.T) {
	name, html := page(t)
	for _, m := range scriptRE.FindAllStringSubmatch(html, -1) {
		if strings.TrimSpace(m[2]) != "" {
			t.Errorf("%s has an inline script: %.60q", name, m[2])
		}
		if !strings.Contains(m[1], `src="/assets/`) {
			t.Errorf("%s has a script not from /assets/: <script%s>", name, m[1])
		}
	}
	if strings.Contains(strings.ToLower(html), "<style") {
		t.Errorf("%s has a <style> element", name)
	}
	for _, tg := range tags(html) {
		for attr, value := range tg.attrs {
			switch {
			case strings.HasPrefix(attr, "on"):
				t.Errorf("%s: <%s %s=...> is an inline handler", name, tg.name, attr)
			case attr == "style":
				t.Errorf("%s: <%s style=%q> is an inline style", name, tg.name, value)
			case attr == "src" || attr == "href" || attr == "action" || attr == "srcset":
				if err := checkLocal(value); err != "" {
					t.Errorf("%s: <%s %s=%q> %s", name, tg.name, attr, value, err)
				}
			}
		}
	}
}

// checkLocal says what is wrong with a link of the page, or "".
func checkLocal(ref string) string {
	lower := strings.ToLower(ref)
	switch {
	case strings.HasPrefix(ref, "#"), ref == "data:,":
		return ""
	case strings.Contains(lower, ":") || strings.HasPrefix(ref, "//"):
		return "leaves the host (only /assets/ and #fragments are allowed)"
	case !strings.HasPrefix(ref, "/assets/"):
		return "is not under /assets/"
	}
	if !Built() {
		return ""
	}
	if _, err := fs.Stat(Assets(), strings.TrimPrefix(ref, "/assets/")); err != nil {
		return "is not in the build"
	}
	return ""
}

func TestPageHasContractIDs(t *testing.T) {
	name, html := page(t)
	var ids []string
	for _, tg := range tags(html) {
		if id, ok := tg.attrs["id"]; ok {
			ids = append(ids, id)
		}
	}
	for _, want := range contractIDs {
		if n := countOf(ids, want); n != 1 {
			t.Errorf("%s has %d elements with id %q; want 1", name, n, want)
		}
	}
	slices.Sort(ids)
	if dup := slices.Compact(slices.Clone(ids)); len(dup) != len(ids) {
		t.Errorf("%s has duplicate ids among %v", name, ids)
	}
}

func countOf(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

// TestLabels checks that every form control has a label a screen reader can announce.
func TestLabels(t *testing.T) {
	name, html := page(t)
	labelled := map[string]bool{}
	for _, tg := range tags(html) {
		if tg.name == "label" {
			labelled[tg.attrs["for"]] = true
		}
	}
	for _, tg := range tags(html) {
		if tg.name != "input" && tg.name != "textarea" && tg.name != "select" {
			continue
		}
		id := tg.attrs["id"]
		_, aria := tg.attrs["aria-label"]
		if !labelled[id] && !aria && !insideLabel(html, id) {
			t.Errorf("%s: <%s id=%q> has no label", name, tg.name, id)
		}
	}
}

// insideLabel reports whether the control with this id sits inside a <label> element.
func insideLabel(html, id string) bool {
	at := strings.Index(html, `id="`+id+`"`)
	if at < 0 {
		return false
	}
	open := strings.LastIndex(html[:at], "<label")
	return open >= 0 && !strings.Contains(html[open:at], "</label>")
}
