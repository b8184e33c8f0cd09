package outcomes_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/measure"
	"github.com/custodian-him/custodian/registry"
	"github.com/custodian-him/custodian/web/internal/webtest"
)

func TestMain(m *testing.M) { webtest.Run(m) }

// TestBrowser: the director signs in on the dashboard with its outcomes
// cards, opens the measures, a measure, the patients of its numerator
// and one patient's chart; then a registry, where a candidate is
// accepted and leaves the candidates.
func TestBrowser(t *testing.T) {
	patients := 120
	if webtest.Saving() {
		patients = 400 // figures that look like a hospital's
	}
	e := newEnv(t, patients)
	// The measure whose numerator is walked: the readmissions, over the
	// generated hospital's three years.
	sys := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	period, _ := measure.NewPeriod("2022-10-01", "2025-09-30")
	res, err := measure.Evaluate(sys, e.rec, measure.Find(measure.Builtins(), "readmission-30day"), period, measure.Options{Lists: true})
	if err != nil {
		t.Fatal(err)
	}
	num := res.Cases(measure.Numerator)
	if len(num) == 0 {
		t.Fatal("no readmissions in the generated hospital")
	}

	ctx := webtest.Tab(t)
	webtest.SignInAs(t, ctx, e.srv.URL+"/", "dana", password, chromedp.WaitVisible(chromedp.CSS(`td[data-measure="readmission-30day"]`)))
	webtest.Shot(t, ctx, "outcomes-dashboard")
	webtest.Do(t, ctx, "open the measures", chromedp.Click(chromedp.CSS(`nav a[href="/outcomes/measures/"]`)), chromedp.WaitVisible(chromedp.ID("measures")))
	webtest.Do(t, ctx, "choose the period",
		chromedp.SetValue(chromedp.ID("from"), "2022-10-01"), chromedp.SetValue(chromedp.ID("to"), "2025-09-30"))
	webtest.Submit(t, ctx, "show the period", chromedp.Click(chromedp.CSS(`form.period button`)))
	if loc := webtest.Get(t, ctx, "url", chromedp.Location()); !strings.HasSuffix(loc, "/outcomes/measures/?from=2022-10-01&to=2025-09-30") {
		t.Fatalf("the period chooser went to %s", loc)
	}
	webtest.Shot(t, ctx, "outcomes-measures")
	webtest.Do(t, ctx, "open the readmission measure",
		chromedp.Click(chromedp.CSS(`#measures a[href^="/outcomes/measures/readmission-30day?"]`)), chromedp.WaitVisible(chromedp.ID("numerator")))
	if got, want := webtest.Get(t, ctx, "numerator", chromedp.Text(chromedp.ID("numerator"))), len(num); got != itoa(want) {
		t.Errorf("the page's numerator is %s, Evaluate's %d", got, want)
	}
	if n := webtest.Get(t, ctx, "bars", chromedp.Evaluate[int64](`document.querySelectorAll('figure svg rect.bar').length`)); n == 0 {
		t.Error("the trend chart has no bars")
	}
	webtest.Shot(t, ctx, "outcomes-measure")
	webtest.Do(t, ctx, "list the readmitted",
		chromedp.Click(chromedp.CSS(`a[href^="/outcomes/measures/readmission-30day/cases?population=numerator&from="]`)), chromedp.WaitVisible(chromedp.ID("cases")))
	if got := webtest.Get(t, ctx, "total", chromedp.Text(chromedp.ID("total"))); got != itoa(len(num)) {
		t.Errorf("the list says %s, Evaluate lists %d", got, len(num))
	}
	if strings.Contains(webtest.Get(t, ctx, "url", chromedp.Location()), num[0].Patient) {
		t.Error("the list's URL names a patient")
	}
	webtest.Shot(t, ctx, "outcomes-cases")
	webtest.Do(t, ctx, "open the first patient's chart",
		chromedp.Click(chromedp.CSS(`#cases a[href="/patients/`+num[0].Patient+`"]`)), chromedp.WaitVisible(chromedp.ID("demographics")))

	// A registry: accept the first candidate.
	cands, err := e.reg.Cases("diabetes", registry.Candidate)
	if err != nil || len(cands) == 0 {
		t.Fatalf("diabetes candidates: %v, %d", err, len(cands))
	}
	webtest.Do(t, ctx, "open the registries", chromedp.Click(chromedp.CSS(`nav a[href="/outcomes/registries/"]`)), chromedp.WaitVisible(chromedp.CSS(`table.registries`)))
	webtest.Shot(t, ctx, "outcomes-registries")
	webtest.Do(t, ctx, "open the diabetes registry", chromedp.Click(chromedp.CSS(`a[href="/outcomes/registries/diabetes"]`)), chromedp.WaitVisible(chromedp.ID("candidates")))
	webtest.Shot(t, ctx, "outcomes-registry")
	first := webtest.Get(t, ctx, "first candidate", chromedp.Evaluate[string](`document.querySelector('table.candidates tr[data-patient]').dataset.patient`))
	webtest.Submit(t, ctx, "accept", chromedp.Click(chromedp.CSS(`tr[data-patient="`+first+`"] button[value=accept]`)))
	webtest.Do(t, ctx, "accepted", chromedp.WaitVisible(chromedp.ID("message")))
	if got := webtest.Get(t, ctx, "accepted count", chromedp.Text(chromedp.ID("accepted"))); got != "1" {
		t.Errorf("accepted: %s, want 1", got)
	}
	acc, _ := e.reg.Cases("diabetes", registry.Accepted)
	if len(acc) != 1 || acc[0].Patient != first || acc[0].DecidedBy != "dana" {
		t.Errorf("the registry kept %+v", acc)
	}
	webtest.Shot(t, ctx, "outcomes-accepted")
	// The accepted case's form: the registrar completes a field.
	webtest.Do(t, ctx, "open the case form", chromedp.Navigate(e.srv.URL+"/outcomes/registries/diabetes/cases/"+first), chromedp.WaitVisible(chromedp.ID("field-footExam")))
	webtest.Do(t, ctx, "fill a field", chromedp.SendKeys(chromedp.ID("field-footExam"), "yes"))
	webtest.Submit(t, ctx, "save the form", chromedp.Click(chromedp.ID("save")))
	webtest.Do(t, ctx, "saved", chromedp.WaitVisible(chromedp.ID("message")))
	if acc, _ := e.reg.Cases("diabetes", registry.Accepted); len(acc) != 1 || acc[0].Fields["footExam"] != "yes" {
		t.Errorf("the form's field was not kept: %+v", acc)
	}
	webtest.Shot(t, ctx, "outcomes-case")
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestBrowserRegistrar: the registrar signs in and lands on the
// registries (the registry work queue), opens one, accepts a candidate
// and rejects another with a reason; both leave the candidates and are
// kept as the registrar's decisions.
func TestBrowserRegistrar(t *testing.T) {
	e := newEnv(t, 120)
	ctx := webtest.Tab(t)
	webtest.SignInAs(t, ctx, e.srv.URL+"/", "rita", password, chromedp.WaitVisible(chromedp.CSS(`table.registries`)))
	if loc := webtest.Get(t, ctx, "url", chromedp.Location()); !strings.HasSuffix(loc, "/outcomes/registries/") {
		t.Fatalf("the registrar landed on %s", loc)
	}
	webtest.Shot(t, ctx, "outcomes-registrar-landing")
	webtest.Do(t, ctx, "open the diabetes registry", chromedp.Click(chromedp.CSS(`a[href="/outcomes/registries/diabetes"]`)), chromedp.WaitVisible(chromedp.ID("candidates")))
	before := webtest.Get(t, ctx, "candidates", chromedp.Text(chromedp.ID("candidates")))
	rows := `document.querySelectorAll('table.candidates tr[data-patient]')`
	first := webtest.Get(t, ctx, "first candidate", chromedp.Evaluate[string](rows+`[0].dataset.patient`))
	second := webtest.Get(t, ctx, "second candidate", chromedp.Evaluate[string](rows+`[1].dataset.patient`))
	webtest.Submit(t, ctx, "accept", chromedp.Click(chromedp.CSS(`tr[data-patient="`+first+`"] button[value=accept]`)))
	webtest.Do(t, ctx, "accepted", chromedp.WaitVisible(chromedp.ID("message")))
	webtest.Do(t, ctx, "give a reason", chromedp.SendKeys(chromedp.ID("reason-"+second), "gestational diabetes only"))
	webtest.Submit(t, ctx, "reject", chromedp.Click(chromedp.CSS(`tr[data-patient="`+second+`"] button[value=reject]`)))
	webtest.Do(t, ctx, "rejected", chromedp.WaitVisible(chromedp.ID("message")))
	if got := webtest.Get(t, ctx, "message", chromedp.Text(chromedp.ID("message"))); !strings.Contains(got, "rejected") {
		t.Errorf("the message after rejecting: %q", got)
	}
	if got := webtest.Get(t, ctx, "accepted count", chromedp.Text(chromedp.ID("accepted"))); got != "1" {
		t.Errorf("accepted: %s, want 1", got)
	}
	if got := webtest.Get(t, ctx, "rejected count", chromedp.Text(chromedp.ID("rejected"))); got != "1" {
		t.Errorf("rejected: %s, want 1", got)
	}
	if n, _ := strconv.Atoi(before); webtest.Get(t, ctx, "candidates", chromedp.Text(chromedp.ID("candidates"))) != itoa(n-2) {
		t.Errorf("the candidates did not fall from %s by 2", before)
	}
	webtest.Shot(t, ctx, "outcomes-registrar-decided")
	all, _ := e.reg.Cases("diabetes", "")
	decided := map[string]*registry.Case{}
	for _, c := range all {
		decided[c.Patient] = c
	}
	if c := decided[first]; c.Status != registry.Accepted || c.DecidedBy != "rita" {
		t.Errorf("the acceptance was kept as %+v", c)
	}
	if c := decided[second]; c.Status != registry.Rejected || c.DecidedBy != "rita" || c.Reason != "gestational diabetes only" {
		t.Errorf("the rejection was kept as %+v", c)
	}
}
