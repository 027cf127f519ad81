// Package browser starts a headless Chromium for the tests of the HTML
// results page, so that what they check is what a reader's browser does.
package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// Path finds a Chromium or Chrome binary; MUXBENCH_CHROME overrides.
func Path() (string, error) {
	if p := os.Getenv("MUXBENCH_CHROME"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium or Chrome found (install Debian's chromium, or set MUXBENCH_CHROME)")
}

// Tab is one browser tab and the console errors it has logged.
type Tab struct {
	Ctx  context.Context
	mu   sync.Mutex
	errs []string
}

// Errors returns the console errors and uncaught exceptions seen so far.
func (p *Tab) Errors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errs...)
}

// Open starts a headless browser, loads url in a tab and returns it; the
// browser ends with t. Without a browser the test is skipped, except under
// CI (CI set), where it fails: CI installs one, so its absence there is a
// broken setup, not a reason to skip.
func Open(t testing.TB, url string) *Tab {
	t.Helper()
	path, err := Path()
	if err != nil {
		skipOrFail(t, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // root in CI containers
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		// The machine has no network: keep the browser from trying.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.WindowSize(1366, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	tab := &Tab{Ctx: ctx}
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		skipOrFail(t, fmt.Errorf("%s does not start: %w", path, err))
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == "error" || m.Type == "assert" {
				tab.mu.Lock()
				tab.errs = append(tab.errs, m.String()+" "+m.URL)
				tab.mu.Unlock()
			}
		}
	}()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("loading %s: %v", url, err)
	}
	return tab
}

func skipOrFail(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI must run the browser test: %v", err)
	}
	t.Skipf("skipping the browser test: %v", err)
}

// Eval runs a JavaScript expression in the page and decodes its value.
func Eval[T any](tab *Tab, js string) (T, error) {
	return chromedp.Run(tab.Ctx, chromedp.Evaluate[T](js))
}

// center scrolls the first element matching sel into view and returns the
// centre of its box in the viewport.
func (p *Tab) center(sel string) (x, y float64, err error) {
	js := fmt.Sprintf(`(function(){var e=document.querySelector(%q);if(!e)return null;e.scrollIntoView({block:"center"});var r=e.getBoundingClientRect();return [r.left+r.width/2,r.top+r.height/2];})()`, sel)
	box, err := Eval[[]float64](p, js)
	if err != nil {
		return 0, 0, err
	}
	if len(box) != 2 {
		return 0, 0, fmt.Errorf("nothing matches %s", sel)
	}
	return box[0], box[1], nil
}

// Hover moves the mouse over the first element matching sel, as a reader
// would: the page sees real mouse events.
func (p *Tab) Hover(sel string) error {
	x, y, err := p.center(sel)
	if err != nil {
		return err
	}
	return chromedp.Do(p.Ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, y))
}

// Click presses and releases the left button over the first element
// matching sel.
func (p *Tab) Click(sel string) error {
	x, y, err := p.center(sel)
	if err != nil {
		return err
	}
	return chromedp.Do(p.Ctx, chromedp.MouseClickXY(x, y))
}

// Print switches the tab to print media, as printing to PDF does, and
// returns the PDF the browser prints.
func (p *Tab) Print() ([]byte, error) {
	if _, err := chromedp.Call(p.Ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		return nil, err
	}
	return chromedp.Run(p.Ctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4), chromedp.PDFPrintBackground()))
}
