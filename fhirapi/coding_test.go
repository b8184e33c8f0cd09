package fhirapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/codeset"
	"github.com/custodian-him/custodian/coding"
	"github.com/custodian-him/custodian/drg"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/fhirapi"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/synth"
)

func TestCodingOperations(t *testing.T) {
	ctx := context.Background()
	reg, err := search.NewR4(fhir.R4())
	if err != nil {
		t.Fatal(err)
	}
	db := sqldbtest.Open(t)
	if err := db.RegisterParams(ctx, reg.Indexed()); err != nil {
		t.Fatal(err)
	}
	st := store.New(db, fhir.R4(), reg)
	st.Guard, st.AuditLog = access.Guard{}, db
	col := &synth.Collector{}
	if _, err := synth.Generate(ctx, synth.Config{Patients: 25, Seed: 3}, col); err != nil {
		t.Fatal(err)
	}
	var batch []map[string]any
	for _, b := range col.Bodies {
		res, err := store.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, res)
	}
	if _, err := st.PutBatch(custodian.NewContextWithActor(ctx, custodian.SystemActor()), batch); err != nil {
		t.Fatal(err)
	}
	truth := map[string]*synth.Fact{}
	for i := range col.Facts {
		if col.Facts[i].Kind == synth.FactCoding {
			truth[col.Facts[i].Encounter] = &col.Facts[i]
		}
	}
	set, err := codeset.Load()
	if err != nil {
		t.Fatal(err)
	}
	sg, err := coding.NewSuggester(set)
	if err != nil {
		t.Fatal(err)
	}
	q, err := coding.NewQueue(st, set, drg.New())
	if err != nil {
		t.Fatal(err)
	}
	// Building the handler registers every pattern (a conflict panics).
	h := (&fhirapi.Handler{Store: st, Types: fhir.R4().ResourceTypes(), Operations: fhirapi.CodingOperations(sg, q)}).Init()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		role := r.Header.Get("X-Role")
		if role == "" {
			role = access.RoleCoder
		}
		a := &custodian.Actor{ID: "coder-" + role, Kind: "user", Roles: []string{role}}
		h.ServeHTTP(w, r.WithContext(custodian.NewContextWithActor(r.Context(), a)))
	}))
	defer srv.Close()
	c := &client{tb: t, base: srv.URL, http: srv.Client()}

	dnfb := c.do("GET", "/fhir/Encounter/$dnfb", "").must(t, 200)
	var list struct {
		Parameter []struct {
			Name         string
			ValueInteger int
			Part         []struct {
				Name           string
				ValueReference struct{ Reference string }
			}
		}
	}
	if err := json.Unmarshal(dnfb.raw, &list); err != nil {
		t.Fatal(err)
	}
	if list.Parameter[0].Name != "total" || list.Parameter[0].ValueInteger != len(truth) {
		t.Fatalf("DNFB total: %.300s (want %d)", dnfb.raw, len(truth))
	}
	enc := ""
	for _, p := range list.Parameter {
		if p.Name == "encounter" {
			enc = p.Part[0].ValueReference.Reference
			break
		}
	}
	f := truth[enc]
	if f == nil {
		t.Fatalf("no DNFB encounter: %.500s", dnfb.raw)
	}
	id := strings.TrimPrefix(enc, "Encounter/")

	// Suggestions from the encounter's notes name the principal diagnosis.
	s := c.do("POST", "/fhir/Encounter/"+id+"/$suggest-codes", `{"resourceType":"Parameters"}`).must(t, 200)
	if !strings.Contains(string(s.raw), `"valueCode":"`+f.Principal+`"`) || !strings.Contains(string(s.raw), `"name":"evidence"`) {
		t.Errorf("suggestions lack the principal %s: %.800s", f.Principal, s.raw)
	}
	// From a text.
	s = c.do("POST", "/fhir/DocumentReference/$suggest-codes", `{"resourceType":"Parameters","parameter":[{"name":"text","valueString":"ASSESSMENT: Essential hypertension. Denies chest pain."},{"name":"setting","valueCode":"outpatient"}]}`).must(t, 200)
	if !strings.Contains(string(s.raw), `"valueCode":"I10"`) || strings.Contains(string(s.raw), `"R07.9"`) {
		t.Errorf("text suggestion: %s", s.raw)
	}
	c.do("POST", "/fhir/DocumentReference/$suggest-codes", `{"resourceType":"Parameters","parameter":[{"name":"text","valueString":""}]}`).must(t, 200)
	c.do("POST", "/fhir/DocumentReference/$suggest-codes", `{"resourceType":"Parameters"}`).must(t, 400)
	c.do("POST", "/fhir/DocumentReference/$suggest-codes", `{"resourceType":"Parameters","parameter":[{"name":"text","valueString":"x"},{"name":"setting","valueCode":"ward"}]}`).must(t, 400)
	big := `{"resourceType":"Parameters","parameter":[{"name":"text","valueString":"` + strings.Repeat("HTN. ", 2<<20/5+1) + `"}]}`
	c.do("POST", "/fhir/DocumentReference/$suggest-codes", big).must(t, 413)
	c.do("GET", "/fhir/DocumentReference/nope/$suggest-codes", "").must(t, 404)
	// One note.
	var docID string
	for i, typ := range col.Types {
		if typ == "DocumentReference" && strings.Contains(string(col.Bodies[i]), `"`+enc+`"`) {
			docID = col.IDs[i]
			break
		}
	}
	c.do("GET", "/fhir/DocumentReference/"+docID+"/$suggest-codes", "").must(t, 200)

	// The abstract, evaluated live without saving.
	ab := c.do("GET", "/fhir/Encounter/"+id+"/$coding-abstract", "").must(t, 200)
	if !strings.Contains(string(ab.raw), `"name":"drg"`) || !strings.Contains(string(ab.raw), `"POA_MISSING"`) {
		t.Errorf("abstract: %.800s", ab.raw)
	}
	var params []string
	for _, d := range f.Diagnoses {
		params = append(params, `{"name":"diagnosis","valueString":"`+d.Code+":"+d.POA+`"}`)
	}
	for _, p := range f.Procedures {
		params = append(params, `{"name":"procedure","valueString":"`+p+`:2024-01-01"}`)
	}
	body := `{"resourceType":"Parameters","parameter":[` + strings.Join(params, ",") + `]}`
	live := c.do("POST", "/fhir/Encounter/"+id+"/$coding-abstract", body).must(t, 200)
	if strings.Contains(string(live.raw), "POA_MISSING") {
		t.Errorf("live abstract with POA: %.800s", live.raw)
	}
	// Finalising: a record analyst may not; a coder may; errors block.
	c.do("POST", "/fhir/Encounter/"+id+"/$finalize-coding", body, "X-Role", access.RoleRecordAnalyst).must(t, 403)
	c.do("POST", "/fhir/Encounter/"+id+"/$finalize-coding", `{"resourceType":"Parameters","parameter":[{"name":"diagnosis","valueString":"E11"}]}`).must(t, 422)
	c.do("POST", "/fhir/Encounter/"+id+"/$finalize-coding", `{"resourceType":"Parameters","parameter":[{"name":"procedure","valueString":"0FT44ZZ:yesterday"}]}`).must(t, 400)
	fin := c.do("POST", "/fhir/Encounter/"+id+"/$finalize-coding", body).must(t, 200)
	if !strings.Contains(string(fin.raw), `"name":"claimVersion","valueInteger":1`) || !strings.Contains(string(fin.raw), `"valueString":"final"`) {
		t.Errorf("finalised: %.600s", fin.raw)
	}
	claim := c.do("GET", "/fhir/Claim/coding-"+id, "").must(t, 200)
	if claim.str("status") != "active" || claim.str("item", "0", "encounter", "0", "reference") != enc {
		t.Errorf("Claim: %.600s", claim.raw)
	}
	// Off the DNFB now.
	if d := c.do("GET", "/fhir/Encounter/$dnfb", "").must(t, 200); strings.Contains(string(d.raw), `"`+enc+`"`) {
		t.Errorf("finalised encounter still on the DNFB")
	}
	p := c.do("GET", "/fhir/Claim/$coding-productivity?from=2000-01-01", "").must(t, 200)
	if !strings.Contains(string(p.raw), `"valueString":"coder-coder"`) {
		t.Errorf("productivity: %.600s", p.raw)
	}
	c.do("GET", "/fhir/Claim/$coding-productivity?from=yesterday", "").must(t, 400)
}
