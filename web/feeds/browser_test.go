package feeds_test

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

var saveShots = flag.Bool("screenshots", false, "save screenshots of the feeds page under docs/screenshots")

const chromiumBin = "/usr/bin/chromium"

func TestMain(m *testing.M) {
	flag.Parse()
	stop := func() {}
	if _, err := exec.LookPath(chromiumBin); err == nil {
		profile, err := os.MkdirTemp("", "feeds-chromium-")
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

func snap(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if *saveShots {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "screenshots", name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBrowser: the director reads the feeds page and replays the dead
// letters from the keyboard.
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
		chromedp.Navigate(e.srv.URL+"/feeds/"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "dana"),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("dead-letters")))
	snap(t, ctx, "feeds")
	do(t, ctx, "replay", chromedp.Focus(chromedp.ID("replay")), chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.ID("replay-result")))
	got, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("replay-result")))
	if err != nil || !strings.Contains(got, "1 message stored now, 1 still refused") {
		t.Errorf("replay result %q %v", got, err)
	}
	snap(t, ctx, "feeds-replayed")
}
