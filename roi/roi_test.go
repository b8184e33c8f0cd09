package roi_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/roi"
)

func TestDueDatesAndExtension(t *testing.T) {
	e := newEnv(t)
	r := e.attorneyRequest(e.authorize(nil).ID, nil)
	if got, want := r.Due, day("2026-04-01"); !got.Equal(want) {
		t.Fatalf("due %s, want %s (received 2026-03-02 + 30 days)", got, want)
	}
	if r.Status != roi.Requested || r.Number == "" || !strings.HasPrefix(r.Number, "ROI-20260302-") {
		t.Fatalf("status %s number %q", r.Status, r.Number)
	}
	if got := r.Age(e.now); got != 8 {
		t.Errorf("age %d days, want 8", got)
	}
	if got := r.DaysLeft(e.now); got != 22 {
		t.Errorf("days left %d, want 22", got)
	}
	if _, err := e.svc.Extend(specialist(), r.ID, ""); code(err) != custodian.EINVALID {
		t.Errorf("extension without a reason: %v, want EINVALID", err)
	}
	x, err := e.svc.Extend(specialist(), r.ID, "records stored off site")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := x.Due, day("2026-05-01"); !got.Equal(want) {
		t.Errorf("extended due %s, want %s", got, want)
	}
	if _, err := e.svc.Extend(specialist(), r.ID, "again"); code(err) != custodian.ECONFLICT {
		t.Errorf("second extension: %v, want ECONFLICT", err)
	}
	// Past its due date a request cannot be extended, and is overdue.
	late := e.attorneyRequest(e.authorize(nil).ID, func(r *roi.Request) { r.Received = day("2026-01-15") })
	if !late.Overdue(e.now) {
		t.Errorf("a request received 2026-01-15 is not overdue on %s", e.now)
	}
	if _, err := e.svc.Extend(specialist(), late.ID, "too late"); code(err) != custodian.EPRECONDITION {
		t.Errorf("late extension: %v, want EPRECONDITION", err)
	}
	queue, err := e.svc.List(specialist(), roi.Filter{Open: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(queue) != 2 || queue[0].ID != late.ID {
		t.Errorf("queue %v, want the overdue request first of two", queue)
	}
	if _, err := e.svc.Cancel(specialist(), late.ID, "requester withdrew"); err != nil {
		t.Fatal(err)
	}
	if q, _ := e.svc.List(specialist(), roi.Filter{Open: true}); len(q) != 1 {
		t.Errorf("%d open after a cancel, want 1", len(q))
	}
}

func TestRequestNeedsItsBasis(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name string
		mod  func(r *roi.Request)
	}{
		{"attorney without authorization", func(r *roi.Request) { r.Authorization = "" }},
		{"patient without identity verification", func(r *roi.Request) { r.RequesterKind, r.Purpose, r.Authorization = roi.Patient, "PATRQT", "" }},
		{"court order without the order", func(r *roi.Request) { r.RequesterKind, r.Authorization = roi.CourtOrder, "" }},
		{"no record types", func(r *roi.Request) { r.Types = nil }},
		{"unknown record type", func(r *roi.Request) { r.Types = []string{"Basic"} }},
		{"unknown purpose", func(r *roi.Request) { r.Purpose = "CURIOSITY" }},
		{"dates reversed", func(r *roi.Request) { r.From, r.To = r.To, r.From }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &roi.Request{Patient: e.patient, RequesterKind: roi.Attorney, RequesterName: "Baker & Lowe LLP", Purpose: "HLEGAL",
				Authorization: "x", From: day("2025-01-01"), To: day("2025-12-31"), Types: []string{"DocumentReference"}, Received: day("2026-03-02")}
			c.mod(r)
			if _, err := e.svc.Submit(specialist(), r); code(err) != custodian.EINVALID {
				t.Errorf("got %v, want EINVALID", err)
			}
		})
	}
}

