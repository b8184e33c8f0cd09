package sqldb_test

import (
	"context"
	"slices"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/store"
)

// TestRepeatedIndexValues writes resources that carry the same searchable
// value more than once (a code, an identifier, a reference, a date), made
// both before the write (PackIndex) and in it, then updates one: every
// write succeeds, each value is one index row, and searches find them.
func TestRepeatedIndexValues(t *testing.T) {
	db, packed := open(t)
	reg, err := search.NewR4(fhir.R4())
	if err != nil {
		t.Fatal(err)
	}
	plain := store.New(backendOnly{db}, fhir.R4(), reg)
	ctx := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	body := func(id, status string) string {
		return `{"resourceType": "Observation", "id": "` + id + `", "status": "` + status + `",
			"identifier": [{"system": "urn:x", "value": "1"}, {"system": "urn:x", "value": "1"}],
			"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}, {"system": "http://loinc.org", "code": "8480-6"}]},
			"subject": {"reference": "Patient/p1"}, "focus": [{"reference": "Patient/p1"}, {"reference": "Patient/p1/_history/1"}, {"reference": "Patient/p1", "display": "P"}],
			"effectiveDateTime": "2024-03-01", "issued": "2024-03-01T00:00:00Z"}`
	}
	obs := func(id, status string) map[string]any {
		res, err := store.Decode([]byte(body(id, status)))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if _, err := packed.PutBatch(ctx, []map[string]any{obs("packed", "final")}); err != nil {
		t.Fatal(err)
	}
	if _, err := plain.PutBatch(ctx, []map[string]any{obs("plain", "final")}); err != nil {
		t.Fatal(err)
	}
	if _, err := packed.Update(ctx, "Observation", "packed", []byte(body("packed", "amended")), store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	a, b := indexRowsOf(t, db, "packed"), indexRowsOf(t, db, "plain")
	if db.Dialect().Name == "sqlite" {
		for _, rows := range [][]string{a, b} {
			if c := slices.Compact(slices.Clone(rows)); len(c) != len(rows) {
				t.Errorf("repeated index rows stored: %v", rows)
			}
		}
	}
	for _, q := range []string{"code=http://loinc.org|8480-6", "identifier=urn:x|1", "focus=Patient/p1", "subject=Patient/p1"} {
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
