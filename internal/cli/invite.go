package cli

import (
	"fmt"
	"net"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/buktu/buktu/internal/host"
	"github.com/buktu/buktu/internal/transfer"
)

// inviteViewerPort is where a listening VNC viewer waits for a host (vncviewer -listen).
const inviteViewerPort = 5500

func (e *env) inviteCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "invite HOST[:PORT]",
		Short: "Ask a helper in: the running host connects out to their listening viewer",
		Long: `Timbuktu's Invite: run on the host, it makes the running 'buktu serve' connect out to a VNC
viewer that listens (for example 'vncviewer -listen' on the helper's machine, port 5500 by
default) and show it the screen. The helper needs no account and no open port on your side:
your invitation is the permission. It is view-only unless you add --control.`,
		Example: "  buktu invite helper.example.com\n  buktu invite 10.0.0.7:5500 --control",
		Args:    cobra.ExactArgs(1),
	}
	data := dataFlag(c)
	control := c.Flags().Bool("control", false, "let the helper type and point, not only watch")
	c.RunE = func(c *cobra.Command, args []string) error {
		t, err := transfer.ParseTarget("x@"+args[0], inviteViewerPort, false)
		if err != nil {
			return &usageError{err}
		}
		dir, err := dataDir(*data)
		if err != nil {
			return err
		}
		addr := net.JoinHostPort(t.Host, strconv.Itoa(t.Port))
		if _, err := host.Call(e.ctx, dir, host.Request{Op: "invite", Addr: addr, Control: *control}); err != nil {
			return err
		}
		mode := "view only"
		if *control {
			mode = "with control"
		}
		fmt.Fprintf(e.stdout, "invited %s (%s)\n", addr, mode)
		return nil
	}
	return c
}
