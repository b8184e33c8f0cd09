package sqldb_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/store"
)

// backendOnly hides every optional interface of a backend, so a store over
// it makes index rows and packs bodies inside the write.
type backendOnly struct{ store.Backend }

// TestPackedIndexRows checks that the index rows made before a write
// (PackIndex, used by creates and bulk loads) are the rows the write makes
// itself, for a resource with values of every common kind, and that a
// resource stored either way is found by the same searches.
func TestPackedIndexRows(t *testing.T) {
	db, packed := open(t)
	reg, err := search.NewR4(fhir.R4())
	if err != nil {
		t.Fatal(err)
	}
	plain := store.New(backendOnly{db}, fhir.R4(), reg)
	ctx := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	obs := func(id string) map[string]any {
		res, err := store.Decode([]byte(`{"resourceType": "Observation", "id": "` + id + `", "status": "final",
			"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}], "text": "Systolic"},
			"subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2024-03-01T10:00:00Z",
			"valueQuantity": {"value": 120.5, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"},
			"component": [{"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
				"valueQuantity": {"value": 80, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}}]}`))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if _, err := packed.PutBatch(ctx, []map[string]any{obs("packed")}); err != nil {
		t.Fatal(err)
	}
	if _, err := plain.PutBatch(ctx, []map[string]any{obs("plain")}); err != nil {
		t.Fatal(err)
	}
	a, b := indexRowsOf(t, db, "packed"), indexRowsOf(t, db, "plain")
	if len(a) < 10 {
		t.Fatalf("only %d index rows for the packed resource: %v", len(a), a)
	}
	if !slices.Equal(a, b) {
		t.Errorf("index rows differ:\npacked %v\nplain  %v", a, b)
	}
	for _, q := range []string{"code=http://loinc.org|8480-6", "subject=Patient/p1", "date=2024-03-01", "value-quantity=120.5||mm[Hg]", "combo-code=8462-4"} {
		query, err := packed.ParseQueryString("Observation", q)
		if err != nil {
			t.Fatal(err)
		}
		page, err := packed.Search(ctx, query)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Resources) != 2 {
			t.Errorf("%s: %d found, want both", q, len(page.Resources))
		}
	}
}

// indexRowsOf lists the index rows of Observation/id without their rid,
// sorted.
func indexRowsOf(t *testing.T, db *sqldb.DB, id string) []string {
	t.Helper()
	var out []string
	for _, table := range []string{"idx_token", "idx_reference", "idx_date", "idx_string", "idx_uri", "idx_number", "idx_quantity", "idx_composite"} {
		rows, err := db.SQL().Query(`SELECT x.* FROM ` + table + ` x JOIN resources r ON r.rid = x.rid WHERE r.type = 'Observation' AND r.id = '` + id + `'`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			line := table
			for i, c := range cols {
				if c != "rid" {
					line += fmt.Sprintf(" %s=%v", c, vals[i])
				}
			}
			out = append(out, line)
		}
		rows.Close()
	}
	slices.Sort(out)
	return out
}
