package fhirapi

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

func (h *Handler) history(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := store.HistoryFilter{Type: r.PathValue("type"), ID: r.PathValue("id"), Count: store.DefaultCount}
	if f.ID != "" && !store.ValidID(f.ID) {
		return custodian.Errorf(custodian.EINVALID, "%q is not a valid resource id", f.ID)
	}
	if v := q.Get("_count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return custodian.Errorf(custodian.EINVALID, "_count must be a whole number of 0 or more")
		}
		f.Count = min(n, store.MaxCount)
	}
	if v := q.Get("_since"); v != "" {
		low, _, ok := store.DateRange(v)
		if !ok {
			return custodian.Errorf(custodian.EINVALID, "_since %q is not an instant", v)
		}
		f.Since = low
	}
	if v := q.Get("_at"); v != "" {
		return custodian.Errorf(custodian.ENOTIMPLEMENTED, "_at is not supported; use _since")
	}
	if v := q.Get("_cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return custodian.Errorf(custodian.EINVALID, "the paging cursor is not valid")
		}
		f.Before = n
	}
	page, err := h.Store.History(r.Context(), f)
	if err != nil {
		return err
	}
	self := h.base(r) + r.URL.Path[len("/fhir"):]
	keep := url.Values{}
	for _, k := range []string{"_count", "_since"} {
		if v := q.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	links := [][2]string{{"self", self + "?" + keep.Encode()}}
	if page.Next != 0 {
		keep.Set("_cursor", strconv.FormatInt(page.Next, 10))
		links = append(links, [2]string{"next", self + "?" + keep.Encode()})
	}
	bw := newBundle("history", page.Total, links)
	base := h.base(r)
	for _, v := range page.Versions {
		url := v.Ref()
		if v.Method == store.MethodCreate {
			url = v.Type
		}
		status := "200"
		if v.Method == store.MethodCreate {
			status = "201"
		} else if v.Deleted {
			status = "204"
		}
		req := map[string]any{"method": string(v.Method), "url": url}
		if v.Author != "" {
			req["extension"] = []any{map[string]any{"url": AuthorExtension, "valueString": v.Author}}
		}
		var body []byte
		if !v.Deleted {
			body = v.Body
		}
		bw.add(str("fullUrl", base+"/"+v.Ref()), raw("resource", body), obj("request", req),
			obj("response", map[string]any{"status": status, "etag": v.ETag(), "lastModified": store.FormatInstant(v.LastUpdated)}))
	}
	writeRaw(w, http.StatusOK, bw.bytes())
	return nil
}

// AuthorExtension marks, on a history entry's request, who wrote the version.
const AuthorExtension = "https://custodian-him.org/fhir/StructureDefinition/version-author"
