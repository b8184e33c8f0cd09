package fhirapi_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian/store"
)

// searchFixture loads a small record: two patients, an organisation,
// observations with quantities and an encounter.
func searchFixture(t *testing.T) *client {
	t.Helper()
	c := newServer(t)
	for _, r := range []string{
		`{"resourceType":"Organization","id":"o1","name":"Acme Health"}`,
		`{"resourceType":"Patient","id":"p1","name":[{"family":"Smith","given":["John"]}],"gender":"male","birthDate":"1970-01-01",
		  "managingOrganization":{"reference":"Organization/o1"},
		  "identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},"system":"urn:mrn","value":"123"}]}`,
		`{"resourceType":"Patient","id":"p2","meta":{"tag":[{"system":"http://example.org/tags","code":"vip"}]},"name":[{"family":"Jones","given":["Ann"]}],"gender":"female","birthDate":"1985-06-15"}`,
		`{"resourceType":"Observation","id":"oa","status":"final","subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-01-05",
		  "code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Systolic blood pressure"}]},
		  "valueQuantity":{"value":120,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}`,
		`{"resourceType":"Observation","id":"ob","status":"preliminary","subject":{"reference":"Patient/p2"},"effectiveDateTime":"2024-02-05",
		  "code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Systolic blood pressure"}]},
		  "valueQuantity":{"value":140,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}`,
		`{"resourceType":"Observation","id":"oc","status":"final","subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-03-01",
		  "code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}],"text":"Body weight"},
		  "valueQuantity":{"value":70,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}}`,
		`{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},"code":{"text":"Essential hypertension"},
		  "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Patient has <b>essential</b> hypertension &amp; headaches</p></div>"}}`,
		`{"resourceType":"Encounter","id":"e1","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/p1"},
		  "period":{"start":"2024-01-05T10:00:00Z","end":"2024-01-05T11:00:00Z"}}`,
	} {
		m := decodeJSON(t, []byte(r))
		c.do("PUT", "/fhir/"+m["resourceType"].(string)+"/"+m["id"].(string), r).must(t, http.StatusCreated)
	}
	return c
}

// refs lists "Type/id" of the entries of a search Bundle in mode.
func refs(r *response, mode string) []string {
	var out []string
	for _, e := range r.entries() {
		em := e.(map[string]any)
		if em["search"].(map[string]any)["mode"] != mode {
			continue
		}
		res := em["resource"].(map[string]any)
		out = append(out, res["resourceType"].(string)+"/"+res["id"].(string))
	}
	return out
}

