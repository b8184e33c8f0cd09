package roi_test

import (
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/roi"
)

// TestReleaseEndToEnd walks one request through: authorization, request,
// selections checked against the authorization (Check, then Release),
// the packet of what was selected, the delivery, an exact regeneration,
// and the accounting; then a second
// request under the same authorization, revoked after review, and a third
// once it has expired, are both blocked.
func TestReleaseEndToEnd(t *testing.T) {
	e := newEnv(t)
	e.chart()
	a := e.authorize(nil)
	r := e.attorneyRequest(a.ID, nil)

	// Selections the authorization does not cover: Check says why, and
	// the release is refused with the same reason, the request left as it
	// was.
	bad := []struct {
		name string
		sel  roi.Selection
		says string
	}{
		{"type", roi.Selection{From: day("2025-01-01"), To: day("2025-12-31"), Types: []string{"Encounter"}}, "does not cover visits"},
		{"dates", roi.Selection{From: day("2024-01-01"), To: day("2025-12-31"), Types: []string{"DocumentReference"}}, "starts before 2025-01-01"},
		{"category", roi.Selection{From: day("2025-01-01"), To: day("2025-12-31"), Types: []string{"DocumentReference"}, Categories: []string{roi.SubstanceUse}}, "does not name substance use"},
	}
	for _, b := range bad {
		if _, err := e.svc.Review(specialist(), r.ID, &b.sel); err != nil {
			t.Fatalf("review (%s): %v", b.name, err)
		}
		err := e.svc.Check(specialist(), r.ID)
		if code(err) != custodian.EFORBIDDEN || !strings.Contains(custodian.ErrorMessage(err), b.says) {
			t.Errorf("check of a selection beyond the authorization (%s): %v, want EFORBIDDEN saying %q", b.name, err, b.says)
		}
		_, _, err = e.svc.Release(specialist(), r.ID, roi.Delivery{Method: "mail"})
		if code(err) != custodian.EFORBIDDEN || !strings.Contains(custodian.ErrorMessage(err), b.says) {
			t.Errorf("release of a selection beyond the authorization (%s): %v", b.name, err)
		}
		if got, _ := e.svc.Get(specialist(), r.ID); got.Status != roi.InReview || got.Release != nil {
			t.Fatalf("a refused release changed the request: %+v", got)
		}
	}
	// The minimum necessary: notes from June on.
	rv, err := e.svc.Review(specialist(), r.ID, &roi.Selection{From: day("2025-06-01"), To: day("2025-12-31"), Types: []string{"DocumentReference"}})
	if err != nil || rv.Status != roi.InReview {
		t.Fatalf("review: %v %+v", err, rv)
	}
	if err := e.svc.Check(specialist(), r.ID); err != nil {
		t.Fatalf("check of a selection inside the authorization: %v", err)
	}
	rel, p, err := e.svc.Release(specialist(), r.ID, roi.Delivery{Method: "secure-link", Recipient: "records@bakerlowe.example"})
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, p.PDF) + bundleText(t, p.Bundle)
	for _, m := range []string{"MARKER-DISCHARGE", "MARKER-CLINIC"} {
		if !strings.Contains(text, m) {
			t.Errorf("the packet lacks %s", m)
		}
	}
	for _, m := range []string{"MARKER-PNEUMONIA", "MARKER-WBC", "MARKER-OLD", "MARKER-PART2", "MARKER-PSYTHPN"} {
		if strings.Contains(text, m) {
			t.Errorf("the packet holds %s, outside the selection", m)
		}
	}
	if d := rel.Release.Delivery; d.Method != "secure-link" || d.Recipient != "records@bakerlowe.example" || d.Date.IsZero() {
		t.Errorf("delivery %+v", d)
	}
	if rel.Release.Consent != "Consent/"+a.ID+"/_history/1" {
		t.Errorf("the release pins %q, want the authorization's version", rel.Release.Consent)
	}
	again, same, err := e.svc.Regenerate(specialist(), r.ID)
	if err != nil || !same || again.SHA256 != rel.Release.SHA256 {
		t.Errorf("regenerated packet differs: %v %v", same, err)
	}
	acc, err := e.svc.Accounting(specialist(), e.patient, day("2026-01-01"), e.now)
	if err != nil {
		t.Fatal(err)
	}
	if len(acc.Disclosures) != 0 || acc.Excluded["under the patient's authorization (164.528(a)(1)(iv))"] != 1 {
		t.Errorf("accounting of a release under an authorization: %+v", acc)
	}

	// Revoked between review and release.
	r2 := e.attorneyRequest(a.ID, nil)
	if _, err := e.svc.Review(specialist(), r2.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Revoke(specialist(), a.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.Release(specialist(), r2.ID, roi.Delivery{Method: "mail"}); code(err) != custodian.EFORBIDDEN || !strings.Contains(custodian.ErrorMessage(err), "revoked") {
		t.Errorf("release under a revoked authorization: %v", err)
	}
	// Expired by the time of release.
	b := e.authorize(nil)
	r3 := e.attorneyRequest(b.ID, nil)
	if _, err := e.svc.Review(specialist(), r3.ID, nil); err != nil {
		t.Fatal(err)
	}
	e.now = day("2026-08-02")
	if _, _, err := e.svc.Release(specialist(), r3.ID, roi.Delivery{Method: "mail"}); code(err) != custodian.EFORBIDDEN || !strings.Contains(custodian.ErrorMessage(err), "expired on 2026-08-01") {
		t.Errorf("release under an expired authorization: %v", err)
	}
	for _, id := range []string{r2.ID, r3.ID} {
		if got, _ := e.svc.Get(specialist(), id); got.Status != roi.InReview || got.Release != nil {
			t.Errorf("a blocked release changed request %s: %+v", id, got)
		}
	}
}

// TestSiteCategoryWithoutLabels: a category a site defines by codes alone
// (no security label) can be named by an authorization, and its records
// are released under it and only under it.
func TestSiteCategoryWithoutLabels(t *testing.T) {
	e := newEnv(t)
	e.svc.Categories = append(roi.DefaultCategories(), roi.Category{Code: "eating-disorder", Name: "eating disorder treatment records",
		Regulation: "state law", Codes: []roi.Coding{{System: "http://hl7.org/fhir/sid/icd-10-cm", Code: "F50"}}})
	e.create("ed", `{"resourceType":"Condition","subject":{"reference":"Patient/PATIENT"},"recordedDate":"2025-05-01",`+
		`"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F50.01","display":"Anorexia nervosa MARKER-ED"}]}}`)
	for _, named := range []bool{false, true} {
		a := e.authorize(func(a *roi.Authorization) {
			if named {
				a.Categories = []string{"eating-disorder"}
			}
		})
		if got, err := e.svc.Authorization(specialist(), a.ID); err != nil || named != (len(got.Categories) == 1) {
			t.Fatalf("authorization read back names %v (%v)", got.Categories, err)
		}
		r := e.attorneyRequest(a.ID, func(r *roi.Request) {
			if named {
				r.Categories = []string{"eating-disorder"}
			}
		})
		_, p, err := e.svc.Release(specialist(), r.ID, roi.Delivery{Method: "mail"})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(bundleText(t, p.Bundle), "MARKER-ED"); got != named {
			t.Errorf("named %v: released %v", named, got)
		}
	}
}
