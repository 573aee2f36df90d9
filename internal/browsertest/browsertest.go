// Package browsertest starts headless Chromium for the browser tests of
// the web UI, through chromedp.
//
// Tests call New and get a browser tab's context. Outside CI, a machine
// without Chromium skips the test with a clear message; when
// PARLEY_TEST_BROWSER is set (.ci/run sets it) a missing browser fails the
// test instead, so browser tests never silently skip in CI.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Timeout bounds one test's whole browser session, so a hung page fails
// the test instead of the package timeout.
const Timeout = 2 * time.Minute

// ExecPath finds the Chromium binary: $PARLEY_CHROMIUM, then the usual
// names on PATH. It returns "" when there is none.
func ExecPath() string {
	if p := os.Getenv("PARLEY_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Browser is one headless Chromium process for a test. Tab opens pages
// in it; each tab has its own context.
type Browser struct {
	t     testing.TB
	alloc context.Context
	first context.Context // the first tab; later tabs share its browser

	logs *logBook
}

// New starts Chromium for t and returns its first tab's context. The
// browser stops when the test ends. extra adds Chromium options (FakeMedia).
func New(t testing.TB, extra ...chromedp.ExecAllocatorOption) (*Browser, context.Context) {
	t.Helper()
	path := ExecPath()
	if path == "" {
		if os.Getenv("PARLEY_TEST_BROWSER") != "" {
			t.Fatal("browsertest: PARLEY_TEST_BROWSER is set but no Chromium was found (apt-get install -y chromium)")
		}
		t.Skip("browsertest: no Chromium found; install it (apt-get install -y chromium) or set PARLEY_CHROMIUM")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
		// Chromium's own connections are refused on a closed network;
		// switch them off so they neither slow nor disturb the tests.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
	}
	opts = append(opts, extra...)
	base, cancelBase := context.WithTimeout(context.Background(), Timeout)
	alloc, cancelAlloc := chromedp.NewExecAllocator(base, opts...)
	b := &Browser{t: t, alloc: alloc, logs: &logBook{}}
	tab := b.Tab()
	t.Cleanup(func() {
		cancelAlloc()
		cancelBase()
		if t.Failed() {
			if s := b.logs.String(); s != "" {
				t.Logf("browser console:\n%s", s)
			}
		}
	})
	return b, tab
}

// FakeMedia gives pages a fake camera and microphone (a test pattern and
// a tone) and grants them without asking, for tests of calls.
var FakeMedia = []chromedp.ExecAllocatorOption{
	chromedp.Flag("use-fake-device-for-media-stream", true),
	chromedp.Flag("use-fake-ui-for-media-stream", true),
	chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
}

// Tab opens a new tab (a new target in the same browser) and returns its
// context. The first call starts the browser.
func (b *Browser) Tab() context.Context {
	b.t.Helper()
	listen := chromedp.WithListener(func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var parts []string
			for _, a := range ev.Args {
				if len(a.Value) > 0 {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			b.logs.add(string(ev.Type) + ": " + strings.Join(parts, " "))
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				msg += " " + d.Exception.Description
			}
			b.logs.add(fmt.Sprintf("exception: %s (%s:%d)", msg, d.URL, d.LineNumber+1))
		}
	})
	var ctx context.Context
	if b.first == nil {
		ctx, _ = chromedp.NewContext(b.alloc, listen)
		b.first = ctx
	} else {
		ctx, _ = chromedp.NewContext(b.first, listen)
	}
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("browsertest: start Chromium: %v", err)
	}
	return ctx
}

// Console returns everything the pages printed so far, one entry a line.
func (b *Browser) Console() string { return b.logs.String() }

// logBook is a console log shared by the tabs' event listeners, which run
// on chromedp's goroutines.
type logBook struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBook) add(s string) {
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
}

func (l *logBook) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