func TestPacketLeavesOutSubstanceUse(t *testing.T) {
	e := newEnv(t)
	e.chart()
	// The specialist cannot see the Part 2 note at all.
	if _, err := e.st.Read(specialist(), "DocumentReference", e.ids["part2"]); code(err) != custodian.ENOTFOUND {
		t.Fatalf("specialist reads the Part 2 note: %v", err)
	}
	r := e.attorneyRequest(e.authorize(nil).ID, nil)
	rel, p, err := e.svc.Release(specialist(), r.ID, roi.Delivery{Method: "mail"})
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, p.PDF)
	for _, leak := range []string{"MARKER-PART2", "MARKER-OUD", "MARKER-PSYTHPN", "Methadone", "MARKER-OLD", "ubstance", "Part 2", "sychotherapy"} {
		if strings.Contains(text, leak) {
			t.Errorf("the PDF shows %q", leak)
		}
		if strings.Contains(bundleText(t, p.Bundle), leak) {
			t.Errorf("the Bundle holds %q", leak)
		}
	}
	for _, id := range []string{e.ids["part2"], e.ids["oud"], e.ids["psychotherapy"]} {
		if bytes.Contains(p.Bundle, []byte(id)) {
			t.Errorf("the Bundle names excluded record %s", id)
		}
	}
	for _, want := range []string{"MARKER-DISCHARGE", "MARKER-CLINIC", "MARKER-PNEUMONIA", "MARKER-WBC", "14.2 10*3/uL",
		"Baker & Lowe LLP", r.Number, "Amara Okafor", "Contents", "3 record(s): " + roi.ScopeReason,
		"1 record(s): outside the date range"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF does not show %q", want)
		}
	}
	if !strings.Contains(bundleText(t, p.Bundle), "MARKER-DISCHARGE") {
		t.Error("the Bundle lacks the discharge summary")
	}
	// Every page is stamped with the patient, the request and page x of y.
	if p.Pages < 5 {
		t.Fatalf("%d pages", p.Pages)
	}
	for i := 1; i <= p.Pages; i++ {
		if !strings.Contains(text, fmt.Sprintf("Page %d of %d", i, p.Pages)) {
			t.Errorf("no page stamped %d of %d", i, p.Pages)
		}
	}
	if n := strings.Count(text, "Request "+r.Number); n != p.Pages {
		t.Errorf("%d pages stamped with the request number, want %d", n, p.Pages)
	}
	if !bytes.Contains(p.PDF, []byte("/Subtype /Image")) {
		t.Error("the scanned image is not in the PDF")
	}
	if rel.Status != roi.Fulfilled || rel.Release == nil || rel.Release.SHA256 != p.SHA256 || rel.Release.Delivery.Recipient != "Baker & Lowe LLP" {
		t.Fatalf("request after release: %+v", rel)
	}
	if got := rel.Release.Excluded["substance use disorder treatment records (42 CFR Part 2), not authorized"]; got != 2 {
		t.Errorf("%d Part 2 records counted as left out, want 2 (the labelled note and the coded diagnosis)", got)
	}
	// The packet is stored: a DocumentReference with the PDF as a Binary blob.
	doc, err := e.st.Read(system(), "DocumentReference", rel.Release.DocumentReference)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc.Body, []byte(`"application/pdf"`)) || !bytes.Contains(doc.Body, []byte(roi.PacketCategory)) {
		t.Errorf("packet DocumentReference: %s", doc.Body)
	}
	// A second release for the same patient does not include the first packet.
	r2 := e.attorneyRequest(e.authorize(nil).ID, nil)
	_, p2, err := e.svc.Release(specialist(), r2.ID, roi.Delivery{Method: "email"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p2.Items) != len(p.Items) {
		t.Errorf("second packet has %d records, first %d", len(p2.Items), len(p.Items))
	}
}

