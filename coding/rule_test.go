package coding_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/coding"
	"github.com/custodian-him/custodian/drg"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhirapi"
	"github.com/custodian-him/custodian/store"
)

// TestFinalClaimThroughREST: a final coding Claim written through the FHIR
// API — PUT, POST under another id, JSON Patch, a transaction or a batch
// entry — passes the same edits and grouping as finalising through the
// coding service; a bad one is refused with a 422 OperationOutcome naming
// the failed edits, and nothing is stored.
func TestFinalClaimThroughREST(t *testing.T) {
	h, q := ruledHospital(t)
	api := (&fhirapi.Handler{Store: h.st, Types: fhir.R4().ResourceTypes()}).Init()
	doAs := func(kind, method, path, user string, body any) (int, map[string]any) {
		t.Helper()
		b, _ := json.Marshal(body)
		r := httptest.NewRequest(method, "/fhir/"+path, bytes.NewReader(b))
		r.Header.Set("Content-Type", "application/fhir+json")
		if method == "PATCH" {
			r.Header.Set("Content-Type", "application/json-patch+json")
		}
		r = r.WithContext(custodian.NewContextWithActor(r.Context(), &custodian.Actor{ID: user, Kind: kind, Roles: []string{access.RoleCoder}, Scopes: []string{"system/*.*"}}))
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		var out map[string]any
		json.Unmarshal(w.Body.Bytes(), &out)
		return w.Code, out
	}
	do := func(method, path, user string, body any) (int, map[string]any) {
		t.Helper()
		return doAs(access.KindUser, method, path, user, body)
	}
	cody := actor("cody", access.RoleCoder)
	list, err := q.DNFB(cody)
	if err != nil || len(list) < 2 {
		t.Fatalf("DNFB: %d stays, %v", len(list), err)
	}
	enc := list[0].Encounter
	f := h.truth[enc]
	var bad, good []coding.Diagnosis // without POA (error edits), and the truth
	for _, d := range f.Diagnoses {
		bad = append(bad, coding.Diagnosis{Code: d.Code})
		good = append(good, coding.Diagnosis{Code: d.Code, POA: d.POA})
	}
	var px []coding.Procedure
	for _, p := range f.Procedures {
		px = append(px, coding.Procedure{Code: p, Date: list[0].Admitted.Format(time.DateOnly)})
	}
	id := "coding-" + strings.TrimPrefix(enc, "Encounter/")
	draft := func(dx []coding.Diagnosis) map[string]any { return finalDraft(t, h, q, cody, enc, dx, px) }
	stored := func() string {
		t.Helper()
		r, err := h.st.Read(cody, "Claim", id)
		if err != nil {
			t.Fatal(err)
		}
		var c struct{ Status string }
		json.Unmarshal(r.Body, &c)
		return c.Status
	}
	// names reports whether an OperationOutcome names every one of codes.
	names := func(out map[string]any, codes ...string) bool {
		b, _ := json.Marshal(out["issue"])
		return out["resourceType"] == "OperationOutcome" && !slices.ContainsFunc(codes, func(c string) bool { return !bytes.Contains(b, []byte(c)) })
	}

	badClaim := draft(bad)
	for _, c := range []struct {
		name, method, path string
		body               any
	}{
		{"PUT", "PUT", "Claim/" + id, badClaim},
		{"PATCH", "PATCH", "Claim/" + id, []any{map[string]any{"op": "replace", "path": "/status", "value": "active"}}},
		{"transaction", "POST", "", map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
			map[string]any{"request": map[string]any{"method": "PUT", "url": "Claim/" + id}, "resource": badClaim}}}},
		{"POST under another id", "POST", "Claim", func() map[string]any {
			m := maps(badClaim)
			delete(m, "id")
			return m
		}()},
	} {
		code, out := do(c.method, c.path, "cody", c.body)
		if code != http.StatusUnprocessableEntity || !names(out, coding.EditPOAMissing) {
			t.Errorf("%s of a final Claim without POA: %d %v, want 422 naming %s", c.name, code, out, coding.EditPOAMissing)
		}
	}
	// In a batch the entry is refused on its own.
	code, out := do("POST", "", "cody", map[string]any{"resourceType": "Bundle", "type": "batch", "entry": []any{
		map[string]any{"request": map[string]any{"method": "PUT", "url": "Claim/" + id}, "resource": badClaim}}})
	if code != http.StatusOK {
		t.Fatalf("batch: %d %v", code, out)
	}
	resp := out["entry"].([]any)[0].(map[string]any)["response"].(map[string]any)
	if st, _ := resp["status"].(string); !strings.HasPrefix(st, "422") || !names(resp["outcome"].(map[string]any), coding.EditPOAMissing) {
		t.Errorf("batch entry: %v, want 422 naming %s", resp, coding.EditPOAMissing)
	}
	if s := stored(); s != "draft" {
		t.Fatalf("a refused final Claim was stored (status %s)", s)
	}

	goodClaim := draft(good)
	// A DRG the grouper does not give, or another coder's name, is refused.
	wrongDRG := maps(goodClaim)
	pkg := wrongDRG["diagnosis"].([]any)[0].(map[string]any)["packageCode"].(map[string]any)["coding"].([]any)[0].(map[string]any)
	pkg["code"] = "999"
	if code, out := do("PUT", "Claim/"+id, "cody", wrongDRG); code != http.StatusUnprocessableEntity || !names(out, "MS-DRG", "999") {
		t.Errorf("a final Claim stating MS-DRG 999: %d %v, want 422", code, out)
	}
	if code, out := do("PUT", "Claim/"+id, "cora", goodClaim); code != http.StatusUnprocessableEntity || !names(out, "cody") {
		t.Errorf("a final Claim naming another coder: %d %v, want 422", code, out)
	}
	// The coding the service would finalise goes through REST too, and
	// takes the stay off the DNFB.
	if code, out := do("PUT", "Claim/"+id, "cody", goodClaim); code != http.StatusOK {
		t.Fatalf("a final Claim that passes the edits: %d %v", code, out)
	}
	if s := stored(); s != "active" {
		t.Fatalf("the final Claim is %s", s)
	}
	after, _ := q.DNFB(cody)
	if slices.ContainsFunc(after, func(it coding.DNFBItem) bool { return it.Encounter == enc }) {
		t.Error("the stay finalised through REST is still on the DNFB")
	}
	// A Claim under another stay's coding id must code that stay.
	other := maps(goodClaim)
	other["id"] = "coding-" + strings.TrimPrefix(list[1].Encounter, "Encounter/")
	if code, out := do("PUT", "Claim/"+other["id"].(string), "cody", other); code != http.StatusUnprocessableEntity || !names(out, "item.encounter") {
		t.Errorf("a final Claim whose id names another stay: %d %v, want 422", code, out)
	}
	// The service's own finalisation passes the rule it shares.
	enc1, f1 := list[1].Encounter, h.truth[list[1].Encounter]
	var dx1 []coding.Diagnosis
	for _, d := range f1.Diagnoses {
		dx1 = append(dx1, coding.Diagnosis{Code: d.Code, POA: d.POA})
	}
	var px1 []coding.Procedure
	for _, p := range f1.Procedures {
		px1 = append(px1, coding.Procedure{Code: p, Date: list[1].Admitted.Format(time.DateOnly)})
	}
	if _, err := q.Save(cody, enc1, dx1, px1, true); err != nil {
		t.Errorf("finalising through the service under the rule: %v", err)
	}
	// An outpatient institutional claim is not held to the inpatient
	// edits (POA) of the coding service.
	qa, err := h.st.ParseQueryString("Encounter", "class=AMB&_count=1")
	if err != nil {
		t.Fatal(err)
	}
	amb, err := h.st.Search(cody, qa)
	if err != nil || len(amb.Resources) == 0 {
		t.Fatalf("no outpatient encounter in the hospital: %v", err)
	}
	var ae struct{ Subject struct{ Reference string } }
	json.Unmarshal(amb.Resources[0].Body, &ae)
	out1 := maps(badClaim)
	delete(out1, "id")
	out1["patient"] = map[string]any{"reference": ae.Subject.Reference}
	out1["item"].([]any)[0].(map[string]any)["encounter"] = []any{map[string]any{"reference": "Encounter/" + amb.Resources[0].ID}}
	if code, out := do("POST", "Claim", "cody", out1); code != http.StatusCreated {
		t.Errorf("an outpatient institutional claim without POA: %d %v", code, out)
	}
	// An API client's institutional claim is another system's record (a
	// billing system's), stored as sent; a coding-… Claim is judged
	// whoever writes it.
	billing := maps(badClaim)
	delete(billing, "id")
	if code, out := doAs(access.KindClient, "POST", "Claim", "billing-feed", billing); code != http.StatusCreated {
		t.Errorf("an API client's inpatient institutional claim: %d %v, want 201", code, out)
	}
	if code, out := doAs(access.KindClient, "PUT", "Claim/"+id, "billing-feed", badClaim); code != http.StatusUnprocessableEntity {
		t.Errorf("an API client's final coding-… Claim without POA under another coder's name: %d %v, want 422", code, out)
	}
	// Drafts are not judged.
	if code, out := do("PUT", "Claim/"+id, "cody", func() map[string]any { m := maps(badClaim); m["status"] = "draft"; return m }()); code != http.StatusOK {
		t.Errorf("a draft with error edits: %d %v", code, out)
	}
}

