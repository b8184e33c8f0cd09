package fhirapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/codeset"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhirapi"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

var (
	codesOnce sync.Once
	codes     *codeset.Set
)

func terminologyServer(tb testing.TB) *client {
	tb.Helper()
	codesOnce.Do(func() {
		var err error
		if codes, err = codeset.Load(); err != nil {
			panic(err)
		}
	})
	st := store.New(sqldbtest.Open(tb), fhir.R4(), nil)
	h := (&fhirapi.Handler{Store: st, Types: []string{"CodeSystem", "ValueSet"}, Operations: fhirapi.TerminologyOperations(codes)}).Init()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(custodian.NewContextWithActor(context.Background(), testActor)))
	}))
	tb.Cleanup(srv.Close)
	return &client{tb: tb, base: srv.URL, http: srv.Client()}
}

// param returns the value (as text) of the named output parameter.
func param(r *response, name string) string {
	for i := 0; i < 200; i++ {
		n := r.str("parameter", itoa(i), "name")
		if n == "" {
			return ""
		}
		if n == name {
			for _, k := range []string{"valueString", "valueBoolean", "valueCode", "valueInteger"} {
				if v := r.str("parameter", itoa(i), k); v != "" {
					return v
				}
			}
		}
	}
	return ""
}

func itoa(i int) string { return strconv.Itoa(i) }

const cm = "http://hl7.org/fhir/sid/icd-10-cm"
const pcs = "http://www.cms.gov/Medicare/Coding/ICD10"

