package events

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Format writes r as one readable line in local time, with aligned columns:
//
//	2026-11-25 22:41:03  login          ok      alice         send      127.0.0.1:5555         password
//	2026-11-25 22:41:09  file           ok      alice         send      127.0.0.1:5555         upload  report.pdf  1.2 MiB  sha256:ab12cd34ef56…  3.1s
//
// Empty columns show "-". Text that came from a peer (names, paths, reasons) is quoted with
// escapes when it holds spaces or characters a terminal would interpret.
func Format(w io.Writer, r Record) error {
	_, err := w.Write(appendText(nil, r, time.Local))
	return err
}

// appendText appends r formatted for people, with times in loc, and a newline.
func appendText(b []byte, r Record, loc *time.Location) []byte {
	b = r.Time.In(loc).AppendFormat(b, "2006-01-02 15:04:05")
	b = column(b, r.Kind, 13)
	b = column(b, r.Outcome, 6)
	b = column(b, r.Account, 12)
	b = column(b, r.Service, 8)
	b = column(b, r.Remote, 21)
	var more []string
	add := func(s string) {
		if s != "" {
			more = append(more, s)
		}
	}
	add(safe(r.Method))
	add(safe(r.Privilege))
	add(safe(r.Action))
	add(safe(r.Path))
	if r.Size != 0 || r.Kind == KindFile {
		add(humanSize(r.Size))
	}
	if r.SHA256 != "" {
		add("sha256:" + safe(short(r.SHA256)))
	}
	if r.DurationMS != 0 {
		add(humanDuration(r.Duration()))
	}
	if r.Session != "" {
		add("session=" + safe(r.Session))
	}
	if r.Count > 0 {
		add(fmt.Sprintf("count=%d", r.Count))
		if !r.First.IsZero() {
			add("first=" + clock(r.First, r.Time, loc))
		}
		if !r.Last.IsZero() {
			add("last=" + clock(r.Last, r.Time, loc))
		}
	}
	if len(r.Accounts) > 0 {
		names := make([]string, len(r.Accounts))
		for i, a := range r.Accounts {
			names[i] = listed(a)
		}
		add("accounts=" + strings.Join(names, ","))
	}
	if r.OtherAccounts > 0 {
		add(fmt.Sprintf("other_accounts=%d", r.OtherAccounts))
	}
	if len(r.Reasons) > 1 || len(r.Reasons) == 1 && r.Reasons[r.Reason] == 0 {
		var counts []string
		for _, k := range slices.Sorted(maps.Keys(r.Reasons)) {
			counts = append(counts, fmt.Sprintf("%s=%d", listed(k), r.Reasons[k]))
		}
		add("reasons=" + strings.Join(counts, ","))
	}
	if r.Reason != "" {
		add(strconv.Quote(r.Reason))
	}
	// Trailing padding only makes lines harder to diff: columns end where the text ends.
	for _, s := range more {
		b = append(b, "  "...)
		b = append(b, s...)
	}
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return append(b, '\n')
}

// column appends two spaces and s (or "-"), padded to width.
func column(b []byte, s string, width int) []byte {
	s = safe(s)
	if s == "" {
		s = "-"
	}
	b = append(b, "  "...)
	b = append(b, s...)
	for n := utf8.RuneCountInString(s); n < width; n++ {
		b = append(b, ' ')
	}
	return b
}

// safe returns s as it is when it prints as one plain word, and quoted with Go escapes when it
// holds spaces, quotes, control or format characters (such as terminal escapes or bidi
// overrides) or invalid UTF-8, so a peer cannot forge or hide columns.
func safe(s string) string {
	for _, c := range s {
		if c == utf8.RuneError || c == '"' || c == '\\' || !unicode.IsGraphic(c) || unicode.IsSpace(c) {
			return strconv.Quote(s)
		}
	}
	return s
}

// listed returns s as safe does, quoted also when it holds a comma or '=', so that it reads as
// one item of a list of names or counts.
func listed(s string) string {
	if q := safe(s); q != s || strings.ContainsAny(s, ",=") || s == "" {
		return strconv.Quote(s)
	}
	return s
}

// clock formats t in loc as a time of day, with the date too when it is not the date of ref.
func clock(t, ref time.Time, loc *time.Location) string {
	t, ref = t.In(loc), ref.In(loc)
	if y, m, d := t.Date(); ref.Year() == y && ref.Month() == m && ref.Day() == d {
		return t.Format(time.TimeOnly)
	}
	return t.Format("2006-01-02T15:04:05")
}

// short abbreviates a hash to 12 digits and an ellipsis.
func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

// humanSize formats n bytes with binary units: "512 B", "1.2 MiB".
func humanSize(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	const units = "KMGTPE"
	v, i := float64(n)/1024, 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, units[i])
}

// humanDuration formats d as "250ms", "3.1s" or "1h2m3s".
func humanDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	default:
		return d.Round(time.Second).String()
	}
}