// ruledHospital is a generated hospital of 20 patients whose store holds
// user and client writes to the final coding rule, with its coding queue.
// finalDraft saves dx and px as the coder's draft of enc's coding Claim
// through q, as the coder (ctx) sees the record now, and returns the Claim
// as stored made final (active, without meta), for a test to write
// directly.
func finalDraft(t *testing.T, h *hospital, q *coding.Queue, ctx context.Context, enc string, dx []coding.Diagnosis, px []coding.Procedure) map[string]any {
	t.Helper()
	if _, err := q.Save(ctx, enc, dx, px, false); err != nil {
		t.Fatal(err)
	}
	r, err := h.st.Read(ctx, "Claim", coding.ClaimID(enc))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := store.Decode(r.Body)
	m["status"] = "active"
	delete(m, "meta")
	return m
}

func ruledHospital(t *testing.T) (*hospital, *coding.Queue) {
	t.Helper()
	h := loadHospital(t, 20)
	q, err := coding.NewQueue(h.st, loadSet(t), drg.New())
	if err != nil {
		t.Fatal(err)
	}
	h.st.Guard = access.Guard{Rules: []store.WriteRule{q.FinalCodingRule()}}
	return h, q
}

// maps is a deep copy of a JSON object.
func maps(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	json.Unmarshal(b, &out)
	return out
}

