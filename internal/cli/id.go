package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/buktu/buktu/internal/identity"
)

func (e *env) idCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "id",
		Short: "Print the host's key fingerprints, to check a client's first-connection prompt",
		Args:  cobra.NoArgs,
	}
	data := dataFlag(c)
	c.RunE = func(c *cobra.Command, _ []string) error {
		dir, err := dataDir(*data)
		if err != nil {
			return err
		}
		id, err := identity.Load(dir)
		if err != nil {
			return withHint(err, "run 'buktu serve' once to create the host's identity")
		}
		fmt.Fprintf(e.stdout, "ssh host key    %s\n", id.SSHFingerprint())
		fmt.Fprintf(e.stdout, "tls certificate %s\n", id.TLSFingerprint())
		return nil
	}
	return c
}
