package ports

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"
)

// WriteText writes reports for a person to read: per port a line with the port, its status
// (LISTENING, GHOST or FREE) and what IANA registered it for, then one indented line per listener.
// Unprintable characters (a process chooses its own name) are shown as '?'.
func WriteText(w io.Writer, reports []Report) error {
	portWidth := 0
	for _, r := range reports {
		portWidth = max(portWidth, len(strconv.Itoa(r.Port)))
	}
	var b strings.Builder
	for i, r := range reports {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%-*d  %-9s  %s\n", portWidth, r.Port, strings.ToUpper(r.Status), printable(ianaSummary(r.Services)))
		if len(r.Listeners) == 0 {
			continue
		}
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		indent := strings.Repeat(" ", portWidth+2)
		for _, l := range r.Listeners {
			proc := "-"
			if l.PID != 0 {
				proc = "pid " + strconv.Itoa(l.PID) + " " + printable(l.Process)
			}
			note := ""
			if l.Note != "" {
				note = "(" + l.Note + ")"
			}
			fmt.Fprintf(tw, "%s%s\t%s\t%s\tuser %s\t%s\n", indent, l.Proto, l.Addr, proc, printable(l.User), note)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	// tabwriter pads the empty last cell too; trailing blanks only make diffs noisy.
	var out strings.Builder
	for line := range strings.Lines(b.String()) {
		out.WriteString(strings.TrimRight(line, " \n"))
		out.WriteByte('\n')
	}
	_, err := io.WriteString(w, out.String())
	return err
}

// ianaSummary describes a port's IANA entries on one line, merging protocols that share an
// entry: "ssh (tcp/udp): The Secure Shell (SSH) Protocol".
func ianaSummary(services []Service) string {
	if len(services) == 0 {
		return "not registered with IANA"
	}
	type entry struct{ name, desc string }
	var order []entry
	protos := make(map[entry][]string)
	for _, s := range services {
		e := entry{s.Name, s.Description}
		if _, ok := protos[e]; !ok {
			order = append(order, e)
		}
		protos[e] = append(protos[e], s.Proto)
	}
	parts := make([]string, 0, len(order))
	for _, e := range order {
		p := "(" + strings.Join(protos[e], "/") + ")"
		switch {
		case e.name == "":
			parts = append(parts, "IANA: "+e.desc+" "+p)
		case e.desc == "":
			parts = append(parts, e.name+" "+p)
		default:
			parts = append(parts, e.name+" "+p+": "+e.desc)
		}
	}
	return strings.Join(parts, "; ")
}

// printable replaces control and other unprintable characters, so a process name cannot drive
// the terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) {
			return '?'
		}
		return r
	}, s)
}

// WriteJSON writes reports as indented JSON for scripts: {"ports": [Report…]}. Field names are
// snake_case and stable; every field is always present (pid 0 and an empty process mean the
// owner is not visible, and note says why), and lists are [] rather than null.
func WriteJSON(w io.Writer, reports []Report) error {
	out := struct {
		Ports []Report `json:"ports"`
	}{Ports: make([]Report, len(reports))}
	for i, r := range reports {
		if r.Services == nil {
			r.Services = []Service{}
		}
		if r.Listeners == nil {
			r.Listeners = []Listener{}
		}
		out.Ports[i] = r
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write ports json: %w", err)
	}
	return nil
}
