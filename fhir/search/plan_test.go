package search_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

// TestBroadClausesDoNotDrive: clauses that match many resources (a common
// code; a _has over many referrers) are checked per candidate instead of
// gathering their matches first; the pages must be the same either way,
// and cost a fixed number of statements.
func TestBroadClausesDoNotDrive(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 7,800 resources")
	}
	ctx := custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: "plan", Kind: "system"})
	_, st := sqldbtest.OpenStore(t)
	var batch []map[string]any
	var male, withCondition, speaking []string
	for i := range 6500 {
		id := fmt.Sprintf("p%04d", i)
		g := "male"
		if i%5 == 0 {
			g = "female"
		} else {
			male = append(male, id)
		}
		pt := map[string]any{"resourceType": "Patient", "id": id, "gender": g}
		if i%3 == 0 {
			pt["communication"] = []any{map[string]any{"language": map[string]any{"coding": []any{map[string]any{"system": "urn:ietf:bcp:47", "code": "en-US"}}}}}
			if g == "male" {
				speaking = append(speaking, id)
			}
		}
		batch = append(batch, pt)
		if i%5 == 1 && len(withCondition) < 600 {
			withCondition = append(withCondition, id)
			for j := range 2 {
				batch = append(batch, map[string]any{"resourceType": "Condition", "id": fmt.Sprintf("c%04d-%d", i, j),
					"subject": map[string]any{"reference": "Patient/" + id},
					"code":    map[string]any{"coding": []any{map[string]any{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I10"}}}})
			}
		}
	}
	sqldbtest.Put(t, ctx, st, batch)
	for _, tc := range []struct {
		query      string
		want       []string
		statements int64 // per page: the probes and the page
	}{
		{"gender=male&_count=700", male, 2},
		// The first referrers' targets counted, the first candidates'
		// referrers counted, the referrers counted, the page.
		{"_has:Condition:patient:code=http://hl7.org/fhir/sid/icd-10-cm|I10&_count=40", withCondition, 4},
		// A long list of codes checked per candidate.
		{"gender=male&language:in=http://hl7.org/fhir/ValueSet/languages&_count=700", speaking, 2},
		{"gender=female&_count=700", nil, 2}, // under the probe: drives
	} {
		q, err := st.ParseQueryString("Patient", tc.query)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for page := 0; page < 100; page++ {
			cctx, n := sqldb.CountSearchStatements(ctx)
			p, err := st.Search(cctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if n.Load() != tc.statements {
				t.Errorf("%s: %d statements for a page, want %d", tc.query, n.Load(), tc.statements)
			}
			for _, r := range p.Resources {
				got = append(got, r.ID)
			}
			if p.Next == "" {
				break
			}
			q.Cursor = p.Next
		}
		if tc.want == nil {
			tc.want = []string{}
			for i := 0; i < 6500; i += 5 {
				tc.want = append(tc.want, fmt.Sprintf("p%04d", i))
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %d resources, want %d", tc.query, len(got), len(tc.want))
		}
	}
	// The _has answered each way gives the same pages.
	for _, plan := range []sqldb.HasPlan{sqldb.HasGather, sqldb.HasWalk, sqldb.HasSet} {
		q, err := st.ParseQueryString("Patient", "_has:Condition:patient:code=http://hl7.org/fhir/sid/icd-10-cm|I10&_count=40")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for page := 0; page < 100; page++ {
			p, err := st.Search(sqldb.WithHasPlan(ctx, plan), q)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range p.Resources {
				got = append(got, r.ID)
			}
			if p.Next == "" {
				break
			}
			q.Cursor = p.Next
		}
		if !slices.Equal(got, withCondition) {
			t.Errorf("plan %d: %d resources, want %d", plan, len(got), len(withCondition))
		}
	}
}

// TestIncludesCostFixedStatements: a page with three _includes costs the
// same number of statements for 10 matches as for 100 (no query per
// resource).
func TestIncludesCostFixedStatements(t *testing.T) {
	ctx := custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: "plan", Kind: "system"})
	_, st := sqldbtest.OpenStore(t)
	var batch []map[string]any
	for i := range 120 {
		p, pr, c := fmt.Sprintf("p%d", i%40), fmt.Sprintf("pr%d", i%7), fmt.Sprintf("c%d", i)
		batch = append(batch,
			map[string]any{"resourceType": "Condition", "id": c, "subject": map[string]any{"reference": "Patient/" + p}},
			map[string]any{"resourceType": "Encounter", "id": fmt.Sprintf("e%d", i), "status": "finished",
				"class":       map[string]any{"code": "AMB"},
				"subject":     map[string]any{"reference": "Patient/" + p},
				"participant": []any{map[string]any{"individual": map[string]any{"reference": "Practitioner/" + pr}}},
				"diagnosis":   []any{map[string]any{"condition": map[string]any{"reference": "Condition/" + c}}}})
		if i < 40 {
			batch = append(batch, map[string]any{"resourceType": "Patient", "id": p})
		}
		if i < 7 {
			batch = append(batch, map[string]any{"resourceType": "Practitioner", "id": pr})
		}
	}
	sqldbtest.Put(t, ctx, st, batch)
	var counts []int64
	for _, n := range []int{10, 100} {
		q, err := st.ParseQueryString("Encounter", fmt.Sprintf("status=finished&_count=%d&_include=Encounter:patient&_include=Encounter:participant&_include=Encounter:diagnosis", n))
		if err != nil {
			t.Fatal(err)
		}
		cctx, stmts := sqldb.CountSearchStatements(ctx)
		res, err := st.SearchWithIncludes(cctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Resources) != n {
			t.Fatalf("%d matches, want %d", len(res.Resources), n)
		}
		patients, practitioners, conditions := min(n, 40), min(n, 7), n
		if got, want := len(res.Included), patients+practitioners+conditions; got != want {
			t.Errorf("_count=%d: %d included, want %d", n, got, want)
		}
		counts = append(counts, stmts.Load())
	}
	if counts[0] != counts[1] || counts[0] > 5 {
		t.Errorf("statements for 10 and 100 matches: %v, want the same, at most 5", counts)
	}
}

// TestHasIgnoresDeletedAndChangedReferrers: a _has answered any way finds
// targets only through the current version of a current referrer (the
// plans read referrers from the index tables alone, which a delete or an
// update clears).
func TestHasIgnoresDeletedAndChangedReferrers(t *testing.T) {
	ctx := custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: "plan", Kind: "system"})
	_, st := sqldbtest.OpenStore(t)
	cond := func(id, patient, code string) map[string]any {
		return map[string]any{"resourceType": "Condition", "id": id, "subject": map[string]any{"reference": "Patient/" + patient},
			"code": map[string]any{"coding": []any{map[string]any{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code}}}}
	}
	batch := []map[string]any{
		{"resourceType": "Patient", "id": "a"}, {"resourceType": "Patient", "id": "b"}, {"resourceType": "Patient", "id": "c"},
		cond("ca", "a", "I10"), cond("cb", "b", "I10"), cond("cc", "c", "I10"),
	}
	sqldbtest.Put(t, ctx, st, batch)
	if _, err := st.Delete(ctx, "Condition", "ca", store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	sqldbtest.Put(t, ctx, st, []map[string]any{cond("cb", "b", "E11.9")})
	for _, plan := range []sqldb.HasPlan{sqldb.HasByCost, sqldb.HasGather, sqldb.HasWalk, sqldb.HasSet} {
		for query, want := range map[string][]string{
			"_has:Condition:patient:code=http://hl7.org/fhir/sid/icd-10-cm|I10":                 {"c"},
			"_has:Condition:patient:code=http://hl7.org/fhir/sid/icd-10-cm|I10,E11.9":           {"b", "c"},
			"_has:Condition:patient:code:not=http://hl7.org/fhir/sid/icd-10-cm|I10":             {"b"},
			"_has:Condition:patient:code=E11.9&_has:Condition:patient:code=I10":                 {},
			"_has:Condition:subject:_id=ca":                                                     {},
			"_has:Condition:patient:code=http://hl7.org/fhir/sid/icd-10-cm|I10&_total=accurate": {"c"},
		} {
			q, err := st.ParseQueryString("Patient", query)
			if err != nil {
				t.Fatal(err)
			}
			q.Count = 2
			got, err := searchAll(sqldb.WithHasPlan(ctx, plan), st, q)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				got = []string{}
			}
			if !slices.Equal(got, want) {
				t.Errorf("plan %d, %s: %v, want %v", plan, query, got, want)
			}
		}
	}
}
