package fhirapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

const patient = `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"%s"}],"name":[{"family":"Testperson","given":["Ada"]}],"birthDate":"1970-02-03","gender":"female"}`

func TestCreateReadUpdateDelete(t *testing.T) {
	c := newServer(t)
	created := c.do("POST", "/fhir/Patient", fmt.Sprintf(patient, "1")).must(t, http.StatusCreated)
	id := created.str("id")
	if created.str("meta", "versionId") != "1" || created.header.Get("ETag") != `W/"1"` {
		t.Fatalf("create: version %q etag %q", created.str("meta", "versionId"), created.header.Get("ETag"))
	}
	if loc := created.header.Get("Location"); !strings.HasSuffix(loc, "/fhir/Patient/"+id+"/_history/1") {
		t.Fatalf("Location %q", loc)
	}
	read := c.do("GET", "/fhir/Patient/"+id, "").must(t, http.StatusOK)
	if string(read.raw) != string(created.raw) {
		t.Fatalf("read differs from create:\n%s\n%s", read.raw, created.raw)
	}
	if read.header.Get("Last-Modified") == "" {
		t.Fatal("no Last-Modified")
	}
	c.do("GET", "/fhir/Patient/"+id, "", "If-None-Match", `W/"1"`).must(t, http.StatusNotModified)

	upd := strings.Replace(fmt.Sprintf(patient, "1"), `"Patient",`, `"Patient","id":"`+id+`",`, 1)
	upd = strings.Replace(upd, "Ada", "Adaline", 1)
	u := c.do("PUT", "/fhir/Patient/"+id, upd, "If-Match", `W/"1"`).must(t, http.StatusOK)
	if u.str("meta", "versionId") != "2" || u.str("name", "0", "given", "0") != "Adaline" {
		t.Fatalf("update: %s", u.raw)
	}
	// A stale If-Match fails and changes nothing.
	c.do("PUT", "/fhir/Patient/"+id, strings.Replace(upd, "Adaline", "X", 1), "If-Match", `W/"1"`).must(t, http.StatusPreconditionFailed)
	// The same content again adds no version.
	c.do("PUT", "/fhir/Patient/"+id, upd).must(t, http.StatusOK)
	v1 := c.do("GET", "/fhir/Patient/"+id+"/_history/1", "").must(t, http.StatusOK)
	if v1.str("name", "0", "given", "0") != "Ada" {
		t.Fatalf("vread 1: %s", v1.raw)
	}
	c.do("DELETE", "/fhir/Patient/"+id, "").must(t, http.StatusOK)
	c.do("GET", "/fhir/Patient/"+id, "").must(t, http.StatusGone)
	// Every version is still there after the delete.
	c.do("GET", "/fhir/Patient/"+id+"/_history/2", "").must(t, http.StatusOK)
	c.do("GET", "/fhir/Patient/"+id+"/_history/3", "").must(t, http.StatusGone)
	h := c.do("GET", "/fhir/Patient/"+id+"/_history", "").must(t, http.StatusOK)
	if h.str("total") != "3" || len(h.entries()) != 3 {
		t.Fatalf("history: %s", h.raw)
	}
	methods := []string{h.str("entry", "0", "request", "method"), h.str("entry", "1", "request", "method"), h.str("entry", "2", "request", "method")}
	if strings.Join(methods, ",") != "DELETE,PUT,POST" {
		t.Fatalf("history methods %v", methods)
	}
	// Update after delete brings it back as a new version.
	c.do("PUT", "/fhir/Patient/"+id, upd).must(t, http.StatusCreated)
	c.do("GET", "/fhir/Patient/"+id, "").must(t, http.StatusOK)
}

func TestUpdateAsCreateAndLossless(t *testing.T) {
	c := newServer(t)
	body := `{"resourceType":"Observation","id":"obs-1","status":"final","code":{"text":"weight"},
	  "valueQuantity":{"value":1.50,"unit":"kg"},
	  "contained":[{"resourceType":"Patient","id":"p1","_birthDate":{"extension":[{"url":"http://example.org/x","valueString":"approx"}]}}],
	  "subject":{"reference":"#p1"},
	  "note":[{"text":"<b>& \u00e9 \u2028</b>"}],
	  "_status":{"extension":[{"url":"http://example.org/y","valueBoolean":true}]}}`
	r := c.do("PUT", "/fhir/Observation/obs-1", body).must(t, http.StatusCreated)
	for _, want := range []string{`"value":1.50`, `"_birthDate":{"extension"`, `"_status":`, `<b>& é`, `"contained":[{"resourceType":"Patient"`} {
		if !strings.Contains(string(r.raw), want) {
			t.Errorf("stored resource lost %s: %s", want, r.raw)
		}
	}
}

