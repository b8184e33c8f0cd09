package fhirapi_test

import (
	"net/url"
	"testing"
)

// Search values escape "|", "," and "$" with a backslash; a conditional
// create on such a value finds the resource it created before.
func TestSearchEscapedValues(t *testing.T) {
	c := newServer(t)
	body := `{"resourceType":"Patient","identifier":[{"system":"urn:x","value":"a|b,c"}],"name":[{"family":"O,Brien"}]}`
	q := url.QueryEscape(`urn:x|a\|b\,c`)
	c.do("POST", "/fhir/Patient", body, "If-None-Exist", "identifier="+q).must(t, 201)
	c.do("POST", "/fhir/Patient", body, "If-None-Exist", "identifier="+q).must(t, 200)
	if n := len(c.do("GET", "/fhir/Patient?identifier="+q, "").must(t, 200).entries()); n != 1 {
		t.Errorf("identifier with escaped | and ,: %d matches, want 1", n)
	}
	if n := len(c.do("GET", "/fhir/Patient?identifier="+url.QueryEscape(`urn:x|a`), "").must(t, 200).entries()); n != 0 {
		t.Errorf("a prefix of the value matched: %d", n)
	}
	if n := len(c.do("GET", "/fhir/Patient?family="+url.QueryEscape(`O\,Brien`), "").must(t, 200).entries()); n != 1 {
		t.Errorf("family with an escaped comma: %d matches, want 1", n)
	}
}
