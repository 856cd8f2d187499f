package host_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/buktu/buktu/internal/config"
	"github.com/buktu/buktu/internal/rfb"
)

// TestSilentFloodScreenPorts opens 200 TCP connections from 50 addresses to each screen
// port, which never send a byte: to the host they are VNC viewers waiting for it to speak.
// The host keeps at most max_unauthenticated of them, and the owner still logs in within a
// second on both ports, with a VNC viewer and in the console, several times.
func TestSilentFloodScreenPorts(t *testing.T) {
	t.Parallel()
	d := startDisplay(t, 320, 240)
	h := startScreenHostOn(t, d, "")
	lim := config.Defaults().Limits
	ports := []struct {
		name, addr string
		f          *flood
	}{{"control", h.Control, nil}, {"observe", h.Observe, nil}}
	for i := range ports {
		ports[i].f = silentFlood(t, ports[i].addr, floodConns, floodSources)
	}
	for _, p := range ports {
		poll(t, 10*time.Second, fmt.Sprintf("%s port: the silent connections held down to max_unauthenticated (%d); %d open",
			p.name, lim.MaxUnauthenticated, p.f.open()), func() bool { return p.f.open() <= lim.MaxUnauthenticated })
		t.Logf("%s port: %d of %d silent connections left open", p.name, p.f.open(), p.f.n)
	}

	// Each login on a connection of its own.
	tr := &http.Transport{TLSClientConfig: h.ScreenTLS(t), DisableKeepAlives: true}
	browser := &http.Client{Transport: tr, Timeout: screenWait}
	body := fmt.Sprintf(`{"account":"admin","password":%q}`, h.AdminPassword)
	for round := range 3 {
		for _, p := range ports {
			timed(t, fmt.Sprintf("round %d, %s port: VNC viewer login", round+1, p.name), func() error {
				v, err := tryViewer(t, h, p.addr, "admin", h.AdminPassword, rfb.ClientOptions{})
				if err != nil {
					return err
				}
				return v.Close()
			})
			timed(t, fmt.Sprintf("round %d, %s port: console login", round+1, p.name), func() error {
				resp, err := browser.Post("https://"+p.addr+"/api/v1/login", "application/json", strings.NewReader(body))
				if err != nil {
					return err
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("%s", resp.Status)
				}
				return nil
			})
		}
	}
	for _, p := range ports {
		if n := p.f.open(); n < lim.MaxUnauthenticated/2 {
			t.Fatalf("%s port: only %d silent connections were left when the logins ended: the flood was gone too soon to prove anything", p.name, n)
		}
	}
}
