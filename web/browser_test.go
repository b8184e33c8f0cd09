package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/custodian-him/custodian/web/internal/webtest"
)

func TestMain(m *testing.M) { webtest.Run(m) }

func tab(t *testing.T) context.Context { return webtest.Tab(t) }

func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	webtest.Shot(t, ctx, name)
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return webtest.Text(t, ctx, sel)
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Location())
	must(t, "location", err)
	return s
}

// signInAs signs in through the form, from wherever the browser was sent.
func signInAs(t *testing.T, ctx context.Context, base, user string) {
	t.Helper()
	must(t, "sign in as "+user, chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), user),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav[aria-label=Workbench]`)),
	))
}

func signOut(t *testing.T, ctx context.Context) {
	t.Helper()
	must(t, "sign out", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`.who button`)),
		chromedp.WaitVisible(chromedp.ID("username")),
	))
}

// TestBrowser drives the workbench in Chromium: a record analyst signs in,
// finds a patient, opens the chart, a note and a scanned document; the
// privacy officer finds the audit entries the flow made and the patient's
// access report; the director opens the dashboard.
func TestBrowser(t *testing.T) {
	e := newEnv(t, 10)
	ctx := tab(t)
	base := e.srv.URL

	// Sign-in page, then the analyst's landing page: patient search.
	must(t, "open", chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("username"))))
	if loc := location(t, ctx); !strings.Contains(loc, "/login") {
		t.Fatalf("an unauthenticated visit went to %s, not the sign-in page", loc)
	}
	shot(t, ctx, "login")
	// A mistyped password first: the dashboard counts failed sign-ins.
	must(t, "failed sign-in", chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("username"), "rita"),
		chromedp.SendKeys(chromedp.ID("password"), "not the password"),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("form-error")),
	))
	signInAs(t, ctx, base, "rita")
	if loc := location(t, ctx); !strings.HasSuffix(loc, "/patients") {
		t.Fatalf("the record analyst landed on %s", loc)
	}

	// Search by family name: the form posts, so the name stays out of the URL.
	must(t, "search", chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("name"), e.family),
		chromedp.Click(chromedp.CSS(`form.search button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("results")),
	))
	if loc := location(t, ctx); strings.Contains(loc, e.family) {
		t.Errorf("the patient's name is in the URL: %s", loc)
	}
	if got := text(t, ctx, "#results"); !strings.Contains(got, e.mrn) {
		t.Errorf("the results do not list the patient's MRN %s:\n%s", e.mrn, got)
	}
	shot(t, ctx, "patient-search")

	// The chart.
	must(t, "open the chart", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#results a[href="/patients/%s"]`, e.patient))),
		chromedp.WaitVisible(chromedp.ID("documents")),
	))
	if got := text(t, ctx, ".banner"); !strings.Contains(got, e.mrn) {
		t.Errorf("the chart's banner lacks the MRN: %s", got)
	}
	labs, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#labs svg.chart').length`))
	must(t, "count lab charts", err)
	if labs == 0 {
		t.Error("the chart draws no lab trend")
	}
	shot(t, ctx, "chart")
	must(t, "scroll to the labs", chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('labs').scrollIntoView()`)))
	labShot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	must(t, "lab screenshot", err)
	if webtest.Saving() {
		must(t, "save", os.WriteFile(filepath.Join("..", "docs", "screenshots", "chart-labs.png"), labShot, 0o644))
	}

	// A note, opened from the chart's document list.
	must(t, "open a note", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#document-list a[href$="/documents/%s"]`, e.doc))),
		chromedp.WaitVisible(chromedp.CSS(`pre.note-text`)),
	))
	if note := text(t, ctx, "pre.note-text"); len(note) < 100 {
		t.Errorf("the note reads %q", note)
	}
	shot(t, ctx, "note")

	// A scanned document: the image and the PDF show in the page.
	must(t, "open a scan", chromedp.Do(ctx,
		chromedp.Navigate(base+"/patients/"+e.patient+"/documents/"+e.scan),
		chromedp.WaitVisible(chromedp.CSS(`.attachment img`)),
	))
	w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelector('.attachment img').naturalWidth`))
	must(t, "image width", err)
	if w != 240 {
		t.Errorf("the scanned image did not load (natural width %d)", w)
	}
	// The browser's PDF viewer draws the page a moment after loading it.
	must(t, "wait for the PDF", chromedp.Do(ctx, chromedp.Sleep(1500*time.Millisecond)))
	shot(t, ctx, "scan")

	must(t, "history", chromedp.Do(ctx,
		chromedp.Navigate(base+"/patients/"+e.patient+"/history"),
		chromedp.WaitVisible(chromedp.ID("versions")),
	))
	shot(t, ctx, "history")

	// Break the glass, for the privacy officer's review.
	must(t, "break the glass", chromedp.Do(ctx,
		chromedp.Navigate(base+"/patients/"+e.patient),
		chromedp.Click(chromedp.CSS(`details.glass summary`)),
		chromedp.SendKeys(chromedp.ID("reason"), "Patient in the ED, unresponsive; need the full history"),
		chromedp.Click(chromedp.CSS(`details.glass button`)),
		chromedp.WaitVisible(chromedp.ID("glass-notice")),
	))
	// The audit log is not the analyst's: refused, and the refusal is
	// recorded for the privacy officer.
	must(t, "refused page", chromedp.Do(ctx, chromedp.Navigate(base+"/audit"), chromedp.WaitVisible(chromedp.CSS(`p.alert`))))
	shot(t, ctx, "refused")
	signOut(t, ctx)

	// The privacy officer: break-the-glass review, the audit log filtered to
	// the analyst's reads of this patient, the access report.
	signInAs(t, ctx, base, "paula")
	if loc := location(t, ctx); !strings.HasSuffix(loc, "/audit/break-glass") {
		t.Errorf("the privacy officer landed on %s", loc)
	}
	if got := text(t, ctx, "main"); !strings.Contains(got, "need the full history") || !strings.Contains(got, "rita") {
		t.Errorf("the break-the-glass review does not show rita's reason:\n%s", got)
	}
	shot(t, ctx, "break-glass-review")
	must(t, "filter the audit log", chromedp.Do(ctx,
		chromedp.Navigate(base+"/audit"),
		chromedp.SendKeys(chromedp.ID("f-actor"), "rita"),
		chromedp.SendKeys(chromedp.ID("f-patient"), e.patient),
		chromedp.SetValue(chromedp.ID("f-action"), "read"),
		chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#f-actor[value="rita"]`)),
		chromedp.WaitVisible(chromedp.ID("audit-entries")),
	))
	if got := text(t, ctx, "#audit-entries"); !strings.Contains(got, "DocumentReference/"+e.doc) {
		t.Errorf("the audit log has no entry for rita's read of the note:\n%s", got)
	}
	shot(t, ctx, "audit-log")
	must(t, "access report", chromedp.Do(ctx,
		chromedp.Navigate(base+"/patients/"+e.patient+"/access"),
		chromedp.WaitVisible(chromedp.ID("access-summary")),
	))
	if got := text(t, ctx, "#access-summary"); !strings.Contains(got, "rita") {
		t.Errorf("the access report does not name rita:\n%s", got)
	}
	shot(t, ctx, "access-report")
	must(t, "privacy officer's dashboard", chromedp.Do(ctx,
		chromedp.Navigate(base+"/dashboard"),
		chromedp.WaitVisible(chromedp.ID("glass-h")),
	))
	shot(t, ctx, "dashboard-privacy-officer")
	signOut(t, ctx)

	// The director's dashboard.
	signInAs(t, ctx, base, "dana")
	if loc := location(t, ctx); !strings.HasSuffix(loc, "/dashboard") {
		t.Errorf("the director landed on %s", loc)
	}
	if got := text(t, ctx, "#received-h"); got == "" {
		t.Error("no records-received chart")
	}
	shot(t, ctx, "dashboard")
	// A large monitor: the layout uses the width, and nothing overflows.
	must(t, "wide", chromedp.Do(ctx, chromedp.EmulateViewport(1920, 1080)))
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	must(t, "overflow", err)
	if overflow {
		t.Error("the dashboard overflows a 1920-pixel screen")
	}
	wide, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	must(t, "wide screenshot", err)
	if webtest.Saving() {
		must(t, "save", os.WriteFile(filepath.Join("..", "docs", "screenshots", "dashboard-1920.png"), wide, 0o644))
	}
	must(t, "laptop", chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)))

	// Keyboard: the skip link is the first stop and leads to the content.
	must(t, "keyboard", chromedp.Do(ctx, chromedp.KeyEvent("\t")))
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.className`))
	must(t, "focus", err)
	if focused != "skip" {
		t.Errorf("the first Tab stop is %q, want the skip link", focused)
	}
}
