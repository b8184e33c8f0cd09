package feeds_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/custodian-him/custodian/web/internal/webtest"
)

func TestMain(m *testing.M) { webtest.Run(m) }

// TestBrowser: the director reads the feeds page and replays the dead
// letters from the keyboard.
func TestBrowser(t *testing.T) {
	e := newEnv(t)
	ctx := webtest.Tab(t)
	webtest.SignInAs(t, ctx, e.srv.URL+"/feeds/", "dana", password, chromedp.WaitVisible(chromedp.ID("dead-letters")))
	webtest.Shot(t, ctx, "feeds")
	webtest.Do(t, ctx, "replay", chromedp.Focus(chromedp.ID("replay")), chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.ID("replay-result")))
	got, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("replay-result")))
	if err != nil || !strings.Contains(got, "1 message stored now, 1 still refused") {
		t.Errorf("replay result %q %v", got, err)
	}
	webtest.Shot(t, ctx, "feeds-replayed")
}
