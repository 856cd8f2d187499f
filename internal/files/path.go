package files

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// partialDir is the hidden folder, at the top of a served folder, that holds uploads in
// progress. No client path may name it.
const partialDir = ".buktu-partial"

// maxNameBytes is the longest single path element, the limit of common Linux file systems.
const maxNameBytes = 255

// ErrBadPath is returned for a path no client may name.
var ErrBadPath = errors.New("files: bad path")

// Clean turns a client's path (absolute or relative to the served folder's top, in SFTP's
// forward-slash form) into a path relative to the served folder: "." for the top, otherwise a
// local path with no "." or ".." elements. It refuses, with ErrBadPath, what could name
// anything outside the folder or the folder's own bookkeeping, and names longer than maxLen.
func Clean(name string, maxLen int) (string, error) {
	if len(name) > maxLen {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrBadPath, maxLen)
	}
	if strings.IndexByte(name, 0) >= 0 || !utf8.ValidString(name) {
		return "", fmt.Errorf("%w: not valid UTF-8 text", ErrBadPath)
	}
	// Cleaning the path as an absolute one resolves ".." against the top: "/../etc" is "/etc",
	// which is inside the folder. Nothing can climb above "/".
	p := path.Clean("/" + name)
	if p == "/" {
		return ".", nil
	}
	p = p[1:]
	for _, el := range strings.Split(p, "/") {
		switch {
		case len(el) > maxNameBytes:
			return "", fmt.Errorf("%w: a name is longer than %d bytes", ErrBadPath, maxNameBytes)
		case el == partialDir:
			return "", fmt.Errorf("%w: reserved name", ErrBadPath)
		case strings.ContainsFunc(el, isControl):
			return "", fmt.Errorf("%w: control character in a name", ErrBadPath)
		}
	}
	return p, nil
}

// isControl reports C0 and C1 control characters and DEL: they can move a terminal's cursor
// or start an escape sequence when a name is listed.
func isControl(r rune) bool { return unicode.IsControl(r) }
