package fhirapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// prefer returns the return= preference: minimal, representation (the
// default) or OperationOutcome.
func prefer(r *http.Request) string {
	for _, v := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(v, ";") {
			if k, val, ok := strings.Cut(strings.TrimSpace(p), "="); ok && k == "return" {
				return strings.Trim(val, `"`)
			}
		}
	}
	return "representation"
}

// writeOutcome answers a create, update or patch.
func (h *Handler) writeOutcome(w http.ResponseWriter, r *http.Request, out *store.Outcome) error {
	res := out.Resource
	status := http.StatusOK
	if out.Created {
		status = http.StatusCreated
	}
	h.versionHeaders(w, r, res)
	if out.Created || r.Method == http.MethodPost {
		w.Header().Set("Location", h.base(r)+"/"+res.Ref()+"/_history/"+strconv.FormatInt(res.VersionID, 10))
	}
	switch prefer(r) {
	case "minimal":
		w.WriteHeader(status)
		return nil
	case "OperationOutcome":
		msg := "updated " + res.Ref()
		switch {
		case out.Created:
			msg = "created " + res.Ref()
		case out.Unchanged:
			msg = res.Ref() + " already had this content; no version was added"
		case r.Method == http.MethodPost:
			msg = "found " + res.Ref() + " matching If-None-Exist; nothing was created"
		}
		writeJSON(w, status, informational(msg))
		return nil
	}
	writeRaw(w, status, res.Body)
	return nil
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request) error {
	body, _, err := h.readBody(w, r)
	if err != nil {
		return err
	}
	out, err := h.Store.Create(r.Context(), r.PathValue("type"), body, store.WriteOptions{IfNoneExist: r.Header.Get("If-None-Exist")})
	if err != nil {
		return err
	}
	return h.writeOutcome(w, r, out)
}

func (h *Handler) read(w http.ResponseWriter, r *http.Request) error {
	res, err := h.Store.Read(r.Context(), r.PathValue("type"), r.PathValue("id"))
	if err != nil {
		if res != nil { // deleted: say which version deleted it
			h.versionHeaders(w, r, res)
		}
		return err
	}
	return h.serveVersion(w, r, res)
}

func (h *Handler) vread(w http.ResponseWriter, r *http.Request) error {
	vid, err := strconv.ParseInt(r.PathValue("vid"), 10, 64)
	if err != nil || vid < 1 {
		return custodian.Errorf(custodian.EINVALID, "the version %q is not a version number", r.PathValue("vid"))
	}
	res, err := h.Store.VRead(r.Context(), r.PathValue("type"), r.PathValue("id"), vid)
	if err != nil {
		return err
	}
	return h.serveVersion(w, r, res)
}

// serveVersion writes a stored version, answering conditional reads with 304.
func (h *Handler) serveVersion(w http.ResponseWriter, r *http.Request, res *store.Resource) error {
	h.versionHeaders(w, r, res)
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if v, err := parseETag(inm); err == nil && v == res.VersionID {
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		if t, err := http.ParseTime(ims); err == nil && !res.LastUpdated.Truncate(1e9).After(t) {
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
	}
	writeRaw(w, http.StatusOK, res.Body)
	return nil
}

func (h *Handler) update(w http.ResponseWriter, r *http.Request) error {
	body, _, err := h.readBody(w, r)
	if err != nil {
		return err
	}
	im, err := ifMatch(r)
	if err != nil {
		return err
	}
	out, err := h.Store.Update(r.Context(), r.PathValue("type"), r.PathValue("id"), body, store.WriteOptions{IfMatch: im})
	if err != nil {
		return err
	}
	return h.writeOutcome(w, r, out)
}

func (h *Handler) conditionalUpdate(w http.ResponseWriter, r *http.Request) error {
	if r.URL.RawQuery == "" {
		return custodian.Errorf(custodian.EINVALID, "PUT needs Type/id, or Type?criteria for a conditional update")
	}
	body, _, err := h.readBody(w, r)
	if err != nil {
		return err
	}
	im, err := ifMatch(r)
	if err != nil {
		return err
	}
	out, err := h.Store.ConditionalUpdate(r.Context(), r.PathValue("type"), r.URL.RawQuery, body, store.WriteOptions{IfMatch: im})
	if err != nil {
		return err
	}
	return h.writeOutcome(w, r, out)
}

func (h *Handler) patch(w http.ResponseWriter, r *http.Request) error {
	body, mt, err := h.readBody(w, r, "application/json-patch+json")
	if err != nil {
		return err
	}
	if mt != "application/json-patch+json" {
		return custodian.Errorf(custodian.EINVALID, "PATCH takes a JSON Patch document (Content-Type application/json-patch+json)")
	}
	im, err := ifMatch(r)
	if err != nil {
		return err
	}
	out, err := h.Store.Patch(r.Context(), r.PathValue("type"), r.PathValue("id"), body, store.WriteOptions{IfMatch: im})
	if err != nil {
		return err
	}
	return h.writeOutcome(w, r, out)
}

func (h *Handler) delete(w http.ResponseWriter, r *http.Request) error {
	im, err := ifMatch(r)
	if err != nil {
		return err
	}
	out, err := h.Store.Delete(r.Context(), r.PathValue("type"), r.PathValue("id"), store.WriteOptions{IfMatch: im})
	if err != nil {
		return err
	}
	return h.writeDeleted(w, r, out)
}

func (h *Handler) conditionalDelete(w http.ResponseWriter, r *http.Request) error {
	if r.URL.RawQuery == "" {
		return custodian.Errorf(custodian.EINVALID, "DELETE needs Type/id, or Type?criteria for a conditional delete")
	}
	out, err := h.Store.ConditionalDelete(r.Context(), r.PathValue("type"), r.URL.RawQuery)
	if err != nil {
		return err
	}
	return h.writeDeleted(w, r, out)
}

func (h *Handler) writeDeleted(w http.ResponseWriter, r *http.Request, out *store.Outcome) error {
	msg := "nothing to delete"
	if out.Resource != nil {
		h.versionHeaders(w, r, out.Resource)
		msg = "deleted " + out.Resource.Ref()
		if out.Unchanged {
			msg = out.Resource.Ref() + " was already deleted"
		}
	}
	if prefer(r) == "minimal" {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	writeJSON(w, http.StatusOK, informational(msg))
	return nil
}
