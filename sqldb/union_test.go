package sqldb_test

import (
	"slices"
	"testing"

	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

// unionObservations cover every combo-* parameter of Observation: values
// on the Observation itself, on its components, and both.
var unionObservations = []string{
	`{"resourceType":"Observation","id":"bp","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},
	  "component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":120,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
	               {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"dataAbsentReason":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/data-absent-reason","code":"error"}]}}]}`,
	`{"resourceType":"Observation","id":"hb","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"718-7"}],"text":"Hemoglobin"},
	  "valueQuantity":{"value":13.5,"unit":"g/dL","system":"http://unitsofmeasure.org","code":"g/dL"}}`,
	`{"resourceType":"Observation","id":"smoke","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"72166-2"}]},
	  "valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"266919005"}]}}`,
	`{"resourceType":"Observation","id":"panel","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"X-1"}]},
	  "dataAbsentReason":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/data-absent-reason","code":"unknown"}]},
	  "component":[{"code":{"coding":[{"system":"http://loinc.org","code":"X-2"}]},"valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"260385009"}]}}]}`,
}

// TestUnionParams checks the premise of storing union parameters once
// (sqldb/union.go): every value a part has, the union has too. Then it
// searches every union parameter, by values on the resource and on its
// components, negated and missing, and finds exactly what it should.
func TestUnionParams(t *testing.T) {
	reg, err := search.NewR4(fhir.R4())
	if err != nil {
		t.Fatal(err)
	}
	unions := map[string][]string{
		"combo-code":                {"code", "component-code"},
		"combo-code-value-concept":  {"code-value-concept", "component-code-value-concept"},
		"combo-code-value-quantity": {"code-value-quantity", "component-code-value-quantity"},
		"combo-data-absent-reason":  {"data-absent-reason", "component-data-absent-reason"},
		"combo-value-concept":       {"value-concept", "component-value-concept"},
		"combo-value-quantity":      {"value-quantity", "component-value-quantity"},
	}
	covered := map[string]int{}
	for _, src := range unionObservations {
		res, err := store.Decode([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		entries, err := reg.Index("Observation", res)
		if err != nil {
			t.Fatal(err)
		}
		values := map[string][]store.IndexEntry{}
		for _, e := range entries {
			p := e.Param
			e.Param = ""
			values[p] = append(values[p], e)
		}
		for u, parts := range unions {
			for _, p := range parts {
				for _, v := range values[p] {
					if !slices.Contains(values[u], v) {
						t.Errorf("%s: %s has %+v, %s does not", res["id"], p, v, u)
					}
					covered[u]++
				}
			}
		}
	}
	for u := range unions {
		if covered[u] == 0 {
			t.Errorf("no test resource has a value of %s's parts", u)
		}
	}

	db, st := withStore(t, sqldbtest.Open(t))
	ctx := as("ana", "clinician")
	for _, src := range unionObservations {
		res, _ := store.Decode([]byte(src))
		if _, err := st.Update(ctx, "Observation", res["id"].(string), []byte(src), store.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var unionRows int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM idx_token t JOIN search_params p ON p.pid = t.pid WHERE p.code LIKE 'combo-%'`).Scan(&unionRows); err != nil {
		t.Fatal(err)
	}
	if unionRows != 0 {
		t.Errorf("%d token rows of combo parameters stored, want none (their parts have them)", unionRows)
	}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"combo-code=http://loinc.org|85354-9", []string{"bp"}},
		{"combo-code=8480-6", []string{"bp"}},
		{"combo-code=718-7,X-2", []string{"hb", "panel"}},
		{"combo-code:text=hemoglobin", []string{"hb"}},
		{"combo-code:not=8480-6", []string{"hb", "smoke", "panel"}},
		{"combo-value-quantity=gt100", []string{"bp"}},
		{"combo-value-quantity=13.5|http://unitsofmeasure.org|g/dL", []string{"hb"}},
		{"combo-value-quantity:missing=true", []string{"smoke", "panel"}},
		{"combo-code-value-quantity=8480-6$gt119", []string{"bp"}},
		{"combo-code-value-quantity=8480-6$gt121", nil},
		{"combo-code-value-quantity=718-7$13.5", []string{"hb"}},
		{"combo-value-concept=260385009", []string{"panel"}},
		{"combo-value-concept=266919005", []string{"smoke"}},
		{"combo-code-value-concept=X-2$260385009", []string{"panel"}},
		{"combo-code-value-concept=72166-2$266919005", []string{"smoke"}},
		{"combo-data-absent-reason=error", []string{"bp"}},
		{"combo-data-absent-reason=unknown", []string{"panel"}},
		{"combo-data-absent-reason:missing=false", []string{"bp", "panel"}},
		{"combo-code=X-1&combo-code=X-2", []string{"panel"}},
		{"_sort=combo-code&combo-code:missing=false", []string{"bp", "hb", "smoke", "panel"}},
	} {
		q, err := st.ParseQueryString("Observation", c.query)
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		page, err := st.Search(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		var got []string
		for _, r := range page.Resources {
			got = append(got, r.ID)
		}
		if !sameSet(got, c.want) {
			t.Errorf("%s: found %v, want %v", c.query, got, c.want)
		}
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