func TestConditionalOperations(t *testing.T) {
	c := newServer(t)
	first := c.do("POST", "/fhir/Patient", fmt.Sprintf(patient, "c1"), "If-None-Exist", "identifier=urn:mrn|c1").must(t, http.StatusCreated)
	again := c.do("POST", "/fhir/Patient", fmt.Sprintf(patient, "c1"), "If-None-Exist", "identifier=urn:mrn|c1").must(t, http.StatusOK)
	if again.str("id") != first.str("id") {
		t.Fatal("conditional create made a second resource")
	}
	// Conditional update: one match updates it, none creates.
	u := c.do("PUT", "/fhir/Patient?identifier=urn:mrn|c1", strings.Replace(fmt.Sprintf(patient, "c1"), "Ada", "Bea", 1)).must(t, http.StatusOK)
	if u.str("id") != first.str("id") || u.str("meta", "versionId") != "2" {
		t.Fatalf("conditional update: %s", u.raw)
	}
	c.do("PUT", "/fhir/Patient?identifier=urn:mrn|c2", fmt.Sprintf(patient, "c2")).must(t, http.StatusCreated)
	// Two matches: 412.
	c.do("POST", "/fhir/Patient", fmt.Sprintf(patient, "dup"))
	c.do("POST", "/fhir/Patient", fmt.Sprintf(patient, "dup"))
	c.do("PUT", "/fhir/Patient?identifier=urn:mrn|dup", fmt.Sprintf(patient, "dup")).must(t, http.StatusPreconditionFailed)
	c.do("DELETE", "/fhir/Patient?identifier=urn:mrn|dup", "").must(t, http.StatusPreconditionFailed)
	c.do("DELETE", "/fhir/Patient?identifier=urn:mrn|c2", "").must(t, http.StatusOK)
	s := c.do("GET", "/fhir/Patient?identifier=urn:mrn|c2", "").must(t, http.StatusOK)
	if len(s.entries()) != 0 {
		t.Fatalf("deleted patient still found: %s", s.raw)
	}
	// Unknown criteria never match everything by accident.
	c.do("PUT", "/fhir/Patient?nonsense=1", fmt.Sprintf(patient, "x")).must(t, http.StatusBadRequest)
}

func TestPatch(t *testing.T) {
	c := newServer(t)
	id := c.do("POST", "/fhir/Patient", fmt.Sprintf(patient, "p")).must(t, http.StatusCreated).str("id")
	p := `[{"op":"replace","path":"/birthDate","value":"1971-04-05"},{"op":"add","path":"/active","value":true}]`
	r := c.do("PATCH", "/fhir/Patient/"+id, p, "Content-Type", "application/json-patch+json").must(t, http.StatusOK)
	if r.str("birthDate") != "1971-04-05" || r.str("active") != "true" || r.str("meta", "versionId") != "2" {
		t.Fatalf("patch: %s", r.raw)
	}
	// A patch producing an invalid resource is refused and stores nothing.
	bad := `[{"op":"replace","path":"/birthDate","value":"not a date"}]`
	c.do("PATCH", "/fhir/Patient/"+id, bad, "Content-Type", "application/json-patch+json").must(t, http.StatusBadRequest)
	if got := c.do("GET", "/fhir/Patient/"+id, "").str("meta", "versionId"); got != "2" {
		t.Fatalf("version after refused patch = %s", got)
	}
	c.do("PATCH", "/fhir/Patient/"+id, `[{"op":"test","path":"/active","value":false}]`, "Content-Type", "application/json-patch+json").must(t, http.StatusUnprocessableEntity)
}

func TestPrefer(t *testing.T) {
	c := newServer(t)
	r := c.do("POST", "/fhir/Patient", fmt.Sprintf(patient, "m"), "Prefer", "return=minimal")
	if r.status != http.StatusCreated || len(r.raw) != 0 || r.header.Get("Location") == "" {
		t.Fatalf("minimal: %d %q", r.status, r.raw)
	}
	o := c.do("POST", "/fhir/Patient", fmt.Sprintf(patient, "o"), "Prefer", "return=OperationOutcome").must(t, http.StatusCreated)
	if o.str("resourceType") != "OperationOutcome" {
		t.Fatalf("OperationOutcome preference: %s", o.raw)
	}
}

func TestCapabilityStatementIsValid(t *testing.T) {
	c := newServer(t)
	r := c.do("GET", "/fhir/metadata", "").must(t, http.StatusOK)
	// The statement is itself valid FHIR R4: store it to prove it.
	c.do("PUT", "/fhir/CapabilityStatement/self", strings.Replace(string(r.raw), `"resourceType":"CapabilityStatement",`, `"resourceType":"CapabilityStatement","id":"self",`, 1)).must(t, http.StatusCreated)
	if !strings.Contains(string(r.raw), `"searchInclude":["*"]`) || !strings.Contains(string(r.raw), "CompartmentDefinition/patient") {
		t.Fatalf("includes or compartment missing: %.300s", r.raw)
	}
}
