package fhirapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhirapi"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

// echo is an operation that returns its input parameters, or fails as asked.
func echo(w http.ResponseWriter, r *http.Request) error {
	p, err := fhirapi.ReadParams(w, r)
	if err != nil {
		return err
	}
	if p.Get("fail") != "" {
		return custodian.Errorf(custodian.EUNPROCESSABLE, "asked to fail: %s", p.Get("fail"))
	}
	var out []any
	for _, n := range p.Names() {
		for _, v := range p.All(n) {
			out = append(out, map[string]any{"name": n, "valueString": v})
		}
		if res := p.Resource(n); res != nil {
			out = append(out, map[string]any{"name": n, "valueString": "resource " + res["resourceType"].(string)})
		}
		for range p.Parts(n) {
			out = append(out, map[string]any{"name": n, "valueString": "part"})
		}
	}
	fhirapi.WriteResource(w, http.StatusOK, map[string]any{"resourceType": "Parameters", "parameter": out})
	return nil
}

func TestOperations(t *testing.T) {
	db := sqldbtest.Open(t)
	st := store.New(db, fhir.R4(), nil)
	h := (&fhirapi.Handler{Store: st, Types: []string{"Patient", "CodeSystem"}, Operations: []fhirapi.Operation{
		{Pattern: "GET /fhir/CodeSystem/$echo", Name: "echo", Type: "CodeSystem", Handle: echo},
		{Pattern: "POST /fhir/CodeSystem/$echo", Name: "echo", Type: "CodeSystem", Handle: echo},
		{Pattern: "POST /fhir/$echo", Name: "echo", Handle: echo, Definition: "https://example.org/OperationDefinition/echo"},
	}}).Init()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(custodian.NewContextWithActor(context.Background(), testActor)))
	}))
	defer srv.Close()
	c := &client{tb: t, base: srv.URL, http: srv.Client()}

	got := c.do("GET", "/fhir/CodeSystem/$echo?code=E11.9&system=x", "").must(t, 200)
	if got.str("parameter", "0", "name") != "code" || got.str("parameter", "0", "valueString") != "E11.9" {
		t.Errorf("GET params: %s", got.raw)
	}
	got = c.do("POST", "/fhir/$echo", `{"resourceType":"Parameters","parameter":[
		{"name":"a","valueBoolean":true},{"name":"b","valueInteger":3},
		{"name":"p","resource":{"resourceType":"Patient"}},
		{"name":"c","valueCoding":{"code":"x"}},{"name":"d","part":[{"name":"e","valueCode":"f"}]}]}`).must(t, 200)
	want := []string{"true", "3", "part", "part", "resource Patient"}
	for i, w := range want {
		if g := got.str("parameter", string(rune('0'+i)), "valueString"); g != w {
			t.Errorf("POST param %d = %q, want %q (%s)", i, g, w, got.raw)
		}
	}
	bad := c.do("GET", "/fhir/CodeSystem/$echo?fail=because", "").must(t, 422)
	if bad.str("resourceType") != "OperationOutcome" {
		t.Errorf("error is not an OperationOutcome: %s", bad.raw)
	}
	c.do("POST", "/fhir/$echo", `{"resourceType":"Patient"}`).must(t, 400)

	cs := c.do("GET", "/fhir/metadata", "").must(t, 200)
	if cs.str("rest", "0", "operation", "0", "name") != "echo" || cs.str("rest", "0", "operation", "0", "definition") == "" {
		t.Errorf("system operation missing from CapabilityStatement: %.300s", cs.raw)
	}
	if cs.str("rest", "0", "resource", "1", "type") != "CodeSystem" || cs.str("rest", "0", "resource", "1", "operation", "0", "name") != "echo" {
		t.Errorf("type operation missing from CapabilityStatement")
	}
	if cs.str("rest", "0", "resource", "0", "operation", "0", "name") != "break-glass" {
		t.Errorf("Patient lost break-glass")
	}
}
