package feeds_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/custodian-him/custodian/web/internal/webtest"
)

func TestMain(m *testing.M) { webtest.Run(m) }

func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	webtest.Do(t, ctx, what, actions...)
}

func snap(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	webtest.Shot(t, ctx, name)
}

// TestBrowser: the director reads the feeds page and replays the dead
// letters from the keyboard.
func TestBrowser(t *testing.T) {
	e := newEnv(t)
	ctx := webtest.Tab(t)
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
