// Package web holds the browser console's built files: the page, our script and style, and
// the noVNC bundle, built from web/src by scripts/build-web.sh into web/dist and embedded into
// the binary. It only hands them out; serving them (and the API the page talks to) is
// internal/web's job.
package web

import (
	"embed"
	"io/fs"
)

// dist is embedded with all: so that .keep, which keeps the folder in a clone that has never
// been built, is part of it: without a file go:embed would refuse to compile.
//
//go:embed all:dist
var dist embed.FS

// Assets returns the built files with the dist folder as the root: "index.html", "novnc.js",
// "console.js", "console.css". In a clone that has not been built it holds only ".keep".
func Assets() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic("web: dist is embedded, so fs.Sub cannot fail: " + err.Error())
	}
	return sub
}

// Built reports whether the console has been built into this binary: the page and the noVNC
// bundle are both there.
func Built() bool {
	for _, name := range []string{"index.html", "novnc.js"} {
		if _, err := fs.Stat(Assets(), name); err != nil {
			return false
		}
	}
	return true
}
