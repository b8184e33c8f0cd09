package sqldb_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

// TestCompartmentSearchDrivesFromReferrers: a compartment search
// (Patient/p/Condition, as a merge preview reads a record) finds the
// patient's own resources, and costs about what a search by the patient's
// reference does, however many resources of the type other patients have.
// Written as an OR of "refers to the patient" and "is the patient", the
// query walked every Condition in the store: 37 s at 100,000 patients.
func TestCompartmentSearchDrivesFromReferrers(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 20,000 resources")
	}
	ctx := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	_, st := sqldbtest.OpenStore(t)
	var batch []map[string]any
	for i := range 20000 {
		p := fmt.Sprintf("other-%d", i%500)
		if i%5000 == 7 {
			p = "mine"
		}
		batch = append(batch, map[string]any{"resourceType": "Condition", "id": fmt.Sprintf("c%05d", i),
			"subject": map[string]any{"reference": "Patient/" + p},
			"code":    map[string]any{"coding": []any{map[string]any{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I10"}}}})
	}
	batch = append(batch, map[string]any{"resourceType": "Patient", "id": "mine"})
	sqldbtest.Put(t, ctx, st, batch)
	search := func(typ string, params url.Values, compartment bool) ([]string, time.Duration) {
		t.Helper()
		q, _, err := st.ParseQuery(typ, params, false)
		if err != nil {
			t.Fatal(err)
		}
		if compartment {
			q.Compartment = &store.Compartment{Type: "Patient", ID: "mine", Params: map[string][]string{typ: fhir.PatientCompartmentParams(typ)}}
		}
		best := time.Hour
		var ids []string
		for range 7 { // the fastest of seven: the machine is shared
			start := time.Now()
			page, err := st.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			best = min(best, time.Since(start))
			ids = ids[:0]
			for _, r := range page.Resources {
				ids = append(ids, r.ID)
			}
		}
		return ids, best
	}
	want := []string{"c00007", "c05007", "c10007", "c15007"}
	got, inCompartment := search("Condition", url.Values{"_count": {"100"}}, true)
	if !slices.Equal(got, want) {
		t.Fatalf("Patient/mine/Condition = %v, want %v", got, want)
	}
	got, bySubject := search("Condition", url.Values{"subject": {"Patient/mine"}, "_count": {"100"}}, false)
	if !slices.Equal(got, want) {
		t.Fatalf("Condition?subject=Patient/mine = %v, want %v", got, want)
	}
	if got, _ := search("Patient", url.Values{"_count": {"100"}}, true); !slices.Equal(got, []string{"mine"}) {
		t.Fatalf("Patient/mine/Patient = %v, want the patient", got)
	}
	// Walking 20,000 Conditions costs tens of milliseconds; reading four
	// through the reference index, well under one.
	if inCompartment > 10*bySubject+time.Millisecond {
		t.Errorf("Patient/mine/Condition took %s, Condition?subject=Patient/mine %s: the compartment search walks the type", inCompartment, bySubject)
	}
	t.Logf("compartment %s, by subject %s", inCompartment, bySubject)
}
