package host_test

// The console's file panels in a real browser: Send to the inbox, and downloads from the
// exchange folder. See console_browser_test.go for the scene.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/buktu/buktu/internal/events"
)

// testSend sends a file with a note through the Send panel's file input: it lands complete in
// the account's inbox with the SHA-256 the page shows, beside the note.
func (sc *consoleScene) testSend(t *testing.T) {
	t.Parallel()
	src := filepath.Join(t.TempDir(), "figures.bin")
	want := writeRandom(t, src, 2<<20)
	sum := sha256.Sum256(want)
	const note = "the figures for Monday"

	tb := sc.b.open(t, sc.h.Control)
	tb.login("sender", "sender-password-1")
	tb.do("pick the file", chromedp.SetUploadFiles(chromedp.ID("send-files"), []string{src}))
	tb.waitJS("the Send button is ready", `!document.getElementById("send-submit").disabled`,
		`document.getElementById("send-summary").textContent`)
	tb.do("write a note and send",
		chromedp.SendKeys(chromedp.ID("send-note"), note),
		chromedp.Click(chromedp.ID("send-submit")))
	tb.waitJS("the page lists the stored file with its SHA-256", fmt.Sprintf(
		`document.querySelector('#send-result [data-name="figures.bin"] .sha256')?.textContent === %q`, hex.EncodeToString(sum[:])),
		`document.getElementById("send-result").textContent + " / " + document.getElementById("error").textContent`)
	tb.screenshot("files.png", "files-panel")

	inbox := filepath.Join(sc.h.DataDir, "inbox", "sender")
	sameFile(t, filepath.Join(inbox, "figures.bin"), want)
	entries, err := os.ReadDir(inbox)
	if err != nil {
		t.Fatal(err)
	}
	var names, notes []string
	for _, e := range entries {
		names = append(names, e.Name())
		if strings.HasPrefix(e.Name(), "note-") && strings.HasSuffix(e.Name(), ".txt") {
			notes = append(notes, e.Name())
		}
	}
	if len(entries) != 2 || len(notes) != 1 || !slices.Contains(names, "figures.bin") {
		t.Fatalf("the inbox holds %q; want figures.bin and one note", names)
	}
	b, err := os.ReadFile(filepath.Join(inbox, notes[0]))
	if err != nil || !bytes.Contains(b, []byte(note)) || !bytes.Contains(b, []byte("figures.bin")) {
		t.Errorf("the stored note: %q, %v; want the note's text and the file's name", b, err)
	}
	if got := tb.text("send-result"); !strings.Contains(got, notes[0]) {
		t.Errorf("#send-result = %q; want it to name the stored note %s", got, notes[0])
	}
	var logged bool
	for _, r := range sc.h.Records(t, "--kind", events.KindFile, "--account", "sender") {
		logged = logged || r.SHA256 == hex.EncodeToString(sum[:]) && r.Size == int64(len(want))
	}
	if !logged {
		t.Errorf("the activity log has no record of figures.bin with its size and SHA-256")
	}
}

// testExchange puts a file into the host's exchange folder: the page of an account that may
// only read lists it, offers no upload, and downloads it byte for byte.
func (sc *consoleScene) testExchange(t *testing.T) {
	t.Parallel()
	want := writeRandom(t, filepath.Join(sc.h.DataDir, "exchange", "plan.bin"), 1<<20)

	tb := sc.b.open(t, sc.h.Control)
	tb.login("reader", "reader-password-1")
	row := `#exchange-list [data-name="plan.bin"]`
	tb.waitJS("the exchange folder lists plan.bin", fmt.Sprintf("document.querySelector(%q) !== null", row),
		`document.getElementById("exchange-list").textContent + " / " + document.getElementById("error").textContent`)
	if tb.visible("exchange-upload-label") || tb.visible("exchange-mkdir") {
		t.Errorf("the page offers upload or a new folder to an account that may only read")
	}
	tb.screenshot("exchange.png", "exchange-panel")

	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(tb.ctx, screenWait)
	defer cancel()
	progress := chromedp.BrowserEvents(ctx, browser.DownloadProgress) // listens from here on
	_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior:         browser.SetDownloadBehaviorBehaviorAllowAndName,
		BrowserContextID: chromedp.FromContext(tb.ctx).BrowserContextID,
		DownloadPath:     dir,
		EventsEnabled:    new(true),
	})
	if err != nil {
		t.Fatalf("set the download folder: %v", err)
	}
	tb.do("download plan.bin", chromedp.Click(chromedp.CSS(row+" a.name")))
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("the download of plan.bin did not complete: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatalf("the browser cancelled the download of plan.bin")
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			sameFile(t, filepath.Join(dir, ev.GUID), want)
			return
		}
	}
}
