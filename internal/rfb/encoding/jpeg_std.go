//go:build !(turbojpeg && cgo)

package encoding

// NewJPEG returns the JPEGEncoder NewEncoder uses when given none: a [StdJPEG] in this build,
// which has no libjpeg-turbo (build with the turbojpeg tag and cgo for it).
func NewJPEG() JPEGEncoder { return new(StdJPEG) }
