//go:build !linux

package events

import "os"

// lockFile does nothing here: only Linux hosts lock the log against a second appender.
func lockFile(*os.File) error { return nil }
