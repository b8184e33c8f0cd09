package sqldb_test

import (
	"slices"
	"testing"

	"github.com/custodian-him/custodian/store"
)

// TestSubjectUnion checks subject as the union of patient (union.go): a
// reference to a Patient is stored once, as a patient row, so every way of
// reading subject must read the patient rows too, and patient must not
// read subject's other references.
func TestSubjectUnion(t *testing.T) {
	db, st := open(t)
	ctx := as("ana", "clinician")
	for _, body := range []string{
		`{"resourceType":"Patient","id":"p1","name":[{"family":"Alpha"}]}`,
		`{"resourceType":"Group","id":"g1","type":"person","actual":true}`,
		`{"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"a"}]},"subject":{"reference":"Patient/p1"}}`,
		`{"resourceType":"Observation","id":"o2","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"b"}]},"subject":{"reference":"Group/g1"}}`,
		`{"resourceType":"Observation","id":"o3","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"c"}]}}`,
	} {
		res, err := store.Decode([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		typ, id := res["resourceType"].(string), res["id"].(string)
		if _, err := st.Update(ctx, typ, id, []byte(body), store.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var subjectRows int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM idx_reference x JOIN search_params p ON p.pid = x.pid WHERE p.type = 'Observation' AND p.code = 'subject' AND x.ref_type = 'Patient'`).Scan(&subjectRows); err != nil {
		t.Fatal(err)
	}
	if subjectRows != 0 {
		t.Errorf("%d subject rows repeat a patient row", subjectRows)
	}
	ids := func(rs []*store.Resource) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Type+"/"+r.ID)
		}
		slices.Sort(out)
		return out
	}
	for _, c := range []struct {
		typ, query     string
		want, included []string
	}{
		{"Observation", "subject=Patient/p1", []string{"Observation/o1"}, nil},
		{"Observation", "subject=p1", []string{"Observation/o1"}, nil},
		{"Observation", "subject=Group/g1", []string{"Observation/o2"}, nil},
		{"Observation", "patient=Patient/p1", []string{"Observation/o1"}, nil},
		{"Observation", "patient=g1", nil, nil},
		{"Observation", "subject:missing=true", []string{"Observation/o3"}, nil},
		{"Observation", "subject:missing=false", []string{"Observation/o1", "Observation/o2"}, nil},
		{"Observation", "patient:missing=false", []string{"Observation/o1"}, nil},
		{"Observation", "subject:Patient.family=alpha", []string{"Observation/o1"}, nil},
		{"Patient", "_has:Observation:subject:code=a", []string{"Patient/p1"}, nil},
		{"Patient", "_has:Observation:subject:code=b", nil, nil},
		{"Observation", "code=a,b&_include=Observation:subject", []string{"Observation/o1", "Observation/o2"}, []string{"Group/g1", "Patient/p1"}},
		{"Observation", "code=a&_include=Observation:subject:Patient", []string{"Observation/o1"}, []string{"Patient/p1"}},
		{"Patient", "_id=p1&_revinclude=Observation:subject", []string{"Patient/p1"}, []string{"Observation/o1"}},
		{"Group", "_id=g1&_revinclude=Observation:subject", []string{"Group/g1"}, []string{"Observation/o2"}},
	} {
		q, err := st.ParseQueryString(c.typ, c.query)
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		page, err := st.SearchWithIncludes(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		if got := ids(page.Resources); !slices.Equal(got, c.want) {
			t.Errorf("%s?%s: %v, want %v", c.typ, c.query, got, c.want)
		}
		if got := ids(page.Included); !slices.Equal(got, c.included) {
			t.Errorf("%s?%s included %v, want %v", c.typ, c.query, got, c.included)
		}
	}
	// Patient/p1's compartment reads Observation's subject rows, and so
	// the patient rows.
	q, err := st.ParseQueryString("Observation", "")
	if err != nil {
		t.Fatal(err)
	}
	q.Compartment = &store.Compartment{Type: "Patient", ID: "p1", Params: map[string][]string{"Observation": {"subject"}}}
	page, err := st.Search(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(page.Resources); !slices.Equal(got, []string{"Observation/o1"}) {
		t.Errorf("Patient/p1/Observation: %v", got)
	}
}
