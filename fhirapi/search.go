package fhirapi

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/store"
)

// searchParams returns the parameters of a search, from the query string
// and, for POST _search, the form body.
func (h *Handler) searchParams(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if r.Method != http.MethodPost {
		return r.URL.Query(), nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return nil, custodian.Errorf(custodian.EINVALID, "POST _search takes application/x-www-form-urlencoded parameters")
	}
	if err := r.ParseForm(); err != nil {
		return nil, custodian.Wrap(custodian.EINVALID, err, "the search parameters cannot be read")
	}
	return r.Form, nil
}

// strict reports whether the client asked for Prefer: handling=strict.
func strict(r *http.Request) bool {
	for _, v := range r.Header.Values("Prefer") {
		if strings.Contains(v, "handling=strict") {
			return true
		}
	}
	return false
}

func (h *Handler) search(w http.ResponseWriter, r *http.Request) error {
	return h.doSearch(w, r, r.PathValue("type"), nil)
}

func (h *Handler) searchSystem(w http.ResponseWriter, r *http.Request) error {
	return h.doSearch(w, r, "", nil)
}

// searchCompartment serves GET /fhir/Patient/{id}/{type} (and /* for every
// type in the compartment): a search limited to the patient's compartment,
// per the R4 patient CompartmentDefinition.
func (h *Handler) searchCompartment(w http.ResponseWriter, r *http.Request) error {
	ctype, id, typ := r.PathValue("type"), r.PathValue("id"), r.PathValue("ctype")
	if ctype != "Patient" {
		return custodian.Errorf(custodian.ENOTFOUND, "only the Patient compartment is supported, not %s", ctype)
	}
	if !store.ValidID(id) {
		return custodian.Errorf(custodian.EINVALID, "%q is not a valid resource id", id)
	}
	cp := &store.Compartment{Type: ctype, ID: id, Params: map[string][]string{}}
	if typ == "*" {
		for _, t := range h.Types {
			if ps := fhir.PatientCompartmentParams(t); len(ps) > 0 || t == "Patient" {
				cp.Params[t] = ps
			}
		}
		return h.doSearch(w, r, "", cp)
	}
	ps := fhir.PatientCompartmentParams(typ)
	if len(ps) == 0 && typ != "Patient" {
		return custodian.Errorf(custodian.ENOTFOUND, "%s is not in the Patient compartment", typ)
	}
	cp.Params[typ] = ps
	return h.doSearch(w, r, typ, cp)
}

// textOnly refuses parameter names and values that are not text: a NUL
// character, or bytes that are not UTF-8 (which a database may refuse, and
// no stored value holds).
func textOnly(vals url.Values) error {
	bad := func(s string) bool { return !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 }
	for k, vs := range vals {
		if bad(k) {
			return custodian.Errorf(custodian.EINVALID, "a search parameter name is not valid text: it holds a NUL character or bytes that are not UTF-8")
		}
		for _, v := range vs {
			if bad(v) {
				return custodian.Errorf(custodian.EINVALID, "the value of %s is not valid text: it holds a NUL character or bytes that are not UTF-8", k)
			}
		}
	}
	return nil
}

func (h *Handler) doSearch(w http.ResponseWriter, r *http.Request, typ string, cp *store.Compartment) error {
	vals, err := h.searchParams(w, r)
	if err != nil {
		return err
	}
	if err := textOnly(vals); err != nil {
		return err
	}
	q, ignored, err := h.Store.ParseQuery(typ, vals, strict(r))
	if err != nil {
		return err
	}
	if cp != nil {
		q.Compartment = cp
		if typ == "" {
			for t := range cp.Params {
				q.Types = append(q.Types, t)
			}
			slices.Sort(q.Types)
		}
	}
	// store.ParseQuery reads _total=estimate as a count; an estimate is
	// cheaper to give.
	q.Estimate = q.CountTotal && vals.Get("_total") == "estimate"
	q.Text = r.URL.Path + "?" + vals.Encode()
	res, err := h.Store.SearchWithIncludes(r.Context(), q)
	if err != nil {
		return err
	}
	page := res.SearchPage
	// The self link shows the parameters that were used, not those ignored.
	used := url.Values{}
	for k, v := range vals {
		if k != "_cursor" && !slices.Contains(ignored, k) {
			used[k] = v
		}
	}
	path := h.base(r) + strings.TrimPrefix(r.URL.Path, "/fhir")
	path = strings.TrimSuffix(path, "/_search")
	links := [][2]string{{"self", path + "?" + used.Encode()}}
	at := func(cursor string) string {
		u := url.Values{}
		for k, v := range used {
			u[k] = v
		}
		if cursor != "" {
			u.Set("_cursor", cursor)
		}
		return path + "?" + u.Encode()
	}
	if page.Next != "" || res.Prev != "" {
		links = append(links, [2]string{"first", at("")})
		if res.Prev != "" {
			links = append(links, [2]string{"previous", at(res.Prev)})
		}
		if page.Next != "" {
			links = append(links, [2]string{"next", at(page.Next)})
		}
		if len(q.Sort) == 0 {
			// (Sorted, the last page can cost a pass over every match.)
			links = append(links, [2]string{"last", at(store.LastCursor)})
		}
	}
	bw := newBundle("searchset", page.Total, links)
	base := h.base(r)
	for _, res := range page.Resources {
		bw.add(str("fullUrl", base+"/"+res.Ref()), raw("resource", shape(res, q)), raw("search", []byte(`{"mode":"match"}`)))
	}
	for _, res := range res.Included {
		bw.add(str("fullUrl", base+"/"+res.Ref()), raw("resource", shape(res, q)), raw("search", []byte(`{"mode":"include"}`)))
	}
	writeRaw(w, http.StatusOK, bw.bytes())
	return nil
}