func q(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

func TestTerminologyLookup(t *testing.T) {
	c := terminologyServer(t)
	got := c.do("GET", "/fhir/CodeSystem/$lookup?"+q("system", cm, "code", " e11.9 "), "").must(t, 200)
	if param(got, "display") != "Type 2 diabetes mellitus without complications" || param(got, "name") != "ICD-10-CM" {
		t.Errorf("lookup E11.9: %.400s", got.raw)
	}
	for _, want := range []string{`"valueCode":"E11"`, `type 1 diabetes mellitus (E10.-)`, `"from E11"`, `"from chapter 4"`, `"valueCode":"QADM"`} {
		if !strings.Contains(string(got.raw), want) {
			t.Errorf("lookup E11.9 lacks %s", want)
		}
	}
	got = c.do("POST", "/fhir/CodeSystem/$lookup", `{"resourceType":"Parameters","parameter":[{"name":"coding","valueCoding":{"system":"`+cm+`","code":"S72.001A"}}]}`).must(t, 200)
	if !strings.Contains(string(got.raw), "A: initial encounter for closed fracture") {
		t.Errorf("lookup S72.001A lacks its 7th characters: %.300s", got.raw)
	}
	got = c.do("GET", "/fhir/CodeSystem/$lookup?"+q("system", pcs, "code", "0DTJ4ZZ"), "").must(t, 200)
	if param(got, "display") != "Resection of Appendix, Percutaneous Endoscopic Approach" {
		t.Errorf("lookup PCS: %.300s", got.raw)
	}
	for _, tt := range []struct {
		query  string
		status int
	}{
		{q("system", cm, "code", "E11.99"), 404},
		{q("system", "http://snomed.info/sct", "code", "44054006"), 404},
		{q("system", cm, "code", "E1.19"), 400},
		{q("system", cm), 400},
		{q("code", "E11.9"), 400},
		{q("system", cm, "code", "E11.9", "date", "yesterday"), 400},
		{q("system", cm, "code", "E11.9", "version", "1999"), 404},
	} {
		r := c.do("GET", "/fhir/CodeSystem/$lookup?"+tt.query, "").must(t, tt.status)
		if r.str("resourceType") != "OperationOutcome" {
			t.Errorf("lookup %s: not an OperationOutcome: %.200s", tt.query, r.raw)
		}
	}
}

func TestTerminologyValidateCode(t *testing.T) {
	c := terminologyServer(t)
	tests := []struct {
		query  string
		result string
	}{
		{q("url", cm, "code", "E11.9"), "true"},
		{q("system", cm, "code", "e119", "date", "2025-01-15"), "true"},
		{q("url", cm, "code", "E11"), "true"}, // a header is in the code system (with a message)
		{q("url", cm, "code", "E11.99"), "false"},
		{q("url", cm, "code", "E1.19"), "false"},
		{q("url", cm, "code", "E72.530", "date", "2025-09-30"), "false"},
		{q("url", cm, "code", "E72.530", "version", "2026"), "true"},
		{q("url", cm, "code", "E11.9", "display", "Type 2 diabetes mellitus without complications"), "true"},
		{q("url", cm, "code", "E11.9", "display", "Diabetes with everything"), "false"},
		{q("url", "http://example.org/icd", "code", "E11.9"), "false"},
		{q("url", pcs, "code", "0DTJ4ZZ"), "true"},
	}
	for _, tt := range tests {
		got := c.do("GET", "/fhir/CodeSystem/$validate-code?"+tt.query, "").must(t, 200)
		if param(got, "result") != tt.result {
			t.Errorf("validate %s: %.300s", tt.query, got.raw)
		}
		if tt.result == "false" && param(got, "message") == "" {
			t.Errorf("validate %s: no message", tt.query)
		}
	}
	got := c.do("POST", "/fhir/CodeSystem/$validate-code", `{"resourceType":"Parameters","parameter":[{"name":"url","valueUri":"`+cm+`"},{"name":"code","valueCode":"I10"}]}`).must(t, 200)
	if param(got, "result") != "true" || param(got, "display") != "Essential (primary) hypertension" {
		t.Errorf("POST validate: %.300s", got.raw)
	}
	c.do("GET", "/fhir/CodeSystem/$validate-code?"+q("url", cm), "").must(t, 400)
}

func TestTerminologySubsumes(t *testing.T) {
	c := terminologyServer(t)
	for query, want := range map[string]string{
		q("system", cm, "codeA", "E11", "codeB", "E11.9"):    "subsumes",
		q("system", cm, "codeA", "E11.9", "codeB", "E11"):    "subsumed-by",
		q("system", cm, "codeA", "E11.9", "codeB", "e119"):   "equivalent",
		q("system", cm, "codeA", "E11.9", "codeB", "I10"):    "not-subsumed",
		q("system", pcs, "codeA", "0DT", "codeB", "0DTJ4ZZ"): "subsumes",
	} {
		got := c.do("GET", "/fhir/CodeSystem/$subsumes?"+query, "").must(t, 200)
		if param(got, "outcome") != want {
			t.Errorf("subsumes %s: %.200s", query, got.raw)
		}
	}
	c.do("GET", "/fhir/CodeSystem/$subsumes?"+q("system", cm, "codeA", "E11", "codeB", "E11.99"), "").must(t, 404)
}

func TestTerminologyExpand(t *testing.T) {
	c := terminologyServer(t)
	got := c.do("GET", "/fhir/ValueSet/$expand?"+q("url", cm+"?fhir_vs=isa/E11.4", "count", "3"), "").must(t, 200)
	if got.str("expansion", "total") != "7" || got.str("expansion", "contains", "0", "code") != "E11.4" || got.str("expansion", "contains", "1", "code") != "E11.40" || got.str("expansion", "contains", "3", "code") != "" {
		t.Errorf("expand isa/E11.4: %.600s", got.raw)
	}
	got = c.do("GET", "/fhir/ValueSet/$expand?"+q("url", cm+"?fhir_vs=isa/E11.4", "count", "3", "offset", "3"), "").must(t, 200)
	if got.str("expansion", "contains", "0", "code") != "E11.42" {
		t.Errorf("expand page 2: %.400s", got.raw)
	}
	got = c.do("GET", "/fhir/ValueSet/$expand?"+q("url", cm+"?fhir_vs", "filter", "T2DM with neuropathy", "count", "5"), "").must(t, 200)
	if got.str("expansion", "contains", "0", "code") != "E11.40" {
		t.Errorf("expand filter: %.400s", got.raw)
	}
	got = c.do("GET", "/fhir/ValueSet/$expand?"+q("url", cm+"?fhir_vs", "count", "2", "version", "2025", "activeOnly", "true"), "").must(t, 200)
	if got.str("expansion", "total") != "74260" {
		t.Errorf("expand all FY2025 reportable: total %s", got.str("expansion", "total"))
	}
	got = c.do("POST", "/fhir/ValueSet/$expand", `{"resourceType":"Parameters","parameter":[{"name":"url","valueUri":"`+pcs+`?fhir_vs"},{"name":"filter","valueString":"laparoscopic appendectomy"},{"name":"count","valueInteger":1}]}`).must(t, 200)
	if got.str("expansion", "contains", "0", "code") != "0DTJ4ZZ" {
		t.Errorf("expand PCS filter: %.400s", got.raw)
	}
	c.do("GET", "/fhir/ValueSet/$expand?"+q("url", "http://example.org/vs"), "").must(t, 404)
	c.do("GET", "/fhir/ValueSet/$expand?"+q("url", cm+"?fhir_vs=refset/x"), "").must(t, 404)
	c.do("GET", "/fhir/ValueSet/$expand", "").must(t, 400)
	c.do("GET", "/fhir/ValueSet/$expand?"+q("url", cm+"?fhir_vs", "count", "-1"), "").must(t, 400)
	c.do("GET", "/fhir/ValueSet/$expand?"+q("url", cm+"?fhir_vs=isa/E11.99"), "").must(t, 404)
}

func TestTerminologyFindCode(t *testing.T) {
	c := terminologyServer(t)
	got := c.do("GET", "/fhir/CodeSystem/$find-code?"+q("text", "HTN", "limit", "3"), "").must(t, 200)
	if got.str("parameter", "1", "part", "0", "valueCode") != "I10" {
		t.Errorf("find-code HTN: %.400s", got.raw)
	}
	c.do("GET", "/fhir/CodeSystem/$find-code", "").must(t, 400)
	c.do("GET", "/fhir/CodeSystem/$find-code?"+q("text", "x", "system", "http://loinc.org"), "").must(t, 404)
}

// BenchmarkTerminologyValidateHTTP measures $validate-code through the whole
// FHIR handler over HTTP on loopback, with keep-alive connections from
// GOMAXPROCS client goroutines.
func BenchmarkTerminologyValidateHTTP(b *testing.B) {
	c := terminologyServer(b)
	path := c.base + "/fhir/CodeSystem/$validate-code?" + q("url", cm, "code", "E11.9", "date", "2025-03-01")
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.http.Get(path)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body) // read to the end so the connection is reused
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatal(resp.Status)
			}
		}
	})
}