func TestSearchKindsAndModifiers(t *testing.T) {
	c := searchFixture(t)
	for _, tc := range []struct {
		query   string
		want    []string // in order when sorted is set
		include []string
		sorted  bool
	}{
		{query: "Patient?family=smi", want: []string{"Patient/p1"}},
		{query: "Condition?_text=hypertension%20headache", want: []string{"Condition/c1"}},
		{query: "Condition?_text=hypertension%20migraine"},
		{query: "Condition?_content=essential", want: []string{"Condition/c1"}},
		{query: "Patient?_content=smith", want: []string{"Patient/p1"}},
		{query: "Patient?_text=smith"},
		{query: "Patient?family:exact=Smith", want: []string{"Patient/p1"}},
		{query: "Patient?family:exact=smith"},
		{query: "Patient?name:contains=ohn", want: []string{"Patient/p1"}},
		{query: "Patient?gender=http://hl7.org/fhir/administrative-gender|male", want: []string{"Patient/p1"}},
		{query: "Patient?gender=http://example.org|male"},
		{query: "Patient?gender:not=male", want: []string{"Patient/p2"}},
		{query: "Patient?gender:in=http://hl7.org/fhir/ValueSet/administrative-gender", want: []string{"Patient/p1", "Patient/p2"}},
		{query: "Patient?gender:not-in=http://hl7.org/fhir/ValueSet/administrative-gender"},
		{query: "Patient?birthdate=lt1980", want: []string{"Patient/p1"}},
		{query: "Patient?birthdate=1985-06", want: []string{"Patient/p2"}},
		{query: "Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|123", want: []string{"Patient/p1"}},
		{query: "Patient?identifier=urn:mrn|123", want: []string{"Patient/p1"}},
		{query: "Patient?gender:missing=true"},
		{query: "Patient?organization:missing=true", want: []string{"Patient/p2"}},
		{query: "Patient?organization:missing=false", want: []string{"Patient/p1"}},
		{query: "Observation?value-quantity=120", want: []string{"Observation/oa"}},
		{query: "Observation?value-quantity=gt130", want: []string{"Observation/ob"}},
		{query: "Observation?value-quantity=ne120", want: []string{"Observation/ob", "Observation/oc"}},
		{query: "Observation?value-quantity=70000|http://unitsofmeasure.org|g", want: []string{"Observation/oc"}},
		{query: "Observation?value-quantity=70||kg", want: []string{"Observation/oc"}},
		{query: "Observation?value-quantity=ap72||kg", want: []string{"Observation/oc"}},
		{query: "Observation?code-value-quantity=http://loinc.org|8480-6$gt125", want: []string{"Observation/ob"}},
		{query: "Observation?code-value-quantity=8480-6$lt125||mm[Hg]", want: []string{"Observation/oa"}},
		{query: "Observation?code:text=systolic", want: []string{"Observation/oa", "Observation/ob"}},
		{query: "Observation?code:text=body", want: []string{"Observation/oc"}},
		{query: "Observation?subject=Patient/p2", want: []string{"Observation/ob"}},
		{query: "Observation?subject:Patient=p2", want: []string{"Observation/ob"}},
		{query: "Observation?subject:Patient.family=smith", want: []string{"Observation/oa", "Observation/oc"}},
		{query: "Observation?subject.organization.name=acme", want: []string{"Observation/oa", "Observation/oc"}},
		{query: "Observation?patient.gender=female&code=8480-6", want: []string{"Observation/ob"}},
		{query: "Patient?_has:Observation:subject:code=29463-7", want: []string{"Patient/p1"}},
		{query: "Organization?_has:Patient:organization:_has:Observation:subject:status=preliminary"},
		{query: "Organization?_has:Patient:organization:_has:Observation:subject:status=final", want: []string{"Organization/o1"}},
		{query: "Observation?_sort=date", want: []string{"Observation/oa", "Observation/ob", "Observation/oc"}, sorted: true},
		{query: "Observation?_sort=-date", want: []string{"Observation/oc", "Observation/ob", "Observation/oa"}, sorted: true},
		{query: "Observation?_sort=status,-date", want: []string{"Observation/oc", "Observation/oa", "Observation/ob"}, sorted: true},
		{query: "Patient/p1/Observation", want: []string{"Observation/oa", "Observation/oc"}},
		{query: "Patient/p1/Observation?code=29463-7", want: []string{"Observation/oc"}},
		{query: "Encounter?_include=Encounter:subject", want: []string{"Encounter/e1"}, include: []string{"Patient/p1"}},
		{query: "Patient?_id=p2&_revinclude=Observation:subject", want: []string{"Patient/p2"}, include: []string{"Observation/ob"}},
		{query: "Encounter?_include=Encounter:subject&_include:iterate=Patient:organization", want: []string{"Encounter/e1"}, include: []string{"Organization/o1", "Patient/p1"}},
		{query: "Patient?_id=p1&_include=*", want: []string{"Patient/p1"}, include: []string{"Organization/o1"}},
		{query: "?_type=Patient,Organization&_id=p1,o1", want: []string{"Organization/o1", "Patient/p1"}},
		{query: "?_id=p1,o1", want: []string{"Organization/o1", "Patient/p1"}},
		{query: "?_content=acme", want: []string{"Organization/o1"}},
		{query: "?_tag=http://example.org/tags|vip", want: []string{"Patient/p2"}},
		{query: "?_type=Patient,Organization&name=acme", want: []string{"Organization/o1"}},
		{query: "Patient?family=" + url.QueryEscape("x';DROP TABLE resources;--")},
		{query: "Patient?" + url.QueryEscape("family') OR 1=1 --") + "=x", want: []string{"Patient/p1", "Patient/p2"}}, // ignored
	} {
		t.Run(tc.query, func(t *testing.T) {
			r := c.do("GET", "/fhir/"+tc.query, "").must(t, http.StatusOK)
			got, inc := refs(r, "match"), refs(r, "include")
			if !tc.sorted {
				slices.Sort(got)
			}
			slices.Sort(inc)
			if !slices.Equal(got, tc.want) || !slices.Equal(inc, tc.include) {
				t.Errorf("got %v (+%v), want %v (+%v)", got, inc, tc.want, tc.include)
			}
		})
	}
}

func TestSearchPagingWithSort(t *testing.T) {
	c := searchFixture(t)
	var got []string
	next := "/fhir/Observation?_sort=-value-quantity&_count=1"
	for i := 0; next != "" && i < 10; i++ {
		r := c.do("GET", next, "").must(t, http.StatusOK)
		got = append(got, refs(r, "match")...)
		next = ""
		for _, l := range r.body["link"].([]any) {
			if lm := l.(map[string]any); lm["relation"] == "next" {
				u, _ := url.Parse(lm["url"].(string))
				next = u.RequestURI()
			}
		}
	}
	// 140 and 120 mm[Hg] and 70 kg, by their value as written.
	want := []string{"Observation/ob", "Observation/oa", "Observation/oc"}
	if !slices.Equal(got, want) {
		t.Errorf("pages gave %v, want %v", got, want)
	}
}

