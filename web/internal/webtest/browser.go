// Package webtest holds what the workbench's tests share: headless
// Chromium (one browser per test binary, started by Run from TestMain, a tab
// per test, screenshots under docs/screenshots with -screenshots) and a
// signed-in HTTP client of a running server.
package webtest

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium is the browser the tests drive (Debian's package; scripts/test
// installs it).
const Chromium = "/usr/bin/chromium"

var saveShots = flag.Bool("screenshots", false, "save screenshots of the pages under docs/screenshots")

// browser is the test binary's shared browser, started by Run; nil when
// Chromium is missing.
var browser context.Context

// Run starts the shared browser, runs the tests and exits with their
// status. Call it from TestMain.
func Run(m *testing.M) {
	flag.Parse()
	stop := func() {}
	if _, err := exec.LookPath(Chromium); err == nil {
		profile, err := os.MkdirTemp("", "custodian-chromium-")
		if err != nil {
			panic(err)
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(Chromium),
			chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(profile), chromedp.WindowSize(1280, 900),
			chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("hide-scrollbars", true),
			chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-quic", true))
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel := chromedp.NewContext(alloc)
		browser = ctx
		stop = func() { cancel(); cancelAlloc(); os.RemoveAll(profile) }
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

// Tab opens a tab of the shared browser for one test, closed when the test
// ends; a test may take at most a minute in it.
func Tab(t *testing.T) context.Context {
	t.Helper()
	if browser == nil {
		t.Fatal("no Chromium at " + Chromium + ": install it (apt-get install -y chromium); scripts/test does")
	}
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelT)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// Do runs actions, failing the test with what was being done.
func Do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// SignInAs opens url, signs in on the form it leads to as user with
// password, and waits for landed: an element of the page the sign-in
// lands on.
func SignInAs(t *testing.T, ctx context.Context, url, user, password string, landed chromedp.Action[chromedp.Void]) {
	t.Helper()
	Do(t, ctx, "sign in as "+user,
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), user),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		landed)
}

// Get runs an action that gives a value.
func Get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// Text returns the visible text of the first element sel selects.
func Text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return Get(t, ctx, "text of "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// Submit clicks a submit button and waits for the page the form's answer
// loads (the old page is marked first, so its elements cannot be mistaken
// for the new ones).
func Submit(t *testing.T, ctx context.Context, what string, button chromedp.Action[chromedp.Void]) {
	t.Helper()
	Do(t, ctx, what+": mark the page", chromedp.Evaluate[chromedp.Void](`document.body.dataset.old = "1"`))
	Do(t, ctx, what, button)
	for range 200 {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.body && document.body.dataset.old !== "1" && document.readyState === "complete"`))
		if err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: the page did not load", what)
}

// Shot captures the page (at most its first 1,800 pixels, to keep files
// small) and, with -screenshots, saves it as docs/screenshots/name.png.
// Without the flag it still captures, so a page that cannot be drawn fails.
func Shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	height := Get(t, ctx, "page height", chromedp.Evaluate[int64](`document.documentElement.scrollHeight`))
	Do(t, ctx, "viewport", chromedp.EmulateViewport(1280, min(height, 1800)))
	png := Get(t, ctx, "screenshot "+name, chromedp.CaptureScreenshot())
	Do(t, ctx, "viewport", chromedp.EmulateViewport(1280, 900))
	if len(png) < 1000 {
		t.Errorf("screenshot %s: only %d bytes", name, len(png))
	}
	if !*saveShots {
		return
	}
	dir, err := screenshotDir()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Saving reports whether screenshots are being saved (-screenshots).
func Saving() bool { return *saveShots }

// screenshotDir is docs/screenshots of the module the test runs in.
func screenshotDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			out := filepath.Join(dir, "docs", "screenshots")
			return out, os.MkdirAll(out, 0o755)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
