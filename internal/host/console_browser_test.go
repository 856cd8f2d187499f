package host_test

// The console in a real browser: Debian's chromium, headless, driven with chromedp against a
// real host on an Xvfb the test owns, so the test knows the true pixels and can run an xterm
// that writes what is typed into it to a file. One host and one browser process serve every
// subtest; each subtest opens tabs in browser contexts of their own.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/buktu/buktu/internal/frame"
	"github.com/buktu/buktu/internal/screen/xvfb"
	"github.com/buktu/buktu/internal/testenv"
	webui "github.com/buktu/buktu/web"
)

// The console scene's display, and the marker the host shows on it: a solid block of one
// colour that is nowhere else on screen, clear of the xterm at the top left.
const (
	consoleW, consoleH = 960, 600
	markerColour       = 0x2A7FD4
)

// consoleScene is the shared world of the console tests: a display with an xterm and the
// marker, a host sharing it, and a browser.
type consoleScene struct {
	d      *xvfb.Server
	h      *testenv.Host
	b      *chromium
	marker frame.Rect // where the marker is
}

// TestConsoleInBrowser drives the console of a real host in Chromium: the screen's pixels,
// typing with and without the right to, Send, Exchange, chat, ask-for-permission, throttled
// logins, cookie flags and CSRF, with screenshots of the main views as test artefacts.
func TestConsoleInBrowser(t *testing.T) {
	t.Parallel()
	if !webui.Built() {
		t.Fatal("the console is not built into this binary (web/dist is empty): run make web")
	}
	testenv.Require(t, "chromium", "xterm")
	d := startDisplay(t, consoleW, consoleH)
	startXterm(t, d)
	x := dialX(t, d)
	marker := frame.Rect{X: 560, Y: 300, W: 160, H: 100}
	win := x.window(marker.X, marker.Y, marker.W, marker.H, 0)
	x.fill(win, markerColour, frame.Rect{W: marker.W, H: marker.H})
	x.sync()
	h := startScreenHostOn(t, d, "")
	for _, a := range []struct {
		name   string
		grants []string
	}{
		{"pilot", []string{"control"}},
		{"watcher", []string{"observe"}},
		{"asker", []string{"control=ask", "observe=deny"}},
		{"sender", []string{"send"}},
		{"reader", []string{"exchange:read"}},
	} {
		h.AddAccount(t, a.name, a.name+"-password-1", a.grants...)
	}
	sc := &consoleScene{d: d, h: h, b: startChromium(t), marker: marker}

	// These two type into the xterm, and run alone first: a controlling viewer that leaves
	// releases the keys held down on the host, which would break a word being typed.
	t.Run("typing", sc.testTyping)
	t.Run("held keys", sc.testHeldKeys)
	t.Run("screen", sc.testScreen)
	t.Run("ask", sc.testAsk)
	t.Run("send", sc.testSend)
	t.Run("exchange", sc.testExchange)
	t.Run("chat", sc.testChat)
	t.Run("cookies and csrf", sc.testCSRF)
	t.Run("quiet", sc.testQuiet)
	t.Run("throttled", sc.testThrottled)
}

// chromium is one headless Chromium; its tabs are children of ctx.
type chromium struct {
	ctx context.Context
}

// startChromium starts Chromium, stopped by t.Cleanup after every tab of the subtests.
func startChromium(t *testing.T) *chromium {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath("chromium"),
		chromedp.Headless,
		chromedp.NoSandbox, // the test may run as root, where the sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.IgnoreCertErrors, // the host's certificate is its own
		chromedp.WindowSize(1280, 800),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	// Without a timeout of its own: the first run's context is the browser's lifetime.
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		cancelAlloc() // waits for the browser process
	})
	return &chromium{ctx: ctx}
}

// tab is one page in a browser context of its own: its own cookies, storage and downloads.
// Cookies ignore the port, so two tabs of one context on the Control and Observe ports of one
// host would share (and overwrite) one session cookie.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string // https://127.0.0.1:PORT

	mu       sync.Mutex
	messages []chromedp.ConsoleMessage // guarded by mu: what the page wrote to its console
}

