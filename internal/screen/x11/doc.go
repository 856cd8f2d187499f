// Package x11 talks to one X display through github.com/jezek/xgb. A [Conn] captures the root
// window into a [frame.Frame] (MIT-SHM when the server shares this machine's memory, core
// GetImage otherwise), reads the cursor shape (XFIXES), types keys and moves the pointer
// (XTEST), bridges the CLIPBOARD and PRIMARY selections to plain text, tells how long the
// user has been idle (MIT-SCREEN-SAVER) and resizes the screen (RANDR). DAMAGE and XFIXES
// events become a wake-up hint for whoever paces captures.
//
// It leaves finding what changed between frames and pacing captures to package screen, and
// starting a display of its own to package xvfb. Everything here is safe for concurrent use.
package x11
