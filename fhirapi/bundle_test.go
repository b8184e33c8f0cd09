package fhirapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

const txBundle = `{"resourceType":"Bundle","type":"transaction","entry":[
 {"fullUrl":"urn:uuid:11111111-1111-4111-8111-111111111111","resource":{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"tx1"}],"name":[{"family":"Tx"}]},"request":{"method":"POST","url":"Patient"}},
 {"fullUrl":"urn:uuid:22222222-2222-4222-8222-222222222222","resource":{"resourceType":"Encounter","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"},"subject":{"reference":"urn:uuid:11111111-1111-4111-8111-111111111111"}},"request":{"method":"POST","url":"Encounter"}},
 {"resource":{"resourceType":"Condition","subject":{"reference":"urn:uuid:11111111-1111-4111-8111-111111111111"},"encounter":{"reference":"urn:uuid:22222222-2222-4222-8222-222222222222"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"E11.9"}]}%s},"request":{"method":"POST","url":"Condition"}}
]}`

func TestTransaction(t *testing.T) {
	c := newServer(t)
	r := c.do("POST", "/fhir", fmt.Sprintf(txBundle, "")).must(t, http.StatusOK)
	if r.str("type") != "transaction-response" || len(r.entries()) != 3 {
		t.Fatalf("response: %s", r.raw)
	}
	pid := r.str("entry", "0", "resource", "id")
	if r.str("entry", "0", "response", "status") != "201 Created" {
		t.Fatalf("entry 0: %s", r.raw)
	}
	if got := r.str("entry", "1", "resource", "subject", "reference"); got != "Patient/"+pid {
		t.Fatalf("urn:uuid reference not rewritten: %q", got)
	}
	s := c.do("GET", "/fhir/Condition?subject=Patient/"+pid, "").must(t, http.StatusOK)
	if len(s.entries()) != 1 {
		t.Fatalf("condition by subject: %s", s.raw)
	}
	// Conditional references resolve to the one match.
	cond := `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient?identifier=urn:mrn|tx1"}},"request":{"method":"POST","url":"Observation"}}]}`
	o := c.do("POST", "/fhir", cond).must(t, http.StatusOK)
	if got := o.str("entry", "0", "resource", "subject", "reference"); got != "Patient/"+pid {
		t.Fatalf("conditional reference: %q", got)
	}
}

func TestTransactionAllOrNothing(t *testing.T) {
	c := newServer(t)
	// The third entry is invalid: nothing of the bundle may be stored.
	r := c.do("POST", "/fhir", fmt.Sprintf(txBundle, `,"onsetDateTime":"yesterday"`)).must(t, http.StatusBadRequest)
	if !strings.Contains(string(r.raw), "Bundle.entry[2].resource.onsetDateTime") {
		t.Fatalf("issue location missing: %s", r.raw)
	}
	for _, typ := range []string{"Patient", "Encounter", "Condition"} {
		s := c.do("GET", "/fhir/"+typ+"?_total=accurate", "").must(t, http.StatusOK)
		if s.str("total") != "0" {
			t.Fatalf("%s stored after failed transaction: %s", typ, s.raw)
		}
	}
	h := c.do("GET", "/fhir/_history", "").must(t, http.StatusOK)
	if h.str("total") != "0" {
		t.Fatalf("history after failed transaction: %s", h.raw)
	}
	// A failure found only while writing (a stale If-Match) undoes the rest too.
	c.do("PUT", "/fhir/Patient/keep", `{"resourceType":"Patient","id":"keep"}`).must(t, http.StatusCreated)
	late := `{"resourceType":"Bundle","type":"transaction","entry":[
	 {"resource":{"resourceType":"Patient","name":[{"family":"New"}]},"request":{"method":"POST","url":"Patient"}},
	 {"resource":{"resourceType":"Patient","id":"keep","active":true},"request":{"method":"PUT","url":"Patient/keep","ifMatch":"W/\"9\""}}]}`
	c.do("POST", "/fhir", late).must(t, http.StatusPreconditionFailed)
	if s := c.do("GET", "/fhir/Patient?_total=accurate", ""); s.str("total") != "1" {
		t.Fatalf("patients after failed transaction: %s", s.raw)
	}
}

