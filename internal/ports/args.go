package ports

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxRange is the most ports one "LOW-HIGH" argument may cover.
const MaxRange = 1024

// ParsePortArgs parses port arguments: single ports ("22"), inclusive ranges ("1417-1420", at
// most MaxRange ports), and comma-separated lists of either ("22,443"). Ports come back in the
// order given, each once. With no arguments it returns DefaultPorts.
func ParsePortArgs(args []string) ([]int, error) {
	if len(args) == 0 {
		return DefaultPorts(), nil
	}
	var ports []int
	seen := make(map[int]bool)
	add := func(p int) {
		if !seen[p] {
			seen[p] = true
			ports = append(ports, p)
		}
	}
	for _, arg := range args {
		for item := range strings.SplitSeq(arg, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				return nil, fmt.Errorf("parse ports %q: empty port", arg)
			}
			lowText, highText, isRange := strings.Cut(item, "-")
			low, err := parsePort(lowText)
			if err != nil {
				return nil, fmt.Errorf("parse ports %q: %w", arg, err)
			}
			if !isRange {
				add(low)
				continue
			}
			high, err := parsePort(highText)
			if err != nil {
				return nil, fmt.Errorf("parse ports %q: %w", arg, err)
			}
			if high < low {
				return nil, fmt.Errorf("parse ports %q: range %d-%d is reversed (did you mean %d-%d?)", arg, low, high, high, low)
			}
			if n := high - low + 1; n > MaxRange {
				return nil, fmt.Errorf("parse ports %q: range %d-%d covers %d ports, more than %d", arg, low, high, n, MaxRange)
			}
			for p := low; p <= high; p++ {
				add(p)
			}
		}
	}
	return ports, nil
}

// parsePort parses a decimal port number in 1–65535.
func parsePort(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("missing port number")
	}
	if strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a port number", s)
	}
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("port %s is out of range 1-65535", s)
	}
	return p, nil
}
