package codes_test

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

func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	return webtest.Get(t, ctx, what, a)
}

func snap(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	webtest.Shot(t, ctx, name)
}

// TestBrowser: a coder searches in clinical language, opens a code, and
// groups a claim.
func TestBrowser(t *testing.T) {
	e := newEnv(t)
	ctx := webtest.Tab(t)
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