func TestSearchSummaryAndElements(t *testing.T) {
	c := searchFixture(t)
	r := c.do("GET", "/fhir/Patient?_id=p1&_elements=gender", "").must(t, http.StatusOK)
	res := r.entries()[0].(map[string]any)["resource"].(map[string]any)
	if res["gender"] != "male" || res["name"] != nil || !strings.Contains(r.str("entry", "0", "resource", "meta", "tag"), "SUBSETTED") {
		t.Errorf("_elements=gender gave %v", res)
	}
	r = c.do("GET", "/fhir/Patient?_summary=count", "").must(t, http.StatusOK)
	if r.str("total") != "2" || len(r.entries()) != 0 {
		t.Errorf("_summary=count: total %s, %d entries", r.str("total"), len(r.entries()))
	}
	r = c.do("GET", "/fhir/Patient?_id=p1&_summary=true", "").must(t, http.StatusOK)
	res = r.entries()[0].(map[string]any)["resource"].(map[string]any)
	if res["name"] == nil || res["birthDate"] == nil {
		t.Errorf("_summary=true dropped summary elements: %v", res)
	}
	r = c.do("GET", "/fhir/Patient?_total=accurate&gender=male", "").must(t, http.StatusOK)
	if r.str("total") != "1" {
		t.Errorf("_total=accurate: total %q", r.str("total"))
	}
}

func TestSearchBadInput(t *testing.T) {
	c := searchFixture(t)
	for _, tc := range []struct {
		query  string
		strict bool
		status int
	}{
		{query: "Observation?value-quantity=abc", status: 400},
		{query: "Observation?value-quantity=NaN", status: 400},
		{query: "Patient?birthdate=xx2020", status: 400},
		{query: "Patient?birthdate=2020-13-45", status: 400},
		{query: "Patient?_count=-1", status: 400},
		{query: "Patient?_count=abc", status: 400},
		{query: "Patient?_count=100000000", status: 200},
		{query: "Patient?unknown=1", status: 200},
		{query: "Patient?unknown=1", strict: true, status: 400},
		{query: "Patient?family:foo=1", strict: true, status: 400},
		{query: "Patient?family:foo=1", status: 200},
		{query: "Observation?subject:Patient.foo=1", strict: true, status: 400},
		{query: "Observation?code.name=1", strict: true, status: 400},
		{query: "Patient?_has:Observation:nope:code=1", status: 400},
		{query: "Patient?_has:Nope:subject:code=1", status: 400},
		{query: "Patient?_has:Observation", strict: true, status: 400},
		{query: "Patient?_sort=nope", status: 400},
		{query: "Patient?_include=Nope:x", status: 400},
		{query: "Patient?_include=Patient:name", status: 400},
		{query: "Patient?_total=maybe", status: 400},
		{query: "Patient?_summary=maybe", status: 400},
		{query: "Patient?_cursor=garbage&_sort=family", status: 400},
		{query: "Patient?_cursor=garbage", status: 400},
		{query: "Patient?gender:missing=maybe", status: 400},
		{query: "Patient?gender:in=http://example.org/nope", status: 400},
		{query: "Patient?identifier:of-type=x", status: 400},
		{query: "Observation?code-value-quantity=8480-6", status: 400},
		{query: "Patient?_elements=na%20me", status: 400},
		{query: "Patient?name=" + strings.Repeat("a", 5000), status: 400},
		{query: "Patient?_id=" + strings.Repeat("a,", 200), status: 400},
		{query: "Patient?organization.partof.partof.partof.partof.partof.name=x", status: 400},
		{query: "Patient?_include=Patient:organization&_include:iterate=Organization:partof&_include:iterate=Patient:organization", status: 200},
		{query: "Nope?x=1", status: 404},
		{query: "Patient/p1/Nope", status: 404},
		{query: "Patient/p1/Organization", status: 404},
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
		})
	}
}

func TestSearchLenientSelfLink(t *testing.T) {
	c := searchFixture(t)
	r := c.do("GET", "/fhir/Patient?family=smith&unknown=1", "").must(t, http.StatusOK)
	self := r.str("link", "0", "url")
	if strings.Contains(self, "unknown") || !strings.Contains(self, "family=smith") {
		t.Errorf("self link %q", self)
	}
}

// TestSearchTimeLimit: a search that runs out of time is a 503 with an
// OperationOutcome that says so, not a 500.
func TestSearchTimeLimit(t *testing.T) {
	c := searchFixture(t)
	old := store.SearchTimeout
	store.SearchTimeout = time.Nanosecond
	defer func() { store.SearchTimeout = old }()
	r := c.do("GET", "/fhir/Observation?subject:Patient.family=smith", "")
	if r.status != http.StatusServiceUnavailable || r.str("issue", "0", "code") != "timeout" {
		t.Fatalf("status %d: %.300s", r.status, r.raw)
	}
	if !strings.Contains(string(r.raw), "longer than") {
		t.Errorf("the outcome does not say the search took too long: %.300s", r.raw)
	}
}
