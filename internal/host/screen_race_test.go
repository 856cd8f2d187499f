//go:build race

package host_test

// raceEnabled says the test binary runs with the race detector, which slows the test's own
// viewers (not the host) several times over: frame-rate comparisons mean nothing then.
const raceEnabled = true
