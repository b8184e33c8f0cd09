package duplicates_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/web/internal/webtest"
)

func TestMain(m *testing.M) { webtest.Run(m) }

func browse(t *testing.T) context.Context { return webtest.Tab(t) }

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	webtest.Do(t, ctx, what, actions...)
}

func value[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	return webtest.Get(t, ctx, what, a)
}

func capture(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	webtest.Shot(t, ctx, name)
}

func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return webtest.Text(t, ctx, sel)
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

// TestBrowser: the director opens the duplicates queue from the
// navigation, a pair, chooses the survivor, previews and confirms the
// merge, finds it in the history and undoes it.
func TestBrowser(t *testing.T) {
	e := newEnv(t, 40)
	ctx := browse(t)
	base := e.srv.URL

	login(t, ctx, base, "dana")
	run(t, ctx, "dashboard", chromedp.Navigate(base+"/dashboard"), chromedp.WaitVisible(chromedp.CSS(`#dup-open`)))
	run(t, ctx, "queue from the navigation",
		chromedp.Click(chromedp.CSS(`nav[aria-label=Workbench] a[href="/duplicates/queue"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#candidates`)))
	capture(t, ctx, "duplicates-queue")
	href := value(t, ctx, "first pair", chromedp.AttributeValue(chromedp.CSS(`#candidates tbody a`), "href")).Value
	task := strings.TrimPrefix(href, "/duplicates/pairs/")

	run(t, ctx, "open the pair", chromedp.Click(chromedp.CSS(`#candidates tbody a`)), chromedp.WaitVisible(chromedp.CSS(`#pair`)))
	if got := textOf(t, ctx, "#evidence"); !strings.Contains(got, "weight") {
		t.Errorf("the evidence reads %q", got)
	}
	capture(t, ctx, "duplicates-pair")
	keep := value(t, ctx, "survivor", chromedp.AttributeValue(chromedp.CSS(`#keep-a`), "value")).Value
	run(t, ctx, "preview",
		chromedp.Click(chromedp.CSS(`#keep-a`)),
		chromedp.Click(chromedp.CSS(`#preview-merge`)),
		chromedp.WaitVisible(chromedp.CSS(`#confirm-merge`)))
	if got := textOf(t, ctx, "#preview"); !strings.Contains(got, "into Patient "+keep) {
		t.Errorf("the preview reads %q", got)
	}
	capture(t, ctx, "duplicates-preview")
	run(t, ctx, "merge", chromedp.Click(chromedp.CSS(`#confirm-merge`)), chromedp.WaitVisible(chromedp.CSS(`#result`)))
	if got := textOf(t, ctx, "#result"); got != "Records merged" {
		t.Fatalf("after the merge: %q", got)
	}
	run(t, ctx, "queue again", chromedp.Navigate(base+"/duplicates/queue"), chromedp.WaitVisible(chromedp.CSS(`#queue-count`)))
	if n := value(t, ctx, "pair links", chromedp.Evaluate[int64](`document.querySelectorAll('a[href="/duplicates/pairs/`+task+`"]').length`)); n != 0 {
		t.Error("the merged pair is still in the queue")
	}
	run(t, ctx, "history", chromedp.Navigate(base+"/duplicates/merges"), chromedp.WaitVisible(chromedp.CSS(`#merges`)))
	capture(t, ctx, "duplicates-history")
	run(t, ctx, "unmerge", chromedp.Click(chromedp.CSS(`#merges button`)), chromedp.WaitVisible(chromedp.CSS(`#result`)))
	if got := textOf(t, ctx, "#result"); got != "Merge undone" {
		t.Fatalf("after the unmerge: %q", got)
	}
	run(t, ctx, "history after", chromedp.Navigate(base+"/duplicates/merges"), chromedp.WaitVisible(chromedp.CSS(`#merges`)))
	if got := textOf(t, ctx, "#merges tbody"); !strings.Contains(got, "unmerged") {
		t.Errorf("the history after the unmerge: %q", got)
	}
	// Merged again, then the survivor edited: unmerge is refused, with
	// the reason on the page.
	other := value(t, ctx, "other", chromedp.Evaluate[string](`document.querySelector('#merges tbody td:nth-child(4) .k').textContent`))
	dir := custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: "dana", Kind: access.KindUser, Roles: []string{access.RoleHIMDirector}})
	if _, err := e.svc.Merge(dir, keep, other, false); err != nil {
		t.Fatal(err)
	}
	p := e.read(t, "Patient", keep)
	p["maritalStatus"] = map[string]any{"text": "married"}
	body, _ := store.Encode(p)
	if _, err := e.st.Update(e.sys, "Patient", keep, body, store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "history again", chromedp.Navigate(base+"/duplicates/merges"), chromedp.WaitVisible(chromedp.CSS(`#merges button`)))
	run(t, ctx, "refused unmerge", chromedp.Click(chromedp.CSS(`#merges button`)), chromedp.WaitVisible(chromedp.CSS(`p.alert`)))
	if got := textOf(t, ctx, "p.alert"); !strings.Contains(got, "changed since the merge") || !strings.Contains(got, "Patient/"+keep) {
		t.Errorf("the refused unmerge reads %q", got)
	}
	capture(t, ctx, "duplicates-unmerge-refused")

	// The card counts the merges and the unmerge of this month.
	run(t, ctx, "dashboard after", chromedp.Navigate(base+"/dashboard"), chromedp.WaitVisible(chromedp.CSS(`#dup-open`)))
	if n := value(t, ctx, "bars", chromedp.Evaluate[int64](`[...document.querySelectorAll('svg.dup-chart rect.bar')].filter(r => r.getAttribute('height') !== '0.0').length`)); n != 2 {
		t.Errorf("the card's chart draws %d non-empty bars, want 2 (merges and an unmerge)", n)
	}
	capture(t, ctx, "duplicates-card")
}