// open opens a tab on the console at addr (host:port) and waits for the login form; closed
// by t.Cleanup, which first logs what the page wrote to its console when the test failed.
func (b *chromium) open(t *testing.T, addr string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	tb := &tab{t: t, ctx: ctx, base: "https://" + addr}
	messages := chromedp.Console(ctx) // opens the tab and listens from its start
	var wg sync.WaitGroup
	wg.Go(func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.messages = append(tb.messages, m)
			tb.mu.Unlock()
		}
	})
	t.Cleanup(func() {
		if t.Failed() {
			tb.logConsole()
		}
		cancel()
		wg.Wait()
	})
	tb.do("open the console", chromedp.Navigate(tb.base+"/"), chromedp.WaitVisible(chromedp.ID("login-form")))
	// Only once the page's script has run does the form log in through the API: submitted
	// before, it would be an ordinary GET of the page with the password in the address.
	tb.waitJS("the page shows the login", `document.body.dataset.view === "login"`, "document.body.dataset.view")
	return tb
}

// logConsole shows what the page wrote to its console, to explain a failure.
func (tb *tab) logConsole() {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, m := range tb.messages {
		tb.t.Logf("browser console (%s): %s %s (%s:%d)", tb.base, m.Type, m.Text, m.URL, m.Line+1)
	}
}

// do runs browser steps within screenWait; a failure names the step.
func (tb *tab) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, screenWait)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("%s (%s): %v", step, tb.base, err)
	}
}

// eval returns the value of a JavaScript expression in tb's page; a promise is awaited.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, screenWait)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitJS waits until a JavaScript expression is true in the page, failing the test with what
// (and the value of show, when given) after screenWait.
func (tb *tab) waitJS(what, expr, show string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, screenWait)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond)))
	if err == nil {
		return
	}
	got := ""
	if show != "" {
		// Not eval: a page that broke down in between must not hide what we waited for.
		ctx, cancel := context.WithTimeout(tb.ctx, screenWait)
		defer cancel()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string]("String("+show+")"))
		got = fmt.Sprintf(", got %q (%v)", v, err)
	}
	tb.t.Fatalf("%s: not within %v (%s)%s", what, screenWait, expr, got)
}

// text returns the trimmed text of the element with id.
func (tb *tab) text(id string) string {
	return strings.TrimSpace(eval[string](tb, fmt.Sprintf("document.getElementById(%q).textContent", id)))
}

// visible reports whether the element with id is shown.
func (tb *tab) visible(id string) bool {
	return eval[bool](tb, fmt.Sprintf("document.getElementById(%q).checkVisibility()", id))
}

// submitLogin fills in the login form and submits it, without waiting for the answer.
func (tb *tab) submitLogin(account, password string) {
	tb.t.Helper()
	tb.do("log in as "+account,
		chromedp.SetValue(chromedp.ID("login-account"), account),
		chromedp.SetValue(chromedp.ID("login-password"), password),
		chromedp.Click(chromedp.ID("login-submit")))
}

// login logs in through the form and waits for the console.
func (tb *tab) login(account, password string) {
	tb.t.Helper()
	tb.submitLogin(account, password)
	tb.waitJS("the console after logging in as "+account, `document.body.dataset.view === "console"`,
		`document.getElementById("login-error").textContent`)
	if got := tb.text("whoami"); got != account {
		tb.t.Errorf("#whoami = %q; want %q", got, account)
	}
}

// screenshot keeps a picture of the page, or of the element with id, as a test artefact
// (go test -artifacts -outputdir DIR keeps them).
func (tb *tab) screenshot(name, id string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, screenWait)
	defer cancel()
	action := chromedp.CaptureScreenshot()
	if id != "" {
		action = chromedp.Screenshot(chromedp.ID(id))
	}
	png, err := chromedp.Run(ctx, action)
	if err != nil {
		tb.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(tb.t.ArtifactDir(), name), png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}