// BenchmarkFinalClaimWrite is the final coding rule's own check of a
// coder's final coding Claim (two reads, the edits and the grouper, in a
// read transaction), and a coder's update of that Claim through the
// store with the rule and without it (those include the durable commit).
//
//	go test ./coding -run '^$' -bench FinalClaimWrite -benchtime 200x
func BenchmarkFinalClaimWrite(b *testing.B) {
	h := loadHospital(b, 20)
	q, err := coding.NewQueue(h.st, loadSet(b), drg.New())
	if err != nil {
		b.Fatal(err)
	}
	cody := actor("cody", access.RoleCoder)
	list, err := q.DNFB(cody)
	if err != nil || len(list) == 0 {
		b.Fatalf("DNFB: %v", err)
	}
	enc := list[0].Encounter
	var dx []coding.Diagnosis
	for _, d := range h.truth[enc].Diagnoses {
		dx = append(dx, coding.Diagnosis{Code: d.Code, POA: d.POA})
	}
	var px []coding.Procedure
	for _, p := range h.truth[enc].Procedures {
		px = append(px, coding.Procedure{Code: p, Date: list[0].Admitted.Format(time.DateOnly)})
	}
	if _, err := q.Save(cody, enc, dx, px, true); err != nil {
		b.Fatal(err)
	}
	id := "coding-" + strings.TrimPrefix(enc, "Encounter/")
	r, err := h.st.Read(cody, "Claim", id)
	if err != nil {
		b.Fatal(err)
	}
	claim, _ := store.Decode(r.Body)
	delete(claim, "meta")
	b.Run("check", func(b *testing.B) {
		// The rule's own work, in a read transaction: no write, no fsync.
		check := q.FinalCodingRule().Check
		for range b.N {
			if err := h.db.Read(cody, func(rd store.Reader) error { return check(cody, rd, nil, claim) }); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, c := range []struct {
		name  string
		guard access.Guard
	}{{"none", access.Guard{}}, {"rule", access.Guard{Rules: []store.WriteRule{q.FinalCodingRule()}}}} {
		b.Run(c.name, func(b *testing.B) {
			h.st.Guard = c.guard
			for i := range b.N {
				claim["created"] = time.Date(2025, 1, 1, 0, 0, i, 0, time.UTC).Format(time.RFC3339)
				body, _ := json.Marshal(claim)
				if _, err := h.st.Update(cody, "Claim", id, body, store.WriteOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