func TestBatch(t *testing.T) {
	c := newServer(t)
	c.do("PUT", "/fhir/Patient/b1", `{"resourceType":"Patient","id":"b1"}`).must(t, http.StatusCreated)
	batch := `{"resourceType":"Bundle","type":"batch","entry":[
	 {"resource":{"resourceType":"Patient","name":[{"family":"Batch"}]},"request":{"method":"POST","url":"Patient"}},
	 {"resource":{"resourceType":"Patient","birthDate":"bad"},"request":{"method":"POST","url":"Patient"}},
	 {"request":{"method":"GET","url":"Patient/b1"}},
	 {"request":{"method":"GET","url":"Patient/nope"}},
	 {"request":{"method":"DELETE","url":"Patient/b1"}}]}`
	r := c.do("POST", "/fhir", batch).must(t, http.StatusOK)
	want := []string{"201", "400", "200", "404", "200"}
	for i, w := range want {
		if got := r.str("entry", fmt.Sprint(i), "response", "status"); !strings.HasPrefix(got, w) {
			t.Errorf("entry %d status %q, want %s", i, got, w)
		}
	}
	if r.str("entry", "1", "response", "outcome", "resourceType") != "OperationOutcome" {
		t.Errorf("failed entry has no outcome: %s", r.raw)
	}
}

