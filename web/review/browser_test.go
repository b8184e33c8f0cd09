package review_test

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium is the browser the package's tests share (nil without one).
var chromium context.Context

var saveShots = flag.Bool("screenshots", false, "save screenshots of the review pages under docs/screenshots")

const chromiumBin = "/usr/bin/chromium"

func TestMain(m *testing.M) {
	flag.Parse()
	stop := func() {}
	if _, err := exec.LookPath(chromiumBin); err == nil {
		profile, err := os.MkdirTemp("", "review-chromium-")
		if err != nil {
			panic(err)
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromiumBin),
			chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(profile), chromedp.WindowSize(1280, 900),
			chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("hide-scrollbars", true),
			chromedp.Flag("disable-component-update", true))
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel := chromedp.NewContext(alloc)
		chromium = ctx
		stop = func() { cancel(); cancelAlloc(); os.RemoveAll(profile) }
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

// browse opens a tab of the shared browser for one test.
func browse(t *testing.T) context.Context {
	t.Helper()
	if chromium == nil {
		if testing.Short() {
			t.Skip("no Chromium at " + chromiumBin)
		}
		t.Fatal("no Chromium at " + chromiumBin + " (apt-get install -y chromium; scripts/test does)")
	}
	ctx, cancel := chromedp.NewContext(chromium)
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelT)
	return ctx
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// value runs an action that gives a value.
func value[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// capture takes a screenshot of the page (at most 1,800 pixels tall) and,
// with -screenshots, saves it as docs/screenshots/name.png.
func capture(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	h := value(t, ctx, "page height", chromedp.Evaluate[int64](`document.documentElement.scrollHeight`))
	run(t, ctx, "viewport", chromedp.EmulateViewport(1280, min(h, 1800)))
	png := value(t, ctx, "screenshot "+name, chromedp.CaptureScreenshot())
	run(t, ctx, "viewport", chromedp.EmulateViewport(1280, 900))
	if len(png) < 1000 {
		t.Errorf("screenshot %s: %d bytes", name, len(png))
	}
	if *saveShots {
		dir := filepath.Join("..", "..", "docs", "screenshots")
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return value(t, ctx, "text of "+sel, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
}

func login(t *testing.T, ctx context.Context, base, user string) {
	t.Helper()
	run(t, ctx, "sign in as "+user,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), user),
		chromedp.SendKeys(chromedp.CSS(`#password`), password),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav[aria-label=Workbench]`)))
}

// TestBrowser: the analyst signs in to the queue, narrows it with the
// keyboard-usable filters, opens a deficiency's chart and note; the
// director reads the delinquency report; a clinician picks their list.
func TestBrowser(t *testing.T) {
	e := newEnv(t, 60)
	ctx := browse(t)
	base := e.srv.URL

	login(t, ctx, base, "rita")
	loc := value(t, ctx, "location", chromedp.Location())
	if !strings.HasSuffix(loc, "/review/queue") {
		t.Fatalf("the analyst landed on %s", loc)
	}
	run(t, ctx, "queue", chromedp.WaitVisible(chromedp.CSS(`#deficiencies`)))
	capture(t, ctx, "review-queue")

	// Only the unsigned notes, chosen from the list and submitted.
	run(t, ctx, "filter",
		chromedp.SetValue(chromedp.CSS(`#f-kind`), "unsigned"),
		chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)),
		chromedp.WaitReady(chromedp.CSS(`#f-kind option[value="unsigned"][selected]`)))
	filtered := value(t, ctx, "location", chromedp.Location())
	if got := textOf(t, ctx, "#deficiencies tbody"); strings.Contains(got, "missing-cosignature") || !strings.Contains(got, "unsigned") {
		t.Errorf("the filtered queue lists:\n%s", got)
	}

	// The deficiency's note, then its chart.
	noteHref := value(t, ctx, "note link", chromedp.AttributeValue(chromedp.CSS(`#deficiencies a[href*="/documents/"]`), "href")).Value
	run(t, ctx, "open the note", chromedp.Click(chromedp.CSS(`#deficiencies a[href*="/documents/"]`)), chromedp.WaitVisible(chromedp.CSS(`pre.note-text`)))
	run(t, ctx, "back to the queue", chromedp.Navigate(filtered), chromedp.WaitVisible(chromedp.CSS(`#deficiencies`)))
	run(t, ctx, "open the chart",
		chromedp.Click(chromedp.CSS(`#deficiencies td a[href^="/patients/"]:not([href*="/documents/"])`)),
		chromedp.WaitVisible(chromedp.CSS(`#documents`)))
	loc = value(t, ctx, "location", chromedp.Location())
	if !strings.HasPrefix(noteHref, strings.TrimPrefix(loc, base)) {
		t.Errorf("the chart opened (%s) is not the note's patient's (%s)", loc, noteHref)
	}
	capture(t, ctx, "review-chart")

	// Keyboard: from the skip link into the queue's first filter.
	run(t, ctx, "queue again", chromedp.Navigate(base+"/review/queue"), chromedp.WaitVisible(chromedp.CSS(`#deficiencies`)))
	run(t, ctx, "tab", chromedp.KeyEvent("\t"))
	focused := value(t, ctx, "focus", chromedp.Evaluate[string](`document.activeElement.className`))
	if focused != "skip" {
		t.Errorf("the first Tab stop is %q, want the skip link", focused)
	}

	// The director's report.
	run(t, ctx, "sign out", chromedp.Click(chromedp.CSS(`.who button`)), chromedp.WaitVisible(chromedp.CSS(`#username`)))
	login(t, ctx, base, "dana")
	run(t, ctx, "report",
		chromedp.Navigate(base+"/review/report?from=2022-10&to=2025-09"),
		chromedp.WaitVisible(chromedp.CSS(`#months`)))
	if got := textOf(t, ctx, "#months tbody"); !strings.Contains(got, "2025-09") {
		t.Errorf("the report's months:\n%s", got)
	}
	capture(t, ctx, "review-report")
	run(t, ctx, "dashboard", chromedp.Navigate(base+"/dashboard"), chromedp.WaitVisible(chromedp.CSS(`#delinquent-records`)))

	// A clinician chooses their own list.
	run(t, ctx, "sign out", chromedp.Click(chromedp.CSS(`.who button`)), chromedp.WaitVisible(chromedp.CSS(`#username`)))
	login(t, ctx, base, "carl")
	run(t, ctx, "clinicians", chromedp.WaitVisible(chromedp.CSS(`#f-owner`)))
	first := value(t, ctx, "first clinician", chromedp.Evaluate[string](`document.querySelector('#f-owner option:nth-child(2)').value`))
	run(t, ctx, "choose",
		chromedp.SetValue(chromedp.CSS(`#f-owner`), first),
		chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#list-count`)))
	if got := textOf(t, ctx, "#list-count"); !strings.Contains(got, "open deficienc") {
		t.Errorf("the clinician's list says %q", got)
	}
	capture(t, ctx, "review-clinician")
}
