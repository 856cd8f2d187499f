package cli

import (
	"crypto/tls"
	"errors"
	"fmt"
	"image/png"
	"os"

	"github.com/spf13/cobra"

	"github.com/buktu/buktu/internal/identity"
	"github.com/buktu/buktu/internal/rfb"
	"github.com/buktu/buktu/internal/transfer"
)

// Default ports of the screen services.
const (
	controlPort = 1417
	observePort = 1418
)

func (e *env) snapshotCmd() *cobra.Command {
	var f clientFlags
	c := &cobra.Command{
		Use:   "snapshot [USER@]HOST[:PORT] -o FILE.png",
		Short: "Save a picture of a host's screen (Observe port 1418 by default)",
		Long: `Connect to a host's screen as a viewer, take one full frame and save it as PNG. It logs in
with an account inside TLS (VeNCrypt X509Plain); the host's certificate is pinned on first use,
as 'buktu id' shows it. With --vnc-password-env it uses legacy VNC authentication instead.`,
		Example: "  buktu snapshot alice@example.com -o screen.png\n  buktu snapshot alice@example.com:1417 -o screen.png",
		Args:    cobra.ExactArgs(1),
	}
	f.add(c, false)
	out := c.Flags().StringP("output", "o", "snapshot.png", "the PNG file to write")
	vncEnv := c.Flags().String("vnc-password-env", "", "log in with legacy VNC authentication, the password in this environment variable")
	c.RunE = func(c *cobra.Command, args []string) error {
		t, err := transfer.ParseTarget(args[0], observePort, false)
		if err != nil {
			return &usageError{err}
		}
		o := rfb.ClientOptions{User: t.User, TLS: e.pinnedTLS(t.Addr(), knownHostsFile(f.knownHosts)+"-tls")}
		if *vncEnv != "" {
			o.VNCPassword = os.Getenv(*vncEnv)
			if o.VNCPassword == "" {
				return usagef("environment variable %s is empty", *vncEnv)
			}
		} else {
			src := passwordSource(t.String(), &f)
			if src == nil {
				return withHint(errors.New("no password"), "set BUKTU_PASSWORD, or run on a terminal")
			}
			pw, err := src()
			if err != nil {
				return err
			}
			o.Password = pw
		}
		cl, err := rfb.Dial(e.ctx, t.Addr(), o)
		if err != nil {
			return err
		}
		defer cl.Close()
		if err := cl.Request(false); err != nil {
			return err
		}
		if err := cl.ReadUpdate(nil); err != nil {
			return fmt.Errorf("read the screen: %w", err)
		}
		file, err := os.Create(*out)
		if err != nil {
			return err
		}
		if err := png.Encode(file, cl.Image()); err != nil {
			file.Close()
			return err
		}
		if err := file.Close(); err != nil {
			return err
		}
		w, h := cl.Size()
		fmt.Fprintf(e.stderr, "saved %dx%d screen of %q to %s\n", w, h, cl.Name(), *out)
		return nil
	}
	return c
}

// pinnedTLS checks a host's certificate by the fingerprint pinned for addr in file, pinning
// it on first use, as the SSH side does with host keys.
func (e *env) pinnedTLS(addr, file string) *tls.Config {
	p := &identity.Pinner{Addr: addr, File: file, Accept: func(fp string) bool {
		fmt.Fprintf(e.stderr, "buktu: first connection to %s; its certificate is %s (now pinned)\n", addr, fp)
		return true
	}}
	c := p.Config()
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		err := p.Verify(cs)
		if errors.Is(err, identity.ErrCertChanged) {
			return withHint(err, "check it with 'buktu id' on the host; if it was replaced deliberately, remove its line from "+file)
		}
		return err
	}
	return c
}
