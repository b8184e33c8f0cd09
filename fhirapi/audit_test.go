package fhirapi_test

import (
	"fmt"
	"net/http"
	"testing"
)

func TestAuditEventSearch(t *testing.T) {
	c := newServer(t)
	pid := c.do("POST", "/fhir/Patient", fmt.Sprintf(patient, "a1")).must(t, http.StatusCreated).str("id")
	c.do("GET", "/fhir/Patient/"+pid, "").must(t, http.StatusOK)
	c.do("GET", "/fhir/Patient?identifier=urn:mrn|a1", "").must(t, http.StatusOK)
	r := c.do("GET", "/fhir/AuditEvent?patient=Patient/"+pid, "").must(t, http.StatusOK)
	entries := r.entries()
	if len(entries) != 3 {
		t.Fatalf("%d audit events for the patient, want 3 (create, read, search): %s", len(entries), r.raw)
	}
	// Newest first: the search, the read, the create.
	for i, want := range []string{"search-type", "read", "create"} {
		if got := r.str("entry", fmt.Sprint(i), "resource", "subtype", "0", "code"); got != want {
			t.Errorf("entry %d: subtype %q, want %q", i, got, want)
		}
		if got := r.str("entry", fmt.Sprint(i), "resource", "agent", "0", "who", "display"); got != "tester" {
			t.Errorf("entry %d: agent %q", i, got)
		}
	}
	id := r.str("entry", "1", "resource", "id")
	one := c.do("GET", "/fhir/AuditEvent/"+id, "").must(t, http.StatusOK)
	if one.str("entity", "0", "what", "reference") != "Patient/"+pid {
		t.Fatalf("AuditEvent/%s: %s", id, one.raw)
	}
	// The trail cannot be changed through the API.
	c.do("PUT", "/fhir/AuditEvent/"+id, `{"resourceType":"AuditEvent","id":"`+id+`"}`).must(t, http.StatusForbidden)
	c.do("DELETE", "/fhir/AuditEvent/"+id, "").must(t, http.StatusForbidden)
	// AuditEvents from other systems are stored like other resources.
	ext := `{"resourceType":"AuditEvent","id":"ehr-1","type":{"system":"http://terminology.hl7.org/CodeSystem/audit-event-type","code":"rest"},
	  "recorded":"2026-01-02T03:04:05Z","agent":[{"requestor":true,"who":{"display":"EHR"}}],"source":{"observer":{"display":"EHR"}}}`
	c.do("PUT", "/fhir/AuditEvent/ehr-1", ext).must(t, http.StatusCreated)
	c.do("GET", "/fhir/AuditEvent/ehr-1", "").must(t, http.StatusOK)
	// A date filter.
	if n := len(c.do("GET", "/fhir/AuditEvent?date=lt2000-01-01", "").must(t, http.StatusOK).entries()); n != 0 {
		t.Fatalf("%d entries before 2000", n)
	}
}

func TestBreakGlassOperation(t *testing.T) {
	c := newServer(t)
	pid := c.do("POST", "/fhir/Patient", fmt.Sprintf(patient, "bg")).must(t, http.StatusCreated).str("id")
	params := `{"resourceType":"Parameters","parameter":[{"name":"reason","valueString":"emergency department, unconscious patient"},{"name":"minutes","valueInteger":30}]}`
	c.do("POST", "/fhir/Patient/"+pid+"/$break-glass", params).must(t, http.StatusOK)
	c.do("POST", "/fhir/Patient/"+pid+"/$break-glass", `{"resourceType":"Parameters","parameter":[{"name":"reason","valueString":"x"}]}`).must(t, http.StatusBadRequest)
	c.do("POST", "/fhir/Patient/nobody/$break-glass", params).must(t, http.StatusNotFound)
	r := c.do("GET", "/fhir/AuditEvent?break-glass=true", "").must(t, http.StatusOK)
	if len(r.entries()) != 1 || r.str("entry", "0", "resource", "extension", "0", "valueBoolean") != "true" {
		t.Fatalf("break-glass review: %s", r.raw)
	}
}
