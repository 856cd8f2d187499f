package cli

import (
	"github.com/spf13/cobra"

	"github.com/buktu/buktu/internal/ports"
)

func (e *env) portsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "ports [PORT|LOW-HIGH]…",
		Short: "Show what listens on Timbuktu's ports (or any), and what IANA registered them for",
		Long: `Show, for each port, whether something listens on it (TCP and UDP, IPv4 and IPv6), which
process (pid, name, user) where the system lets us see, and what IANA registered the port for.
A registered port with nothing listening is a ghost port: its software is gone.

Without arguments: Timbuktu's four ports 1417-1420 and 407, the original Timbuktu port.`,
		Example: `  buktu ports
  buktu ports 22 443 5900
  buktu ports 1400-1430 --json`,
	}
	asJSON := c.Flags().Bool("json", false, "print JSON for scripts")
	c.RunE = func(c *cobra.Command, args []string) error {
		list, err := ports.ParsePortArgs(args)
		if err != nil {
			return &usageError{err}
		}
		reg, err := ports.LoadRegistry()
		if err != nil {
			return err
		}
		reports, err := ports.Scanner{Registry: reg}.Scan(list)
		if err != nil {
			return err
		}
		if *asJSON {
			return ports.WriteJSON(e.stdout, reports)
		}
		return ports.WriteText(e.stdout, reports)
	}
	return c
}
