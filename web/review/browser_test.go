package review_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/custodian-him/custodian/chart"
	"github.com/custodian-him/custodian/web/internal/webtest"
)

func TestMain(m *testing.M) { webtest.Run(m) }

// login signs user in and waits for the workbench.
func login(t *testing.T, ctx context.Context, base, user string) {
	t.Helper()
	webtest.SignInAs(t, ctx, base+"/", user, password, chromedp.WaitVisible(chromedp.CSS(`nav[aria-label=Workbench]`)))
}

// TestBrowser: the analyst signs in to the queue, narrows it with the
// keyboard-usable filters, opens a deficiency's chart and note; the
// director reads the delinquency report; a clinician picks their list.
func TestBrowser(t *testing.T) {
	e := newEnv(t, 60)
	ctx := webtest.Tab(t)
	base := e.srv.URL

	login(t, ctx, base, "rita")
	loc := webtest.Get(t, ctx, "location", chromedp.Location())
	if !strings.HasSuffix(loc, "/review/queue") {
		t.Fatalf("the analyst landed on %s", loc)
	}
	webtest.Do(t, ctx, "queue", chromedp.WaitVisible(chromedp.CSS(`#deficiencies`)))
	webtest.Shot(t, ctx, "review-queue")

	// Only one kind of deficiency about a note (the first the generated
	// sample has), chosen from the list and submitted.
	kind := ""
	kinds := map[string]bool{}
	for _, it := range e.rv.Queue(chart.QueueFilter{}) {
		kinds[it.Kind] = true
		if kind == "" && strings.HasPrefix(it.Focus, "DocumentReference/") {
			kind = it.Kind
		}
	}
	if kind == "" || len(kinds) < 2 {
		t.Fatalf("the sample needs a deficiency about a note and another kind: %v", kinds)
	}
	webtest.Do(t, ctx, "filter",
		chromedp.SetValue(chromedp.CSS(`#f-kind`), kind),
		chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)),
		chromedp.WaitReady(chromedp.CSS(`#f-kind option[value="`+kind+`"][selected]`)))
	filtered := webtest.Get(t, ctx, "location", chromedp.Location())
	got := webtest.Text(t, ctx, "#deficiencies tbody")
	if !strings.Contains(got, kind) {
		t.Errorf("the queue filtered to %s lists:\n%s", kind, got)
	}
	for other := range kinds {
		if other != kind && !strings.Contains(kind, other) && strings.Contains(got, other) {
			t.Errorf("the queue filtered to %s lists %s:\n%s", kind, other, got)
		}
	}

	// The deficiency's note, then its chart.
	noteHref := webtest.Get(t, ctx, "note link", chromedp.AttributeValue(chromedp.CSS(`#deficiencies a[href*="/documents/"]`), "href")).Value
	webtest.Do(t, ctx, "open the note", chromedp.Click(chromedp.CSS(`#deficiencies a[href*="/documents/"]`)), chromedp.WaitVisible(chromedp.CSS(`pre.note-text`)))
	webtest.Do(t, ctx, "back to the queue", chromedp.Navigate(filtered), chromedp.WaitVisible(chromedp.CSS(`#deficiencies`)))
	webtest.Do(t, ctx, "open the chart",
		chromedp.Click(chromedp.CSS(`#deficiencies td a[href^="/patients/"]:not([href*="/documents/"])`)),
		chromedp.WaitVisible(chromedp.CSS(`#documents`)))
	loc = webtest.Get(t, ctx, "location", chromedp.Location())
	if !strings.HasPrefix(noteHref, strings.TrimPrefix(loc, base)) {
		t.Errorf("the chart opened (%s) is not the note's patient's (%s)", loc, noteHref)
	}
	webtest.Shot(t, ctx, "review-chart")

	// Keyboard: from the skip link into the queue's first filter.
	webtest.Do(t, ctx, "queue again", chromedp.Navigate(base+"/review/queue"), chromedp.WaitVisible(chromedp.CSS(`#deficiencies`)))
	webtest.Do(t, ctx, "tab", chromedp.KeyEvent("\t"))
	focused := webtest.Get(t, ctx, "focus", chromedp.Evaluate[string](`document.activeElement.className`))
	if focused != "skip" {
		t.Errorf("the first Tab stop is %q, want the skip link", focused)
	}

	// The director's report.
	webtest.Do(t, ctx, "sign out", chromedp.Click(chromedp.CSS(`.who button`)), chromedp.WaitVisible(chromedp.CSS(`#username`)))
	login(t, ctx, base, "dana")
	webtest.Do(t, ctx, "report",
		chromedp.Navigate(base+"/review/report?from=2022-10&to=2025-09"),
		chromedp.WaitVisible(chromedp.CSS(`#months`)))
	if got := webtest.Text(t, ctx, "#months tbody"); !strings.Contains(got, "2025-09") {
		t.Errorf("the report's months:\n%s", got)
	}
	webtest.Shot(t, ctx, "review-report")
	webtest.Do(t, ctx, "dashboard", chromedp.Navigate(base+"/dashboard"), chromedp.WaitVisible(chromedp.CSS(`#delinquent-records`)))

	// A clinician chooses their own list.
	webtest.Do(t, ctx, "sign out", chromedp.Click(chromedp.CSS(`.who button`)), chromedp.WaitVisible(chromedp.CSS(`#username`)))
	login(t, ctx, base, "carl")
	webtest.Do(t, ctx, "clinicians", chromedp.WaitVisible(chromedp.CSS(`#f-owner`)))
	first := webtest.Get(t, ctx, "first clinician", chromedp.Evaluate[string](`document.querySelector('#f-owner option:nth-child(2)').value`))
	webtest.Do(t, ctx, "choose",
		chromedp.SetValue(chromedp.CSS(`#f-owner`), first),
		chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#list-count`)))
	if got := webtest.Text(t, ctx, "#list-count"); !strings.Contains(got, "open deficienc") {
		t.Errorf("the clinician's list says %q", got)
	}
	webtest.Shot(t, ctx, "review-clinician")
}