func TestPacketIncludesWhatTheAuthorizationNames(t *testing.T) {
	e := newEnv(t)
	e.chart()
	a := e.authorize(func(a *roi.Authorization) { a.Categories = []string{roi.SubstanceUse} })
	r := e.attorneyRequest(a.ID, func(r *roi.Request) { r.Categories = []string{roi.SubstanceUse} })
	rel, p, err := e.svc.Release(specialist(), r.ID, roi.Delivery{Method: "portal"})
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, p.PDF)
	for _, want := range []string{"MARKER-PART2", "MARKER-OUD", "42 CFR Part 2"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF does not show %q", want)
		}
	}
	if strings.Contains(text, "MARKER-PSYTHPN") {
		t.Error("psychotherapy notes released under an authorization naming only substance use")
	}
	// The packet carries the label of what it holds, so the store hides it
	// from staff who may not see Part 2 records.
	if _, err := e.st.Read(specialist(), "DocumentReference", rel.Release.DocumentReference); code(err) != custodian.ENOTFOUND {
		t.Errorf("specialist reads a packet holding Part 2 records: %v", err)
	}
}

func TestReleaseBlocked(t *testing.T) {
	cases := []struct {
		name string
		auth func(a *roi.Authorization)
		req  func(r *roi.Request)
		// revoke revokes the authorization before release.
		revoke bool
		code   string
		says   string
	}{
		{name: "expired", auth: func(a *roi.Authorization) { a.Expires = day("2026-03-01") }, code: custodian.EFORBIDDEN, says: "expired on 2026-03-01"},
		{name: "revoked", revoke: true, code: custodian.EFORBIDDEN, says: "has been revoked"},
		{name: "dates beyond", req: func(r *roi.Request) { r.From = day("2024-01-01") }, code: custodian.EFORBIDDEN, says: "starts before 2025-01-01"},
		{name: "type not covered", req: func(r *roi.Request) { r.Types = append(r.Types, "Encounter") }, code: custodian.EFORBIDDEN, says: "does not cover visits and admissions"},
		{name: "category not named", req: func(r *roi.Request) { r.Categories = []string{roi.SubstanceUse} }, code: custodian.EFORBIDDEN, says: "does not name substance use"},
		{name: "other recipient", req: func(r *roi.Request) { r.RequesterName = "Someone Else" }, code: custodian.EFORBIDDEN, says: "not the requester"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			e.chart()
			a := e.authorize(c.auth)
			r := e.attorneyRequest(a.ID, c.req)
			if c.revoke {
				if _, err := e.svc.Revoke(specialist(), a.ID); err != nil {
					t.Fatal(err)
				}
			}
			_, _, err := e.svc.Release(specialist(), r.ID, roi.Delivery{Method: "mail"})
			if code(err) != c.code || !strings.Contains(custodian.ErrorMessage(err), c.says) {
				t.Fatalf("got %v, want %s saying %q", err, c.code, c.says)
			}
			after, err := e.svc.Get(specialist(), r.ID)
			if err != nil || after.Status != roi.Requested || after.Release != nil {
				t.Errorf("request after a blocked release: %+v %v", after, err)
			}
		})
	}
}

func TestIndividualAccess(t *testing.T) {
	e := newEnv(t)
	e.chart()
	base := func(r *roi.Request) {
		r.RequesterKind, r.RequesterName, r.Purpose, r.Authorization = roi.Patient, "Amara Okafor", "PATRQT", ""
		r.IdentityVerified = "driver's license checked at the front desk"
	}
	r := e.attorneyRequest("", func(r *roi.Request) { base(r); r.Categories = []string{roi.PsychotherapyNotes} })
	if _, _, err := e.svc.Release(specialist(), r.ID, roi.Delivery{Method: "pickup"}); code(err) != custodian.EFORBIDDEN {
		t.Errorf("psychotherapy notes under the right of access: %v, want EFORBIDDEN", err)
	}
	r = e.attorneyRequest("", func(r *roi.Request) { base(r); r.Categories = []string{roi.SubstanceUse} })
	_, p, err := e.svc.Release(specialist(), r.ID, roi.Delivery{Method: "pickup"})
	if err != nil {
		t.Fatal(err)
	}
	if text := pdfText(t, p.PDF); !strings.Contains(text, "MARKER-PART2") || !strings.Contains(text, "right of access") {
		t.Error("the patient's own copy lacks the Part 2 note she selected, or the basis")
	}
}

