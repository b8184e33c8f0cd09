package fhirapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
)

// capabilityParams reads the search parameters the CapabilityStatement
// lists for typ, by name, and its searchInclude values.
func capabilityParams(t *testing.T, c *client, typ string) (map[string]map[string]any, []any) {
	t.Helper()
	r := c.do("GET", "/fhir/metadata", "").must(t, http.StatusOK)
	rest, _ := r.body["rest"].([]any)
	if len(rest) != 1 {
		t.Fatalf("rest: %v", rest)
	}
	resources, _ := rest[0].(map[string]any)["resource"].([]any)
	for _, res := range resources {
		m := res.(map[string]any)
		if m["type"] != typ {
			continue
		}
		out := map[string]map[string]any{}
		sps, _ := m["searchParam"].([]any)
		for _, sp := range sps {
			e := sp.(map[string]any)
			name, _ := e["name"].(string)
			if out[name] != nil {
				t.Errorf("%s: %s listed twice", typ, name)
			}
			out[name] = e
		}
		incs, _ := m["searchInclude"].([]any)
		return out, incs
	}
	t.Fatalf("%s is not in the CapabilityStatement", typ)
	return nil, nil
}

// TestCapabilityListsActiveParams: the CapabilityStatement lists every
// R4 search parameter whose values are indexed, and a posted
// SearchParameter only while it is active (reindexed at its current
// version): not when posted, when changed until the next reindex, or
// when retired.
func TestCapabilityListsActiveParams(t *testing.T) {
	c, db := customServer(t)
	reg, err := search.NewR4(fhir.R4())
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"Patient", "Observation", "Condition"} {
		listed, incs := capabilityParams(t, c, typ)
		want := 0
		for _, p := range reg.Params(typ) {
			if _, ok := reg.Param(typ, p.Code); !ok {
				if listed[p.Code] != nil {
					t.Errorf("%s: %s is listed but cannot be searched", typ, p.Code)
				}
				continue
			}
			want++
			e := listed[p.Code]
			if e == nil {
				t.Errorf("%s: %s is not listed", typ, p.Code)
				continue
			}
			if e["type"] != string(p.Kind) || e["definition"] != p.URL {
				t.Errorf("%s: %s listed as %v, want type %s and definition %s", typ, p.Code, e, p.Kind, p.URL)
			}
		}
		// And _id, _lastUpdated, _content and _text.
		if len(listed) != want+4 || listed["_id"] == nil || listed["_lastUpdated"] == nil || listed["_content"] == nil || listed["_text"] == nil {
			t.Errorf("%s: %d parameters listed, want %d and _id, _lastUpdated, _content, _text", typ, len(listed), want)
		}
		if typ == "Patient" && !containsAny(incs, "Patient:general-practitioner") {
			t.Errorf("Patient searchInclude %v lacks Patient:general-practitioner", incs)
		}
	}
	if p, _ := capabilityParams(t, c, "Patient"); p["birthdate"]["type"] != "date" || p["gender"]["type"] != "token" || p["_text"]["type"] != "string" {
		t.Errorf("Patient birthdate %v, gender %v, _text %v", p["birthdate"], p["gender"], p["_text"])
	}
	// Binary has no narrative: _content, not _text.
	if p, _ := capabilityParams(t, c, "Binary"); p["_text"] != nil || p["_content"] == nil {
		t.Errorf("Binary lists _text %v, _content %v", p["_text"], p["_content"])
	}
	listed := func() map[string]any {
		p, _ := capabilityParams(t, c, "Patient")
		return p["eye-colour"]
	}
	strict := []string{"Prefer", "handling=strict"}
	c.do("PUT", "/fhir/Patient/p1", patientWithEyes("p1", "blue")).must(t, http.StatusCreated)
	c.do("PUT", "/fhir/SearchParameter/eye-colour", eyeColour).must(t, http.StatusCreated)
	// The server knows it (a lenient search leaves it out of the self
	// link rather than failing) but it is not active: not listed.
	waitFor(t, func() bool {
		r := c.do("GET", "/fhir/Patient?eye-colour=blue", "")
		return r.status == http.StatusOK && !strings.Contains(r.str("link", "0", "url"), "eye-colour")
	})
	if e := listed(); e != nil {
		t.Errorf("eye-colour listed before reindex: %v", e)
	}
	reindexAll(t, db)
	waitFor(t, func() bool { return listed() != nil })
	if e := listed(); e["type"] != "token" || e["definition"] != "http://example.org/SearchParameter/eye-colour" {
		t.Errorf("eye-colour listed as %v", e)
	}
	if r := c.do("GET", "/fhir/Patient?eye-colour=blue", "", strict...); r.status != http.StatusOK {
		t.Errorf("a listed parameter cannot be searched: status %d", r.status)
	}
	// A new version waits for the next reindex.
	c.do("PUT", "/fhir/SearchParameter/eye-colour", strings.Replace(eyeColour, "eye-colour')", "eye-color')", 1)).must(t, http.StatusOK)
	waitFor(t, func() bool { return listed() == nil })
	reindexAll(t, db)
	waitFor(t, func() bool { return listed() != nil })
	// Retired: gone.
	c.do("PUT", "/fhir/SearchParameter/eye-colour", strings.Replace(eyeColour, `"status":"active"`, `"status":"retired"`, 1)).must(t, http.StatusOK)
	waitFor(t, func() bool { return listed() == nil })
	if r := c.do("GET", "/fhir/Patient?eye-colour=blue", "", strict...); r.status != http.StatusBadRequest {
		t.Errorf("a retired parameter searched: status %d", r.status)
	}
}

func containsAny(list []any, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