func TestConcurrentConditionalCreate(t *testing.T) {
	c := newServer(t)
	const n = 50
	var wg sync.WaitGroup
	statuses := make([]int, n)
	ids := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := c.do("POST", "/fhir/Patient", fmt.Sprintf(patient, "race"), "If-None-Exist", "identifier=urn:mrn|race")
			statuses[i], ids[i] = r.status, r.str("id")
		}()
	}
	wg.Wait()
	created := 0
	for i := range n {
		switch statuses[i] {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Fatalf("request %d: status %d", i, statuses[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("different ids returned: %s and %s", ids[i], ids[0])
		}
	}
	s := c.do("GET", "/fhir/Patient?identifier=urn:mrn|race&_total=accurate", "").must(t, http.StatusOK)
	if created != 1 || s.str("total") != "1" {
		t.Fatalf("created %d, stored %s; want exactly one", created, s.str("total"))
	}
}

func TestHistoryPaging(t *testing.T) {
	c := newServer(t)
	for i := range 25 {
		c.do("POST", "/fhir/Patient", fmt.Sprintf(patient, fmt.Sprint(i))).must(t, http.StatusCreated)
	}
	seen := map[string]bool{}
	next := "/fhir/Patient/_history?_count=10"
	pages := 0
	for next != "" {
		r := c.do("GET", next, "").must(t, http.StatusOK)
		pages++
		for _, e := range r.entries() {
			seen[e.(map[string]any)["fullUrl"].(string)] = true
		}
		next = ""
		links, _ := r.body["link"].([]any)
		for _, l := range links {
			l := l.(map[string]any)
			if l["relation"] == "next" {
				next = strings.TrimPrefix(l["url"].(string), c.base)
			}
		}
		// A write between pages must not shift them.
		c.do("POST", "/fhir/Observation", `{"resourceType":"Observation","status":"final","code":{"text":"x"}}`)
	}
	if pages != 3 || len(seen) != 25 {
		t.Fatalf("pages %d, distinct entries %d", pages, len(seen))
	}
}

func TestPatientEverything(t *testing.T) {
	c := newServer(t)
	r := c.do("POST", "/fhir", fmt.Sprintf(txBundle, "")).must(t, http.StatusOK)
	pid := r.str("entry", "0", "resource", "id")
	c.do("PUT", "/fhir/Practitioner/dr1", `{"resourceType":"Practitioner","id":"dr1","name":[{"family":"Who"}]}`).must(t, http.StatusCreated)
	c.do("POST", "/fhir/Observation", `{"resourceType":"Observation","status":"final","code":{"text":"hr"},"subject":{"reference":"Patient/`+pid+`"},"performer":[{"reference":"Practitioner/dr1"}]}`).must(t, http.StatusCreated)
	// Another patient's record stays out.
	c.do("POST", "/fhir/Observation", `{"resourceType":"Observation","status":"final","code":{"text":"hr"},"subject":{"reference":"Patient/other"}}`).must(t, http.StatusCreated)

	types := func(r *response) map[string]int {
		m := map[string]int{}
		for _, e := range r.entries() {
			m[e.(map[string]any)["resource"].(map[string]any)["resourceType"].(string)]++
		}
		return m
	}
	all := c.do("GET", "/fhir/Patient/"+pid+"/$everything", "").must(t, http.StatusOK)
	got := types(all)
	want := map[string]int{"Patient": 1, "Encounter": 1, "Condition": 1, "Observation": 1, "Practitioner": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("$everything: %v, want %v", got, want)
	}
	onlyObs := c.do("GET", "/fhir/Patient/"+pid+"/$everything?_type=Observation", "").must(t, http.StatusOK)
	if g := types(onlyObs); g["Observation"] != 1 || g["Encounter"] != 0 {
		t.Fatalf("_type=Observation: %v", g)
	}
	if n := len(c.do("GET", "/fhir/Patient/"+pid+"/$everything?_since=2999-01-01", "").must(t, http.StatusOK).entries()); n != 0 {
		t.Fatalf("_since in the future: %d entries", n)
	}
	// Paging: every page link works and nothing repeats.
	seen := map[string]bool{}
	next := "/fhir/Patient/" + pid + "/$everything?_count=2"
	for next != "" {
		p := c.do("GET", next, "").must(t, http.StatusOK)
		for _, e := range p.entries() {
			u := e.(map[string]any)["fullUrl"].(string)
			if seen[u] && e.(map[string]any)["search"].(map[string]any)["mode"] == "match" {
				t.Fatalf("%s on two pages", u)
			}
			seen[u] = true
		}
		next = ""
		for _, l := range p.body["link"].([]any) {
			if l := l.(map[string]any); l["relation"] == "next" {
				next = strings.TrimPrefix(l["url"].(string), c.base)
			}
		}
	}
	if len(seen) < 4 {
		t.Fatalf("paged $everything saw %d resources", len(seen))
	}
	c.do("GET", "/fhir/Patient/"+pid+"/$everything?start=2020-01-01", "").must(t, http.StatusNotImplemented)
}

// TestTransactionSameIdentityTwice: two creates-if-absent with the same
// criteria make one resource (a feed's batch can name a new patient twice),
// and two entries whose conditions resolve to one resource fail the
// transaction, as FHIR's transaction rules require.
func TestTransactionSameIdentityTwice(t *testing.T) {
	c := newServer(t)
	twice := `{"resourceType":"Bundle","type":"transaction","entry":[
	 {"fullUrl":"urn:uuid:aaaaaaaa-1111-4111-8111-111111111111","resource":{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"twice"}],"name":[{"family":"One"}]},"request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:mrn|twice"}},
	 {"fullUrl":"urn:uuid:bbbbbbbb-2222-4222-8222-222222222222","resource":{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"twice"}],"name":[{"family":"Two"}]},"request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:mrn|twice"}},
	 {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:bbbbbbbb-2222-4222-8222-222222222222"}},"request":{"method":"POST","url":"Observation"}}]}`
	r := c.do("POST", "/fhir", twice).must(t, http.StatusOK)
	first, second := r.str("entry", "0", "resource", "id"), r.str("entry", "1", "resource", "id")
	if first == "" || first != second {
		t.Fatalf("the two entries are %q and %q, want one resource: %s", first, second, r.raw)
	}
	if got := r.str("entry", "2", "resource", "subject", "reference"); got != "Patient/"+first {
		t.Errorf("the Observation refers to %q, want Patient/%s", got, first)
	}
	if s := c.do("GET", "/fhir/Patient?identifier=urn:mrn|twice&_total=accurate", "").must(t, http.StatusOK); s.str("total") != "1" {
		t.Fatalf("patients with the identifier: %s, want 1", s.str("total"))
	}
	// Two conditional updates that find the same patient write it twice.
	both := `{"resourceType":"Bundle","type":"transaction","entry":[
	 {"resource":{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"twice"}],"active":true},"request":{"method":"PUT","url":"Patient?identifier=urn:mrn|twice"}},
	 {"resource":{"resourceType":"Patient","id":"` + first + `","identifier":[{"system":"urn:mrn","value":"twice"}],"active":false},"request":{"method":"PUT","url":"Patient/` + first + `"}}]}`
	bad := c.do("POST", "/fhir", both).must(t, http.StatusBadRequest)
	if !strings.Contains(string(bad.raw), "a transaction may write a resource once") {
		t.Errorf("the refusal does not say why: %s", bad.raw)
	}
	if v := c.do("GET", "/fhir/Patient/"+first, "").must(t, http.StatusOK); v.str("meta", "versionId") != "1" {
		t.Errorf("the refused transaction wrote version %s", v.str("meta", "versionId"))
	}
}
