package progress

import (
	"math"
	"testing"
	"time"
)

func TestHumanBytes(t *testing.T) {
	tests := []struct {
		name string
		in   int64
		want string
	}{
		{"zero", 0, "0 B"},
		{"one", 1, "1 B"},
		{"under a KiB", 1023, "1023 B"},
		{"one KiB", 1024, "1.0 KiB"},
		{"KiB and a half", 1536, "1.5 KiB"},
		{"100 KiB drops the decimal", 100 << 10, "100 KiB"},
		{"rounds up to the next unit", 1<<20 - 1, "1.0 MiB"},
		{"12.3 MiB", 12897485, "12.3 MiB"},
		{"just under 100 rounds to 100", 104815903, "100 MiB"},
		{"268 MiB", 268 << 20, "268 MiB"},
		{"1.1 GiB", 1180250522, "1.1 GiB"},
		{"TiB", 5 << 40, "5.0 TiB"},
		{"largest", math.MaxInt64, "8.0 EiB"},
		{"negative", -2048, "-2.0 KiB"},
		{"most negative", math.MinInt64, "-8.0 EiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HumanBytes(tt.in); got != tt.want {
				t.Errorf("HumanBytes(%d) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestHumanRate(t *testing.T) {
	tests := []struct {
		name string
		n    int64
		d    time.Duration
		want string
	}{
		{"MiB/s", 12 << 20, 1200 * time.Millisecond, "10.0 MiB/s"},
		{"slow", 1, time.Minute, "0 B/s"},
		{"no time", 100, 0, "-"},
		{"negative time", 100, -time.Second, "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HumanRate(tt.n, tt.d); got != tt.want {
				t.Errorf("HumanRate(%d, %v) = %q; want %q", tt.n, tt.d, got, tt.want)
			}
		})
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want string
	}{
		{"zero", 0, "0.0s"},
		{"tenths", 1234 * time.Millisecond, "1.2s"},
		{"seconds", 42400 * time.Millisecond, "42s"},
		{"minutes", 125 * time.Second, "2m5s"},
		{"hours", time.Hour + 5*time.Second, "1h0m5s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HumanDuration(tt.in); got != tt.want {
				t.Errorf("HumanDuration(%v) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "report 2024.pdf", "report 2024.pdf"},
		{"unicode", "résumé – 日本.txt", "résumé – 日本.txt"},
		{"escape", "a\x1b[31mb", `"a\x1b[31mb"`},
		{"newline", "a\nb", `"a\nb"`},
		{"bidi override", "a\u202eb", `"a\u202eb"`},
		{"invalid utf-8", "a\xffb", `"a\xffb"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Printable(tt.in); got != tt.want {
				t.Errorf("Printable(%q) = %s; want %s", tt.in, got, tt.want)
			}
		})
	}
}
