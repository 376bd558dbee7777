package report

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/superalign/superalign/internal/testenv"
)

// openInBrowser opens the HTML file in headless Chromium (window width ×
// 1400) and waits until the element with id waitID is visible; it returns
// the page's context, with a timeout for the test's further steps. Skips
// like testenv.Chromium when no browser can be had.
func openInBrowser(t *testing.T, file string, width int, waitID string) context.Context {
	t.Helper()
	exe := testenv.Chromium(t)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe), chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(width, 1400))
	t.Cleanup(cancelA)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(cancelC)
	// The first Do starts the browser and must not carry the timeout.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelT)
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+file), chromedp.WaitVisible(chromedp.ID(waitID))); err != nil {
		t.Fatalf("open the report: %v", err)
	}
	return ctx
}
