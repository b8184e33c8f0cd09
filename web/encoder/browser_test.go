package encoder_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/web/internal/webtest"
)

func TestMain(m *testing.M) { webtest.Run(m) }

var principalRE = regexp.MustCompile(`value="accept:([^"]+)" class="accept">Accept as principal`)

// TestBrowser: a coder signs in, opens a stay from the DNFB, sees the
// suggestions with their evidence marked, accepts the principal, sets the
// POA indicators, is refused then finalises, and the stay leaves the DNFB
// with the DRG the generator's expected coding groups to.
func TestBrowser(t *testing.T) {
	e := newEnv(t, patients)
	// The coding card counts the last 30 days of saves, which the store
	// stamps with the real time.
	e.q.Now = time.Now
	// The stay to code: one whose principal suggestion is the expected
	// principal diagnosis (the suggester is scored elsewhere).
	list, err := e.q.DNFB(as("cody", access.RoleCoder))
	if err != nil {
		t.Fatal(err)
	}
	var id string
	for _, it := range list {
		f := e.truth[it.Encounter]
		page := e.get("/coding/encounters/"+strings.TrimPrefix(it.Encounter, "Encounter/"), access.RoleCoder).Body.String()
		if m := principalRE.FindStringSubmatch(page); m != nil && m[1] == f.Principal && f.Diagnoses[0].POA != "" {
			id = strings.TrimPrefix(it.Encounter, "Encounter/")
			break
		}
	}
	if id == "" {
		t.Fatal("no stay whose principal suggestion is the expected principal")
	}
	f := e.truth["Encounter/"+id]
	poa := map[string]string{}
	for _, d := range f.Diagnoses {
		poa[d.Code] = d.POA
	}

	ctx := webtest.Tab(t)
	webtest.SignInAs(t, ctx, e.srv.URL+"/", "cody", password, chromedp.WaitVisible(chromedp.ID("dnfb")))
	webtest.Shot(t, ctx, "coding-dnfb")
	webtest.Do(t, ctx, "open the stay",
		chromedp.Click(chromedp.CSS(`a[href="/coding/encounters/`+id+`"]`)),
		chromedp.WaitVisible(chromedp.ID("suggestions")))
	if n := webtest.Get(t, ctx, "marks", chromedp.Evaluate[int64](`document.querySelectorAll('.ws-notes details[open] mark').length`)); n == 0 {
		t.Error("no evidence marked in the open notes")
	}
	webtest.Shot(t, ctx, "coding-workspace")
	// The record's codes have no POA yet: finalising is refused.
	webtest.Submit(t, ctx, "finalise too early", chromedp.Click(chromedp.ID("finalise")))
	webtest.Do(t, ctx, "refused", chromedp.WaitVisible(chromedp.ID("refused")))
	if s := webtest.Get(t, ctx, "edits", chromedp.Text(chromedp.ID("edits"))); !strings.Contains(s, "POA_MISSING") {
		t.Errorf("the refusal does not show the POA edit: %q", s)
	}
	webtest.Shot(t, ctx, "coding-refused")
	webtest.Submit(t, ctx, "accept the principal", chromedp.Click(chromedp.CSS(`button.accept[value="accept:`+f.Principal+`"]`)))
	if v := webtest.Get(t, ctx, "principal", chromedp.Value(chromedp.ID("dx-code-0"))); v != f.Principal {
		t.Fatalf("the principal is %q, want %q", v, f.Principal)
	}
	// The coder gives the secondary diagnoses their POA indicators.
	rows := webtest.Get(t, ctx, "rows", chromedp.Evaluate[int64](`document.querySelectorAll('input[name=dx_code]').length`))
	for i := 1; i < int(rows); i++ {
		code := webtest.Get(t, ctx, "code", chromedp.Value(chromedp.ID("dx-code-"+strconv.Itoa(i))))
		webtest.Do(t, ctx, "POA", chromedp.SetValue(chromedp.ID("dx-poa-"+strconv.Itoa(i)), poa[code]))
	}
	webtest.Submit(t, ctx, "update", chromedp.Click(chromedp.CSS(`button[value=update]`)))
	webtest.Shot(t, ctx, "coding-abstract")
	webtest.Submit(t, ctx, "finalise", chromedp.Click(chromedp.ID("finalise")))
	webtest.Do(t, ctx, "finalised", chromedp.WaitVisible(chromedp.ID("message")))
	got := webtest.Get(t, ctx, "DRG", chromedp.Text(chromedp.ID("drg-code")))
	a, err := e.q.Abstract(as("cody", access.RoleCoder), id)
	if err != nil {
		t.Fatal(err)
	}
	want := groupTruth(t, a, f, a.DRG.Version)
	if got != pad3(want) || a.DRG.DRG != want || a.Status != "final" {
		t.Errorf("finalised with DRG %s (Claim %d, %s), the expected coding groups to %d", got, a.DRG.DRG, a.Status, want)
	}
	if v := webtest.Get(t, ctx, "version", chromedp.Text(chromedp.ID("claim-version"))); v != "1" {
		t.Errorf("Claim version %q", v)
	}
	webtest.Shot(t, ctx, "coding-finalised")
	webtest.Do(t, ctx, "back to the queue", chromedp.Click(chromedp.CSS(`.crumbs a`)), chromedp.WaitVisible(chromedp.ID("dnfb-count")))
	if n := webtest.Get(t, ctx, "gone", chromedp.Evaluate[int64](`document.querySelectorAll('a[href="/coding/encounters/`+id+`"]').length`)); n != 0 {
		t.Error("the finalised stay is still on the DNFB")
	}
	// The director's dashboard cards.
	webtest.Do(t, ctx, "sign out and in as the director",
		chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "dana"),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("dnfb-chart")))
	webtest.Shot(t, ctx, "coding-dashboard")
}
