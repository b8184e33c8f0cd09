package sqldb_test

import (
	"fmt"
	"testing"

	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

// TestConditionalSearchesReuseStatements runs conditional creates (a
// search inside a write) and searches of one shape with different values:
// each must find exactly what it should, and on SQLite the SQL of the
// shape is prepared once and kept, not once per write or per search.
func TestConditionalSearchesReuseStatements(t *testing.T) {
	db, st := withStore(t, sqldbtest.Open(t))
	ctx := as("ana", "clinician")
	create := func(mrn int) *store.Outcome {
		t.Helper()
		body := fmt.Sprintf(`{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"%d"}]}`, mrn)
		out, err := st.Create(ctx, "Patient", []byte(body), store.WriteOptions{IfNoneExist: fmt.Sprintf("identifier=urn:mrn|%d", mrn)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	ids := map[int]string{}
	var kept int
	for i := range 12 {
		out := create(i)
		if !out.Created {
			t.Fatalf("MRN %d: found a match in an empty store", i)
		}
		ids[i] = out.Resource.ID
		if i == 1 {
			kept, _ = sqldb.PreparedCounts(db)
		}
	}
	if w, _ := sqldb.PreparedCounts(db); w != kept {
		t.Errorf("the writer keeps %d statements after 12 conditional creates, %d after 2: the SQL text depends on the values, not only the shape", w, kept)
	}
	if sqldbtest.Engine() == "sqlite" && kept == 0 {
		t.Error("the writer keeps no statements")
	}
	for i := range 12 {
		out := create(i)
		if out.Created || out.Resource.ID != ids[i] {
			t.Fatalf("MRN %d again: created=%v id %s, want the existing %s", i, out.Created, out.Resource.ID, ids[i])
		}
	}
	for round := range 2 {
		for i := range 12 {
			q, err := st.ParseQueryString("Patient", fmt.Sprintf("identifier=urn:mrn|%d", i))
			if err != nil {
				t.Fatal(err)
			}
			page, err := st.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Resources) != 1 || page.Resources[0].ID != ids[i] {
				t.Fatalf("round %d, MRN %d: found %d resources", round, i, len(page.Resources))
			}
		}
		_, r := sqldb.PreparedCounts(db)
		if sqldbtest.Engine() == "sqlite" && r == 0 {
			t.Errorf("round %d: the readers keep no statements", round)
		}
	}
}
