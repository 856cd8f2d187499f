//go:build !race

package host_test

// raceEnabled says the test binary runs with the race detector; see screen_race_test.go.
const raceEnabled = false
