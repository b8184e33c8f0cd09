package roi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/roi"
	"github.com/custodian-him/custodian/store"
)

func storeOpts() store.WriteOptions { return store.WriteOptions{} }

func TestAccountingListsDisclosuresTheRuleRequires(t *testing.T) {
	e := newEnv(t)
	e.chart()
	e.svc.Disclosures = roi.AccountingConfig{ExportRecipients: map[string]string{"state-registry": "State Immunization Registry: public health reporting"},
		BreakGlass: true}
	release := func(mod func(r *roi.Request)) *roi.Request {
		t.Helper()
		r := e.attorneyRequest("", mod)
		rel, _, err := e.svc.Release(specialist(), r.ID, roi.Delivery{Method: "mail"})
		if err != nil {
			t.Fatal(err)
		}
		return rel
	}
	court := release(func(r *roi.Request) {
		r.RequesterKind, r.RequesterName, r.Purpose, r.Authorization = roi.CourtOrder, "Springfield County Court", "HLEGAL", ""
		r.LegalAuthority = "Order 2026-CV-0113"
	})
	release(func(r *roi.Request) {
		r.RequesterKind, r.RequesterName, r.Purpose, r.Authorization = roi.Provider, "Lakeside Cardiology", "TREAT", ""
	})
	release(func(r *roi.Request) {
		r.RequesterKind, r.RequesterName, r.Purpose, r.Authorization = roi.Patient, "Amara Okafor", "PATRQT", ""
		r.IdentityVerified = "photo ID"
	})
	authorized := e.attorneyRequest(e.authorize(nil).ID, nil)
	if _, _, err := e.svc.Release(specialist(), authorized.ID, roi.Delivery{Method: "mail"}); err != nil {
		t.Fatal(err)
	}
	// An export by the registry's client, one by an internal client, and
	// a break-the-glass view.
	for _, client := range []string{"state-registry", "analytics"} {
		ctx := custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: client, Kind: "client"})
		if err := e.st.RecordExport(ctx, store.ExportRecord{Query: "/fhir/Patient/" + e.patient + "/$export", Patients: []string{e.patient}}); err != nil {
			t.Fatal(err)
		}
	}
	doc := custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: "dr.ng", Kind: "user", Roles: []string{"clinician"}})
	if err := e.st.BreakGlass(doc, e.patient, "unconscious in the emergency department", time.Hour); err != nil {
		t.Fatal(err)
	}
	e.now = e.now.Add(time.Hour)
	acc, err := e.svc.Accounting(specialist(), e.patient, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var sources []string
	for _, d := range acc.Disclosures {
		sources = append(sources, d.Source+":"+d.Recipient)
	}
	want := []string{"release:Springfield County Court, 12 Court St, Springfield", "export:State Immunization Registry", "break-glass:dr.ng (break-the-glass access)"}
	if strings.Join(sources, "|") != strings.Join(want, "|") {
		t.Fatalf("disclosures %q, want %q", sources, want)
	}
	if acc.Disclosures[0].Ref != court.Number || !strings.Contains(acc.Disclosures[0].Why, "Order 2026-CV-0113") {
		t.Errorf("court release: %+v", acc.Disclosures[0])
	}
	for _, why := range []string{"treatment, payment or health care operations (164.528(a)(1)(i))", "to the individual (164.528(a)(1)(ii))",
		"under the patient's authorization (164.528(a)(1)(iv))"} {
		if acc.Excluded[why] != 1 {
			t.Errorf("excluded %v, want one %q", acc.Excluded, why)
		}
	}
	// The period bounds the accounting.
	acc, err = e.svc.Accounting(specialist(), e.patient, day("2020-01-01"), day("2026-03-01"))
	if err != nil {
		t.Fatal(err)
	}
	if len(acc.Disclosures) != 0 {
		t.Errorf("%d disclosures before any was made", len(acc.Disclosures))
	}
	if !acc.From.Equal(e.now.AddDate(-6, 0, 0)) {
		t.Errorf("accounting from %s: six years back is %s", acc.From, e.now.AddDate(-6, 0, 0))
	}
}
