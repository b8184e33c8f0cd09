package codes_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/custodian-him/custodian/web/internal/webtest"
)

func TestMain(m *testing.M) { webtest.Run(m) }

// TestBrowser: a coder searches in clinical language, opens a code, and
// groups a claim.
func TestBrowser(t *testing.T) {
	e := newEnv(t)
	ctx := webtest.Tab(t)
	webtest.SignInAs(t, ctx, e.srv.URL+"/codes/", "cody", password, chromedp.WaitVisible(chromedp.ID("q")))
	webtest.Do(t, ctx, "search",
		chromedp.SendKeys(chromedp.ID("q"), "T2DM with neuropathy"),
		chromedp.Click(chromedp.CSS(`form.search button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("hits")))
	webtest.Shot(t, ctx, "codes-search")
	webtest.Do(t, ctx, "open a code", chromedp.Click(chromedp.CSS(`#hits a`)), chromedp.WaitVisible(chromedp.ID("notes-h")))
	if h := webtest.Get(t, ctx, "title", chromedp.Text(chromedp.CSS("h1"))); !strings.Contains(h, "E11.") {
		t.Errorf("the first hit opened %q", h)
	}
	webtest.Shot(t, ctx, "codes-concept")
	webtest.Do(t, ctx, "group",
		chromedp.Navigate(e.srv.URL+"/codes/drg"),
		chromedp.SendKeys(chromedp.ID("age"), "72"),
		chromedp.SetValue(chromedp.ID("sex"), "F"),
		chromedp.SendKeys(chromedp.ID("pdx"), "J18.9"),
		chromedp.SetValue(chromedp.ID("pdx_poa"), "Y"),
		chromedp.SendKeys(chromedp.ID("sdx"), "N17.9 Y\nE11.9 Y"),
		chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("final-drg")))
	webtest.Shot(t, ctx, "codes-drg")
}
