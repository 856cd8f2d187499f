package host_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/buktu/buktu/internal/events"
	"github.com/buktu/buktu/internal/testenv"
	webui "github.com/buktu/buktu/web"
)

// TestConsoleFullDisk uploads, in a real browser, a file far larger than the disk the inbox
// and the exchange folder lie on, through the Send panel and the exchange's upload: the page
// shows the host's answer, that it is out of disk space (507), rather than a dropped
// connection, and the disk is left empty. The host answers once it has read the rest of the
// body: Go's server, answering early, would close a connection with more than 256 KiB unread,
// and the browser, still sending, would see only the reset.
func TestConsoleFullDisk(t *testing.T) {
	t.Parallel()
	if !webui.Built() {
		t.Fatal("the console is not built into this binary (web/dist is empty): run make web")
	}
	testenv.Require(t, "chromium")
	disk := t.TempDir()
	mountSmallDisk(t, disk, smallDisk)
	inbox, exchange := filepath.Join(disk, "inbox"), filepath.Join(disk, "exchange")
	d := startDisplay(t, 640, 480)
	h := startScreenHostOn(t, d, fmt.Sprintf("[folders]\ninbox = %q\nexchange = %q\n", inbox, exchange))
	h.AddAccount(t, "filler", "filler-password-1", everything...)
	big := filepath.Join(t.TempDir(), "big.bin")
	writeRandom(t, big, 12*smallDisk)

	tb := startChromium(t).open(t, h.Control)
	tb.login("filler", "filler-password-1")
	errorText := `document.getElementById("error-text").textContent`

	tb.do("pick the file to send", chromedp.SetUploadFiles(chromedp.ID("send-files"), []string{big}))
	tb.waitJS("the Send button is ready", `!document.getElementById("send-submit").disabled`,
		`document.getElementById("send-summary").textContent`)
	tb.do("send it", chromedp.Click(chromedp.ID("send-submit")))
	tb.waitJS("the page says the host is out of space", fmt.Sprintf(`%s === "send: %s"`, errorText, outOfSpace), errorText)
	roomLeft(t, inbox)

	tb.do("upload to the exchange", chromedp.SetUploadFiles(chromedp.ID("exchange-upload"), []string{big}))
	tb.waitJS("the page says the host is out of space", fmt.Sprintf(`%s === "upload big.bin: %s"`, errorText, outOfSpace), errorText)
	roomLeft(t, exchange)

	// One record each: a browser whose connection is reset while it sends may send the
	// request again, and so it did before the host read the rest of the body.
	recs := h.Records(t, "--kind", events.KindFile, "--account", "filler")
	var failed int
	for _, r := range recs {
		if r.Outcome == events.OutcomeFailed && strings.Contains(r.Reason, outOfSpace) {
			failed++
		}
	}
	if failed != 2 || len(recs) != 2 {
		t.Errorf("the activity log has %d file records, %d of them failed uploads that say the disk was full; want 2 of 2:\n%+v", len(recs), failed, recs)
	}
}
