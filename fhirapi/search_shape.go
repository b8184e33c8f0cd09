package fhirapi

import (
	"slices"
	"strings"

	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/store"
)

// subsetted is the meta.tag FHIR asks for on resources shaped by _summary
// or _elements.
var subsetted = map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}

// shape applies _summary and _elements to a stored body; it returns the
// body as stored when neither asks for less.
func shape(res *store.Resource, q *store.Query) []byte {
	if (q.Summary == "" || q.Summary == "false") && len(q.Elements) == 0 {
		return res.Body
	}
	m, err := store.Decode(res.Body)
	if err != nil {
		return res.Body
	}
	var keep func(k string) bool
	switch {
	case q.Summary == "text":
		keep = func(k string) bool { return k == "text" || k == "id" || k == "meta" }
	case q.Summary == "data":
		keep = func(k string) bool { return k != "text" }
	case q.Summary == "true":
		elems := search.SummaryElements(res.Type)
		keep = func(k string) bool { return elementIn(k, elems) }
	default:
		keep = func(k string) bool { return k == "id" || k == "meta" || elementIn(k, q.Elements) }
	}
	for k := range m {
		if k != "resourceType" && !keep(strings.TrimPrefix(k, "_")) {
			delete(m, k)
		}
	}
	meta, _ := m["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		m["meta"] = meta
	}
	tags, _ := meta["tag"].([]any)
	meta["tag"] = append(tags, subsetted)
	b, err := store.Encode(m)
	if err != nil {
		return res.Body
	}
	return b
}

// elementIn reports whether JSON key k is one of the elements, a choice
// key (valueQuantity) matching its element name (value) too.
func elementIn(k string, elems []string) bool {
	if slices.Contains(elems, k) {
		return true
	}
	for _, e := range elems {
		if len(k) > len(e) && strings.HasPrefix(k, e) && k[len(e)] >= 'A' && k[len(e)] <= 'Z' {
			return true
		}
	}
	return false
}
