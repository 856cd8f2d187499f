// Package ports answers "what is on this port?" for `buktu ports`: for each port it reports which
// sockets listen on it (TCP and UDP, IPv4 and IPv6), the process behind each (pid, name, user)
// where the OS lets us see it, and what IANA registered the port for. A port IANA registered with
// nothing listening is a ghost port.
//
// It owns the embedded IANA registry (iana-port-numbers.json, see IANA-LICENSE.md), the reading of
// /proc/net/{tcp,tcp6,udp,udp6} and /proc/PID/fd, port-argument parsing, and the text and JSON
// renderings. It leaves command wiring, flags and exit codes to internal/cli. Process lookup reads
// Linux's /proc; the proc root is a Scanner field so tests can point it at a fake tree.
package ports
