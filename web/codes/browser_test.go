package codes_test

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

var chromium context.Context

var saveShots = flag.Bool("screenshots", false, "save screenshots of the code pages under docs/screenshots")

const chromiumBin = "/usr/bin/chromium"

func TestMain(m *testing.M) {
	flag.Parse()
	stop := func() {}
	if _, err := exec.LookPath(chromiumBin); err == nil {
		profile, err := os.MkdirTemp("", "codes-chromium-")
		if err != nil {
			panic(err)
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromiumBin),
			chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(profile), chromedp.WindowSize(1280, 900),
			chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("hide-scrollbars", true))
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel := chromedp.NewContext(alloc)
		chromium = ctx
		stop = func() { cancel(); cancelAlloc(); os.RemoveAll(profile) }
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func snap(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	h := get(t, ctx, "height", chromedp.Evaluate[int64](`document.documentElement.scrollHeight`))
	do(t, ctx, "viewport", chromedp.EmulateViewport(1280, min(h, 1800)))
	png := get(t, ctx, "screenshot", chromedp.CaptureScreenshot())
	do(t, ctx, "viewport", chromedp.EmulateViewport(1280, 900))
	if *saveShots {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "screenshots", name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBrowser: a coder searches in clinical language, opens a code, and
// groups a claim.
func TestBrowser(t *testing.T) {
	if chromium == nil {
		if testing.Short() {
			t.Skip("no Chromium")
		}
		t.Fatal("no Chromium at " + chromiumBin)
	}
	e := newEnv(t)
	ctx, cancel := chromedp.NewContext(chromium)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()
	do(t, ctx, "sign in",
		chromedp.Navigate(e.srv.URL+"/codes/"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "cody"),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("q")))
	do(t, ctx, "search",
		chromedp.SendKeys(chromedp.ID("q"), "T2DM with neuropathy"),
		chromedp.Click(chromedp.CSS(`form.search button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("hits")))
	snap(t, ctx, "codes-search")
	do(t, ctx, "open a code", chromedp.Click(chromedp.CSS(`#hits a`)), chromedp.WaitVisible(chromedp.ID("notes-h")))
	if h := get(t, ctx, "title", chromedp.Text(chromedp.CSS("h1"))); !strings.Contains(h, "E11.") {
		t.Errorf("the first hit opened %q", h)
	}
	snap(t, ctx, "codes-concept")
	do(t, ctx, "group",
		chromedp.Navigate(e.srv.URL+"/codes/drg"),
		chromedp.SendKeys(chromedp.ID("age"), "72"),
		chromedp.SetValue(chromedp.ID("sex"), "F"),
		chromedp.SendKeys(chromedp.ID("pdx"), "J18.9"),
		chromedp.SetValue(chromedp.ID("pdx_poa"), "Y"),
		chromedp.SendKeys(chromedp.ID("sdx"), "N17.9 Y\nE11.9 Y"),
		chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("final-drg")))
	snap(t, ctx, "codes-drg")
}
