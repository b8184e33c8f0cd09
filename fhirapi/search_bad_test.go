package fhirapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSearchHostileInput sends malformed dates, unknown prefixes, broken
// chains, SQL and FHIRPath injection in parameter names and values, absurd
// _count and paging cursors, and _include cycles: each is answered with
// its status (an OperationOutcome for an error), never a 500, and an
// injected value matches nothing.
func TestSearchHostileInput(t *testing.T) {
	c := searchFixture(t)
	q := url.QueryEscape
	for _, tc := range []struct {
		query  string
		strict bool
		status int
		// matches is the number of matches a 200 must have (-1: any).
		matches int
	}{
		// Malformed dates and unknown prefixes.
		{query: "Patient?birthdate=zz1970-01-01", status: 400},
		{query: "Patient?birthdate=ge", status: 400},
		{query: "Patient?birthdate=1970-02-30", status: 400},
		{query: "Patient?birthdate=99999-01-01", status: 400},
		{query: "Patient?birthdate=1970-01-01T25:00:00Z", status: 400},
		{query: "Patient?birthdate=" + q("1970-01-01T10:00:00+99:00"), status: 400},
		{query: "Patient?birthdate=" + q("1970,,1971"), status: 400},
		{query: "Observation?value-quantity=qq5", status: 400},
		{query: "Observation?value-quantity=" + q("5|"), status: 400},
		{query: "Observation?value-quantity=" + q("1e999"), status: 400},
		{query: "Observation?_lastUpdated=xx2020", status: 400},
		// Broken chains and reverse chains.
		{query: "Observation?subject:Patient.=x", status: 400, strict: true},
		{query: "Observation?subject.=x", status: 400, strict: true},
		{query: "Observation?.name=x", status: 400, strict: true},
		{query: "Observation?subject:Nope.name=x", status: 400},
		{query: "Observation?subject:Patient.name.family=x", status: 400, strict: true},
		{query: "Observation?subject:Patient.name.family=x", status: 200, matches: -1},
		{query: "Patient?_has:Observation:subject:=x", status: 400},
		{query: "Patient?_has::subject:code=x", status: 400},
		{query: "Patient?_has:Observation:subject:_has:Observation:subject:_has:Observation:subject:_has:Observation:subject:_has:Observation:subject:code=x", status: 400},
		// SQL in values: bound as values, so they match nothing.
		{query: "Patient?family=" + q("' OR '1'='1"), status: 200, matches: 0},
		{query: "Patient?family=" + q("smith' --"), status: 200, matches: 0},
		{query: "Patient?name:contains=" + q("%' OR 1=1 --"), status: 200, matches: 0},
		{query: "Patient?name:contains=" + q("%"), status: 200, matches: 0},
		{query: "Patient?name:contains=" + q("_"), status: 200, matches: 0},
		{query: "Patient?_id=" + q("p1' OR '1'='1"), status: 200, matches: 0},
		{query: "Patient?identifier=" + q("urn:mrn|123' OR 1=1; DROP TABLE resources; --"), status: 200, matches: 0},
		{query: "Patient?gender=" + q("male\"); DELETE FROM versions; --"), status: 200, matches: 0},
		{query: "Observation?subject=" + q("Patient/p1' OR '1'='1"), status: 200, matches: 0},
		{query: "Observation?code-value-quantity=" + q("8480-6$120' OR 1=1"), status: 400},
		// SQL in names: not parameters, so ignored (lenient) or refused.
		{query: "Patient?" + q("family' OR 1=1 --") + "=x", status: 200, matches: -1},
		{query: "Patient?" + q("family' OR 1=1 --") + "=x", strict: true, status: 400},
		{query: "Patient?" + q("family:exact) OR (1=1") + "=x", strict: true, status: 400},
		{query: "Patient?_sort=" + q("family; DROP TABLE resources"), status: 400},
		{query: "Patient?_sort=" + q("-"), status: 400},
		{query: "Patient?_sort=" + q(","), status: 400},
		{query: "Patient?_include=" + q("Patient:organization' OR '1'='1"), status: 400},
		{query: "Patient?_elements=" + q("id,(select 1)"), status: 400},
		{query: "Patient?_type=" + q("Patient;DROP"), status: 200, matches: -1},
		{query: "?_type=" + q("Patient;DROP"), status: 400},
		// FHIRPath in values and names is never evaluated.
		{query: "Patient?family=" + q("name.where(true)"), status: 200, matches: 0},
		{query: "Patient?" + q("name.where(true)") + "=x", strict: true, status: 400},
		{query: "Patient?_filter=" + q("family eq smith"), strict: true, status: 400},
		{query: "Patient?_filter=" + q("family eq smith"), status: 200, matches: -1},
		// Bytes an engine may refuse in text.
		{query: "Patient?family=%00", status: 400},
		{query: "Patient?family=%FF%FE", status: 400},
		{query: "Patient?identifier=" + q("urn:mrn|\x00"), status: 400},
		{query: "Patient?" + q("fam\x00ily") + "=x", strict: true, status: 400},
		{query: "Patient?" + strings.Repeat("a", 5000) + "=x", strict: true, status: 400},
		// Absurd _count and cursors.
		{query: "Patient?_count=99999999999999999999", status: 400},
		{query: "Patient?_count=1e3", status: 400},
		{query: "Patient?_count=0", status: 200, matches: 0},
		{query: "Patient?_count=2147483648", status: 200, matches: 2},
		{query: "Patient?_cursor=" + q("1; DROP TABLE resources"), status: 400},
		{query: "Patient?_cursor=b-5", status: 400},
		{query: "Patient?_cursor=b", status: 400},
		{query: "Patient?_cursor=last", status: 200, matches: 2},
		{query: "Patient?_cursor=last&_sort=family", status: 200, matches: 2},
		{query: "Patient?_cursor=" + q("s"+strings.Repeat("A", 100)) + "&_sort=family", status: 400},
		{query: "Patient?_cursor=p&_sort=family", status: 400},
		{query: "Patient?_cursor=1&_sort=family", status: 400},
		// _include and _revinclude cycles end.
		{query: "Patient?_include:iterate=Patient:link&_revinclude:iterate=Patient:link&_include:iterate=Patient:organization&_revinclude:iterate=Patient:organization", status: 200, matches: 2},
		{query: "Organization?_revinclude:iterate=*&_include:iterate=*", status: 200, matches: 1},
		{query: "Observation?_include:iterate=*&_revinclude:iterate=*", status: 200, matches: 3},
		{query: "Patient?" + strings.Repeat("_include=Patient:organization&", 11), status: 400},
		// _total and _summary with nonsense.
		{query: "Patient?_total=" + q("accurate; DROP TABLE resources"), status: 400},
		{query: "Patient?_summary=" + q("count' OR 1=1"), status: 400},
	} {
		t.Run(tc.query, func(t *testing.T) {
			var h []string
			if tc.strict {
				h = []string{"Prefer", "handling=strict"}
			}
			r := c.do("GET", "/fhir/"+tc.query, "", h...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %.300s", r.status, tc.status, r.raw)
			}
			if r.status >= 400 && r.str("resourceType") != "OperationOutcome" {
				t.Errorf("error without an OperationOutcome: %.300s", r.raw)
			}
			if r.status == 200 && tc.matches >= 0 {
				if got := len(refs(r, "match")); got != tc.matches {
					t.Errorf("%d matches, want %d", got, tc.matches)
				}
			}
		})
	}
	// Nothing was dropped or deleted.
	r := c.do("GET", "/fhir/Patient?_total=accurate", "").must(t, http.StatusOK)
	if r.str("total") != "2" {
		t.Errorf("after the hostile searches, %s patients", r.str("total"))
	}
}