func TestPacketRegeneratesExactly(t *testing.T) {
	e := newEnv(t)
	e.chart()
	r := e.attorneyRequest(e.authorize(nil).ID, nil)
	rel, p, err := e.svc.Release(specialist(), r.ID, roi.Delivery{Method: "mail"})
	if err != nil {
		t.Fatal(err)
	}
	// Records change after the release, and time passes.
	upd := strings.Replace(note("2025-09-15", "Clinic note", "Amended later. MARKER-AMENDED.", ""), "{", `{"id":"`+e.ids["clinic"]+`",`, 1)
	upd = strings.ReplaceAll(upd, "PATIENT", e.patient)
	if _, err := e.st.Update(system(), "DocumentReference", e.ids["clinic"], []byte(upd), storeOpts()); err != nil {
		t.Fatal(err)
	}
	e.now = e.now.Add(72 * time.Hour)
	again, ok, err := e.svc.Regenerate(specialist(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !ok || !bytes.Equal(again.PDF, p.PDF) || !bytes.Equal(again.Bundle, p.Bundle) {
		t.Fatalf("regenerated packet differs (match %v, %d vs %d bytes)", ok, len(again.PDF), len(p.PDF))
	}
	if again.SHA256 != rel.Release.SHA256 {
		t.Errorf("hash %s, stored %s", again.SHA256, rel.Release.SHA256)
	}
	// The stored blob is the same PDF.
	rd, err := e.blobs.Open(rel.Release.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	rd.Close()
}

func TestReviewNarrowsTheSelection(t *testing.T) {
	e := newEnv(t)
	e.chart()
	r := e.attorneyRequest(e.authorize(nil).ID, nil)
	rv, err := e.svc.Review(specialist(), r.ID, &roi.Selection{From: day("2025-09-01"), To: day("2025-12-31"), Types: []string{"DocumentReference"}})
	if err != nil {
		t.Fatal(err)
	}
	if rv.Status != roi.InReview || len(rv.Types) != 1 || !rv.Due.Equal(r.Due) {
		t.Fatalf("after review: %+v", rv)
	}
	for _, role := range []string{"registrar", "coder", "record-analyst", "auditor"} {
		other := custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: "u-" + role, Kind: "user", Roles: []string{role}})
		if _, _, err := e.svc.Release(other, r.ID, roi.Delivery{Method: "mail"}); code(err) != custodian.EFORBIDDEN {
			t.Errorf("a %s releases records: %v, want EFORBIDDEN", role, err)
		}
	}
	_, p, err := e.svc.Release(specialist(), r.ID, roi.Delivery{Method: "secure-link"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 1 || p.Items[0].ID != e.ids["clinic"] {
		t.Errorf("released %d records, want only the September clinic note", len(p.Items))
	}
	if _, err := e.svc.Deny(specialist(), r.ID, "duplicate"); code(err) != custodian.ECONFLICT {
		t.Errorf("deny after release: %v, want ECONFLICT", err)
	}
	d := e.attorneyRequest(e.authorize(nil).ID, nil)
	if got, err := e.svc.Deny(specialist(), d.ID, "the requester is not the patient's representative"); err != nil || got.Status != roi.Denied {
		t.Errorf("deny: %v %v", got, err)
	}
	if _, _, err := e.svc.Release(specialist(), d.ID, roi.Delivery{Method: "mail"}); code(err) != custodian.ECONFLICT {
		t.Errorf("release of a denied request: %v, want ECONFLICT", err)
	}
}
