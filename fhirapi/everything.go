package fhirapi

import (
	"net/http"
	"strings"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/store"
)

// everything serves GET /fhir/Patient/{id}/$everything: the patient, every
// resource in the patient's compartment, and the resources they refer to
// (practitioners, organisations, locations, medications…), paged as a
// searchset. _since keeps what changed from then on, _type limits the
// types, _count sets the page size. It is a compartment search over every
// type the actor may read, with _include=*, audited like any search.
func (h *Handler) everything(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !store.ValidID(id) {
		return custodian.Errorf(custodian.EINVALID, "%q is not a valid resource id", id)
	}
	in := r.URL.Query()
	for name := range in {
		switch name {
		case "_since", "_type", "_count", "_cursor", "_lastUpdated", "_include", "_format", "_pretty", "_total":
		case "start", "end":
			return custodian.Errorf(custodian.ENOTIMPLEMENTED, "$everything with start/end (care dates) is not supported yet; use _since")
		default:
			return custodian.Errorf(custodian.EINVALID, "$everything does not take %q", name)
		}
	}
	types := map[string]bool{}
	for _, t := range strings.Split(in.Get("_type"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			types[t] = true
		}
	}
	cp := &store.Compartment{Type: "Patient", ID: id, Params: map[string][]string{}}
	for _, t := range h.Types {
		ps := fhir.PatientCompartmentParams(t)
		if (len(ps) > 0 || t == "Patient") && (len(types) == 0 || types[t]) {
			// Without _type, the record as far as the actor's role reads
			// it (no role reads every type: AuditEvent is in the
			// compartment); a type named in _type is asked for, and a
			// refusal of it refuses the request.
			if len(types) == 0 && t != "Patient" && h.Store.Allowed(r.Context(), t, "search") != nil {
				continue
			}
			cp.Params[t] = ps
		}
	}
	if len(cp.Params) == 0 {
		return custodian.Errorf(custodian.EINVALID, "_type names no type of the Patient compartment")
	}
	// The search's own parameters: _since becomes _lastUpdated (the next
	// links then carry _lastUpdated, which this handler also takes).
	q := in
	q.Del("_type")
	if s := q.Get("_since"); s != "" {
		q.Del("_since")
		q.Set("_lastUpdated", "ge"+s)
	}
	if q.Get("_include") == "" {
		q.Set("_include", "*")
	}
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = q.Encode()
	return h.doSearch(w, r2, "", cp)
}
