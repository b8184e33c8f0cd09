package fhirapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/fhirapi"
	"github.com/custodian-him/custodian/mpi"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

func matchPatient(id, given, family, gender, birth, line, phone, ssn string) string {
	p := `{"resourceType":"Patient"`
	if id != "" {
		p += `,"id":"` + id + `"`
	}
	p += `,"name":[{"family":"` + family + `","given":["` + given + `"]}],"gender":"` + gender + `","birthDate":"` + birth + `"`
	p += `,"address":[{"line":["` + line + `"],"city":"Columbus","state":"OH","postalCode":"43215"}]`
	if phone != "" {
		p += `,"telecom":[{"system":"phone","value":"` + phone + `"}]`
	}
	if ssn != "" {
		p += `,"identifier":[{"system":"http://hl7.org/fhir/sid/us-ssn","value":"` + ssn + `"}]`
	}
	return p + `}`
}

func matchParams(patient string, extra ...string) string {
	s := `{"resourceType":"Parameters","parameter":[{"name":"resource","resource":` + patient + `}`
	for _, e := range extra {
		s += "," + e
	}
	return s + `]}`
}

// TestPatientMatch runs $match against an index kept current by the
// store watcher: grades, scores, onlyCertainMatches, count, and errors.
func TestPatientMatch(t *testing.T) {
	ctx := custodian.NewContextWithActor(context.Background(), testActor)
	db := sqldbtest.Open(t)
	reg, err := search.NewR4(fhir.R4())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.RegisterParams(ctx, reg.Indexed()); err != nil {
		t.Fatal(err)
	}
	st := store.New(db, fhir.R4(), reg)
	st.AuditLog = db
	// One patient stored before the index exists: IndexPatients loads it.
	if _, err := st.Update(ctx, "Patient", "early", []byte(matchPatient("early", "Ingrid", "Solberg", "female", "1955-05-05", "3 Fjord Way", "555-300-1000", "")), store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	ix, err := fhirapi.BuildMatchIndex(ctx, st)
	if err != nil || ix.Len() != 1 {
		t.Fatalf("BuildMatchIndex: %v", err)
	}
	if n, err := fhirapi.LoadMatchIndex(ctx, st, mpi.NewIndex(mpi.DefaultModel())); err != nil || n != 1 {
		t.Fatalf("LoadMatchIndex: %d, %v", n, err)
	}
	st.Watchers = append(st.Watchers, fhirapi.MatchWatcher(ix, nil))
	h := (&fhirapi.Handler{Store: st, Types: []string{"Patient"}, Operations: fhirapi.MatchOperations(st, ix, "")}).Init()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(custodian.NewContextWithActor(r.Context(), testActor)))
	}))
	defer srv.Close()
	c := &client{tb: t, base: srv.URL, http: srv.Client()}
	for _, p := range []string{
		matchPatient("rob", "Robert", "Okafor", "male", "1961-03-14", "12 Elm Street", "555-201-3344", "999-12-3456"),
		matchPatient("twin-a", "Wei", "Chen", "male", "1990-07-21", "9 Maple Drive", "555-777-1212", "999-55-1200"),
		matchPatient("twin-b", "Lei", "Chen", "male", "1990-07-21", "9 Maple Drive", "555-777-1212", "999-55-1299"),
		matchPatient("ann", "Ann", "Kowalski", "female", "1948-01-30", "77 Pine Road", "555-644-0101", ""),
	} {
		id := strings.Split(strings.Split(p, `"id":"`)[1], `"`)[0]
		c.do("PUT", "/fhir/Patient/"+id, p).must(t, 201)
	}
	if ix.Len() != 5 {
		t.Fatalf("index holds %d patients, want 5", ix.Len())
	}

	// A new registration of Robert: one certain match.
	q := matchPatient("", "Bob", "Okafor", "male", "1961-03-14", "12 Elm St", "(555) 201-3344", "999123456")
	got := c.do("POST", "/fhir/Patient/$match", matchParams(q)).must(t, 200)
	if got.str("type") != "searchset" || got.str("entry", "0", "resource", "id") != "rob" ||
		got.str("entry", "0", "search", "mode") != "match" ||
		got.str("entry", "0", "search", "extension", "0", "url") != "http://hl7.org/fhir/StructureDefinition/match-grade" ||
		got.str("entry", "0", "search", "extension", "0", "valueCode") != "certain" ||
		!strings.HasSuffix(got.str("entry", "0", "fullUrl"), "/fhir/Patient/rob") {
		t.Errorf("Robert: %s", got.raw)
	}
	if s, err := strconv.ParseFloat(got.str("entry", "0", "search", "score"), 64); err != nil || s > 1 || s < 0.99 {
		t.Errorf("score %v, %v", s, err)
	}

	// Wei Chen again: certain for Wei, never for his twin Lei.
	q = matchPatient("", "Wei", "Chen", "male", "1990-07-21", "9 Maple Drive", "555-777-1212", "")
	got = c.do("POST", "/fhir/Patient/$match", matchParams(q)).must(t, 200)
	if got.str("total") != "2" || got.str("entry", "0", "resource", "id") != "twin-a" || got.str("entry", "1", "resource", "id") != "twin-b" ||
		got.str("entry", "1", "search", "extension", "0", "valueCode") == "certain" {
		t.Errorf("twins: %s", got.raw)
	}
	got = c.do("POST", "/fhir/Patient/$match", matchParams(q, `{"name":"onlyCertainMatches","valueBoolean":true}`)).must(t, 200)
	if got.str("total") != "1" || got.str("entry", "0", "resource", "id") != "twin-a" || got.str("entry", "1") != "" {
		t.Errorf("onlyCertainMatches, one certain: %s", got.raw)
	}
	// A third Chen at the twins' address: both twins, neither certain, so
	// onlyCertainMatches returns no Patient, and a note.
	q = matchPatient("", "Li", "Chen", "male", "1990-07-21", "9 Maple Drive", "555-777-1212", "")
	got = c.do("POST", "/fhir/Patient/$match", matchParams(q)).must(t, 200)
	if got.str("total") != "2" || strings.Contains(string(got.raw), `"certain"`) {
		t.Errorf("third Chen: %s", got.raw)
	}
	got = c.do("POST", "/fhir/Patient/$match", matchParams(q, `{"name":"onlyCertainMatches","valueBoolean":true}`)).must(t, 200)
	if got.str("total") != "0" || got.str("entry", "0", "resource", "resourceType") != "OperationOutcome" {
		t.Errorf("onlyCertainMatches, none certain: %s", got.raw)
	}
	// count limits the answer.
	got = c.do("POST", "/fhir/Patient/$match", matchParams(q, `{"name":"count","valueInteger":1}`)).must(t, 200)
	if got.str("total") != "1" || got.str("entry", "1") != "" {
		t.Errorf("count 1: %s", got.raw)
	}
	// The patient loaded at start-up is found; an updated patient is
	// matched as it is now.
	got = c.do("POST", "/fhir/Patient/$match", matchParams(matchPatient("", "Ingrid", "Solberg", "female", "1955-05-05", "3 Fjord Way", "555-300-1000", ""))).must(t, 200)
	if got.str("entry", "0", "resource", "id") != "early" {
		t.Errorf("early: %s", got.raw)
	}
	c.do("PUT", "/fhir/Patient/ann", matchPatient("ann", "Annabel", "Lee", "female", "1977-07-07", "1 Sea Road", "555-999-0000", "")).must(t, 200)
	got = c.do("POST", "/fhir/Patient/$match", matchParams(matchPatient("", "Ann", "Kowalski", "female", "1948-01-30", "77 Pine Road", "555-644-0101", ""))).must(t, 200)
	if got.str("total") != "0" {
		t.Errorf("the old Ann still matches: %s", got.raw)
	}
	// A deleted patient is no longer matched.
	c.do("DELETE", "/fhir/Patient/rob", "").must(t, 200)
	got = c.do("POST", "/fhir/Patient/$match", matchParams(matchPatient("", "Robert", "Okafor", "male", "1961-03-14", "12 Elm Street", "555-201-3344", "999-12-3456"))).must(t, 200)
	if got.str("total") != "0" {
		t.Errorf("deleted Robert matched: %s", got.raw)
	}

	bad := []struct{ name, body string }{
		{"no resource", `{"resourceType":"Parameters","parameter":[{"name":"count","valueInteger":2}]}`},
		{"not a Patient", matchParams(`{"resourceType":"Observation"}`)},
		{"bad count", matchParams(q, `{"name":"count","valueInteger":0}`)},
		{"bad flag", matchParams(q, `{"name":"onlyCertainMatches","valueString":"maybe"}`)},
		{"not Parameters", q},
	}
	for _, b := range bad {
		got := c.do("POST", "/fhir/Patient/$match", b.body)
		if got.status != 400 || got.str("resourceType") != "OperationOutcome" {
			t.Errorf("%s: status %d %s, want 400 OperationOutcome", b.name, got.status, got.raw)
		}
	}
}
