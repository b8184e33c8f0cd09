package release_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/custodian-him/custodian/roi"
	"github.com/custodian-him/custodian/web/internal/webtest"
)

func TestMain(m *testing.M) { webtest.Run(m) }

func page(t *testing.T) context.Context { return webtest.Tab(t) }

func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	webtest.Do(t, ctx, what, actions...)
}

func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	return webtest.Get(t, ctx, what, a)
}

func visibleText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return webtest.Text(t, ctx, sel)
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	webtest.Shot(t, ctx, name)
}

// TestBrowser walks the specialist's day: sign in to the queue, find the
// patient, enter the authorization, record the request, release it, open
// the packet, and read the patient's accounting of disclosures.
func TestBrowser(t *testing.T) {
	e := newEnv(t)
	// An overdue request, so the queue shows its marking.
	e.submit(e.authorize(nil).ID, func(r *roi.Request) { r.Received = day("2026-01-22"); r.RequesterName = "Baker & Lowe LLP" })
	ctx := page(t)
	base := e.srv.URL

	do(t, ctx, "sign in",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "rita"),
		chromedp.SendKeys(chromedp.CSS(`#password`), password),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#requests`)))
	if loc := get(t, ctx, "location", chromedp.Location()); !strings.HasSuffix(loc, "/roi/queue") {
		t.Fatalf("the specialist landed on %s", loc)
	}
	if got := visibleText(t, ctx, "#requests tbody"); !strings.Contains(got, "overdue") {
		t.Errorf("the queue does not mark the overdue request:\n%s", got)
	}
	screenshot(t, ctx, "roi-queue")

	// Keyboard: the first Tab stop is the skip link.
	do(t, ctx, "tab", chromedp.KeyEvent("\t"))
	if c := get(t, ctx, "focus", chromedp.Evaluate[string](`document.activeElement.className`)); c != "skip" {
		t.Errorf("the first Tab stop is %q, want the skip link", c)
	}

	// A new request: find the patient by name (POSTed), pick her.
	do(t, ctx, "new request",
		chromedp.Click(chromedp.CSS(`#new-request`)),
		chromedp.WaitVisible(chromedp.CSS(`#name`)),
		chromedp.SendKeys(chromedp.CSS(`#name`), "okafor"),
		chromedp.Submit(chromedp.CSS(`#name`)),
		chromedp.WaitVisible(chromedp.CSS(`#patients`)),
		chromedp.Click(chromedp.CSS(`#patients a`)),
		chromedp.WaitVisible(chromedp.CSS(`#enter-authorization`)))
	if loc := get(t, ctx, "location", chromedp.Location()); strings.Contains(strings.ToLower(loc), "okafor") || !strings.Contains(loc, "patient="+e.patient) {
		t.Errorf("the request form's URL: %s", loc)
	}

	// The attorney's authorization, entered as signed.
	do(t, ctx, "authorization",
		chromedp.Click(chromedp.CSS(`#enter-authorization`)),
		chromedp.WaitVisible(chromedp.CSS(`#recipient`)),
		chromedp.SendKeys(chromedp.CSS(`#recipient`), "Baker & Lowe LLP"),
		chromedp.SetValue(chromedp.CSS(`#signed`), "2026-02-01"),
		chromedp.SetValue(chromedp.CSS(`#expires`), "2026-08-01"),
		chromedp.SetValue(chromedp.CSS(`#from`), "2025-01-01"),
		chromedp.SetValue(chromedp.CSS(`#to`), "2025-12-31"),
		chromedp.Click(chromedp.CSS(`#type-DocumentReference`)),
		chromedp.Click(chromedp.CSS(`#type-Condition`)),
		chromedp.Click(chromedp.CSS(`#purpose-HLEGAL`)))
	screenshot(t, ctx, "roi-authorization")
	do(t, ctx, "save the authorization",
		chromedp.Click(chromedp.CSS(`form.roi-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#authorizations input[type=radio]:checked:not(#auth-none)`)))

	// The request, under it: the form comes back with the authorization's
	// recipient and record types filled in.
	if v := get(t, ctx, "requester", chromedp.Evaluate[string](`document.querySelector('#rq-name').value`)); v != "Baker & Lowe LLP" {
		t.Errorf("the requester's name is %q", v)
	}
	do(t, ctx, "request",
		chromedp.SetValue(chromedp.CSS(`#received`), "2026-03-02"),
		chromedp.SetValue(chromedp.CSS(`#from`), "2025-01-01"),
		chromedp.SetValue(chromedp.CSS(`#to`), "2025-12-31"),
		chromedp.SendKeys(chromedp.CSS(`#address`), "12 Court St, Springfield"))
	screenshot(t, ctx, "roi-new")
	do(t, ctx, "record the request",
		chromedp.Click(chromedp.CSS(`form.roi-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#checks`)))
	if got := visibleText(t, ctx, "#checks"); strings.Contains(got, "✗") || !strings.Contains(got, "Recipient named: Baker & Lowe LLP") {
		t.Errorf("the minimum-necessary check:\n%s", got)
	}
	screenshot(t, ctx, "roi-request")

	// Release by the patient portal.
	do(t, ctx, "release",
		chromedp.SetValue(chromedp.CSS(`#method`), "portal"),
		chromedp.Click(chromedp.CSS(`#release-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#packet-links`)))
	if got := visibleText(t, ctx, "#status"); got != "fulfilled" {
		t.Errorf("after release the status is %q", got)
	}
	if got := visibleText(t, ctx, "#excluded"); !strings.Contains(got, "42 CFR Part 2") {
		t.Errorf("what was left out:\n%s", got)
	}
	// The packet link serves the PDF to the signed-in user.
	href := get(t, ctx, "packet link", chromedp.AttributeValue(chromedp.CSS(`#packet-links a[type="application/pdf"]`), "href")).Value
	released := get(t, ctx, "location", chromedp.Location())
	do(t, ctx, "open the packet", chromedp.Click(chromedp.CSS(`#packet-links a[type="application/pdf"]`)), chromedp.WaitReady(chromedp.CSS(`body`)))
	loc := get(t, ctx, "location", chromedp.Location())
	ct := get(t, ctx, "content type", chromedp.Evaluate[string](`document.contentType`))
	if !strings.HasSuffix(loc, href) || ct != "application/pdf" {
		t.Errorf("the packet link %s opened %s as %q", href, loc, ct)
	}
	do(t, ctx, "back", chromedp.Navigate(released), chromedp.WaitVisible(chromedp.CSS(`#packet-links`)))
	do(t, ctx, "regenerate",
		chromedp.Click(chromedp.CSS(`#packet form button`)),
		chromedp.WaitVisible(chromedp.CSS(`#regenerated`)))
	if got := visibleText(t, ctx, "#regenerated"); !strings.Contains(got, "Identical") {
		t.Errorf("regenerated: %s", got)
	}
	screenshot(t, ctx, "roi-released")

	// A release under a court order, which the accounting lists.
	court := e.submit("", func(r *roi.Request) {
		r.RequesterKind, r.RequesterName, r.Basis, r.LegalAuthority, r.Authorization = roi.CourtOrder, "Clerk of the Superior Court", roi.BasisCourtOrder, "Order 2026-CV-118", ""
	})
	if _, _, err := e.svc.Release(specialist(), court.ID, roi.Delivery{Method: "mail"}); err != nil {
		t.Fatal(err)
	}

	// The accounting of disclosures, from the navigation.
	do(t, ctx, "accounting",
		chromedp.Click(chromedp.CSS(`nav[aria-label=Workbench] a[href="/roi/accounting"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#identifier`)),
		chromedp.SendKeys(chromedp.CSS(`#identifier`), "MRN-4471"),
		chromedp.Submit(chromedp.CSS(`#identifier`)),
		chromedp.WaitVisible(chromedp.CSS(`#patients a`)),
		chromedp.Click(chromedp.CSS(`#patients a`)),
		chromedp.WaitVisible(chromedp.CSS(`#acc-period`)))
	if got := visibleText(t, ctx, "#acc-period"); !strings.Contains(got, "from 2020-03-10 to 2026-03-10") {
		t.Errorf("the accounting's period: %s", got)
	}
	if got := visibleText(t, ctx, "#disclosures tbody"); !strings.Contains(got, "Clerk of the Superior Court") || !strings.Contains(got, court.Number) {
		t.Errorf("the accounting lists:\n%s", got)
	}
	if got := visibleText(t, ctx, "#acc-excluded"); !strings.Contains(got, "under the patient's authorization") {
		t.Errorf("the accounting's exclusions: %s", got)
	}
	screenshot(t, ctx, "roi-accounting")
	// Printed, it is the statement alone: no navigation, no form.
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	if n := get(t, ctx, "visible forms", chromedp.Evaluate[int](`[...document.querySelectorAll('form, header.top')].filter(f => f.offsetParent !== null).length`)); n != 0 {
		t.Errorf("%d forms or headers are printed", n)
	}
	screenshot(t, ctx, "roi-accounting-print")
}
