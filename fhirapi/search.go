package fhirapi

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/custodian-him/custodian"
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
	return h.doSearch(w, r, r.PathValue("type"))
}

func (h *Handler) searchSystem(w http.ResponseWriter, r *http.Request) error {
	return h.doSearch(w, r, "")
}

func (h *Handler) doSearch(w http.ResponseWriter, r *http.Request, typ string) error {
	vals, err := h.searchParams(w, r)
	if err != nil {
		return err
	}
	q, ignored, err := h.Store.ParseQuery(typ, vals, strict(r))
	if err != nil {
		return err
	}
	q.Text = r.URL.Path + "?" + vals.Encode()
	page, err := h.Store.Search(r.Context(), q)
	if err != nil {
		return err
	}
	// The self link shows the parameters that were used, not those ignored.
	used := url.Values{}
	for k, v := range vals {
		if k != "_cursor" && !slices.Contains(ignored, k) {
			used[k] = v
		}
	}
	path := h.base(r)
	if typ != "" {
		path += "/" + typ
	}
	links := [][2]string{{"self", path + "?" + used.Encode()}}
	if page.Next != "" {
		next := url.Values{}
		for k, v := range used {
			next[k] = v
		}
		next.Set("_cursor", page.Next)
		links = append(links, [2]string{"next", path + "?" + next.Encode()})
	}
	bw := newBundle("searchset", page.Total, links)
	base := h.base(r)
	for _, res := range page.Resources {
		bw.add(str("fullUrl", base+"/"+res.Ref()), raw("resource", res.Body), raw("search", []byte(`{"mode":"match"}`)))
	}
	writeRaw(w, http.StatusOK, bw.bytes())
	return nil
}

var _ = store.DefaultCount
