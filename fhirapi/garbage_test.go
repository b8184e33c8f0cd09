package fhirapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// Bad input of every kind gets an OperationOutcome with a 4xx status, never
// a 500, and stores nothing.
func TestGarbage(t *testing.T) {
	c := newServer(t)
	deep := strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000)
	cases := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
	}{
		{"malformed JSON", "POST", "/fhir/Patient", `{"resourceType":"Patient",`, nil, 400},
		{"not an object", "POST", "/fhir/Patient", `[1,2]`, nil, 400},
		{"trailing data", "POST", "/fhir/Patient", `{"resourceType":"Patient"} {}`, nil, 400},
		{"wrong resourceType", "POST", "/fhir/Patient", `{"resourceType":"Observation","status":"final","code":{"text":"x"}}`, nil, 400},
		{"no resourceType", "POST", "/fhir/Patient", `{"name":[{"family":"x"}]}`, nil, 400},
		{"unknown type", "POST", "/fhir/Patientz", `{"resourceType":"Patientz"}`, nil, 404},
		{"bad id in URL", "PUT", "/fhir/Patient/bad_id!", `{"resourceType":"Patient","id":"bad_id!"}`, nil, 400},
		{"id too long", "PUT", "/fhir/Patient/" + strings.Repeat("a", 65), `{"resourceType":"Patient","id":"` + strings.Repeat("a", 65) + `"}`, nil, 400},
		{"id mismatch", "PUT", "/fhir/Patient/a", `{"resourceType":"Patient","id":"b"}`, nil, 400},
		{"missing id on update", "PUT", "/fhir/Patient/a", `{"resourceType":"Patient"}`, nil, 400},
		{"deep nesting", "POST", "/fhir/Patient", deep, nil, 400},
		{"invalid UTF-8", "POST", "/fhir/Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"\xff\xfe\"}]}", nil, 400},
		{"empty body", "POST", "/fhir/Patient", " ", nil, 400},
		{"XML", "POST", "/fhir/Patient", `<Patient/>`, []string{"Content-Type", "application/fhir+xml"}, 400},
		{"bad If-Match", "PUT", "/fhir/Patient/a", `{"resourceType":"Patient","id":"a"}`, []string{"If-Match", "yesterday"}, 400},
		{"bad version", "GET", "/fhir/Patient/a/_history/x", "", nil, 400},
		{"unknown route", "GET", "/fhir/Patient/a/b/c/d", "", nil, 404},
		{"bad date search", "GET", "/fhir/Patient?birthdate=last-tuesday", "", nil, 400},
		{"bad _count", "GET", "/fhir/Patient?_count=-5", "", nil, 400},
		{"strict unknown param", "GET", "/fhir/Patient?shoe-size=9", "", []string{"Prefer", "handling=strict"}, 400},
		{"SQL injection in value", "GET", "/fhir/Patient?identifier=x'%3BDROP%20TABLE%20resources%3B--", "", nil, 200},
		{"SQL injection in name", "GET", "/fhir/Patient?name'%3B--=1", "", []string{"Prefer", "handling=strict"}, 400},
		{"bad cursor", "GET", "/fhir/Patient?_cursor=abc", "", nil, 400},
		{"XML format", "GET", "/fhir/Patient?_format=xml", "", nil, 501},
		{"bundle not a bundle", "POST", "/fhir", `{"resourceType":"Patient"}`, nil, 400},
		{"bundle wrong type", "POST", "/fhir", `{"resourceType":"Bundle","type":"collection"}`, nil, 400},
		{"bundle entry without request", "POST", "/fhir", `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient"}}]}`, nil, 400},
		{"dangling urn:uuid", "POST", "/fhir", `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:00000000-0000-4000-8000-000000000000"}},"request":{"method":"POST","url":"Observation"}}]}`, nil, 400},
		{"patch without patch type", "PATCH", "/fhir/Patient/a", `[]`, nil, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.do(tc.method, tc.path, tc.body, tc.headers...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %.300s", r.status, tc.status, r.raw)
			}
			if tc.status >= 400 && r.str("resourceType") != "OperationOutcome" {
				t.Fatalf("no OperationOutcome: %.300s", r.raw)
			}
		})
	}
	h := c.do("GET", "/fhir/_history", "").must(t, http.StatusOK)
	if h.str("total") != "0" {
		t.Fatalf("garbage stored something: %s", h.raw)
	}
}

func TestHugeBody(t *testing.T) {
	c := newServer(t) // MaxBody is 64 MiB in tests
	body := `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">` +
		string(bytes.Repeat([]byte("x"), 100<<20)) + `</div>"}}`
	r := c.do("POST", "/fhir/Patient", body)
	if r.status != http.StatusRequestEntityTooLarge || r.str("resourceType") != "OperationOutcome" {
		t.Fatalf("status %d: %.200s", r.status, r.raw)
	}
}
