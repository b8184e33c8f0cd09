package fhirapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/store"
)

// auditSearch serves GET /fhir/AuditEvent from the audit trail: search by
// patient, agent, date (with ge/gt/le/lt), action and break-glass=true.
func (h *Handler) auditSearch(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := audit.Filter{Limit: store.DefaultCount}
	for name, vals := range q {
		v := vals[len(vals)-1]
		switch name {
		case "patient":
			_, f.Patient = splitRefParam(v)
		case "agent", "agent-name":
			f.Actor = v
		case "action", "subtype":
			f.Action = v
		case "break-glass":
			f.BreakGlass = v == "true"
		case "_count":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return custodian.Errorf(custodian.EINVALID, "_count must be a whole number of 1 or more")
			}
			f.Limit = min(n, store.MaxCount)
		case "_cursor":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return custodian.Errorf(custodian.EINVALID, "the paging cursor is not valid")
			}
			f.Before = n
		case "date":
			for _, d := range vals {
				if err := dateBound(&f, d); err != nil {
					return err
				}
			}
		case "_format", "_pretty":
		default:
			if strict(r) {
				return custodian.Errorf(custodian.EINVALID, "unknown or unsupported AuditEvent search parameter %q", name)
			}
		}
	}
	f.Limit++ // one more tells whether there is a next page
	entries, err := h.Store.FindAudit(r.Context(), f)
	if err != nil {
		return err
	}
	self := h.base(r) + "/AuditEvent?" + r.URL.RawQuery
	links := [][2]string{{"self", self}}
	if len(entries) == f.Limit {
		entries = entries[:f.Limit-1]
		next := r.URL.Query()
		next.Set("_cursor", strconv.FormatInt(entries[len(entries)-1].Seq, 10))
		links = append(links, [2]string{"next", h.base(r) + "/AuditEvent?" + next.Encode()})
	}
	bw := newBundle("searchset", -1, links)
	for _, e := range entries {
		ev := e.AuditEvent()
		bw.add(str("fullUrl", h.base(r)+"/AuditEvent/"+ev["id"].(string)), obj("resource", ev), raw("search", []byte(`{"mode":"match"}`)))
	}
	writeRaw(w, http.StatusOK, bw.bytes())
	return nil
}

// auditRead serves GET /fhir/AuditEvent/{id}: one entry of the trail.
func (h *Handler) auditRead(w http.ResponseWriter, r *http.Request) error {
	seq, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || seq < 1 {
		return custodian.Errorf(custodian.ENOTFOUND, "no AuditEvent %q", r.PathValue("id"))
	}
	entries, err := h.Store.FindAudit(r.Context(), audit.Filter{Before: seq + 1, Limit: 1})
	if err != nil {
		return err
	}
	if len(entries) == 0 || entries[0].Seq != seq {
		return custodian.Errorf(custodian.ENOTFOUND, "no AuditEvent %d", seq)
	}
	writeJSON(w, http.StatusOK, entries[0].AuditEvent())
	return nil
}

// auditReserved refuses writes to AuditEvents with numeric ids: those are
// the entries of Custodian's own trail, which no one can change.
func (h *Handler) auditReserved(w http.ResponseWriter, r *http.Request) error {
	return custodian.Errorf(custodian.EFORBIDDEN, "AuditEvent/%s is an entry of Custodian's audit trail, which cannot be changed; "+
		"AuditEvents from other systems need ids that are not numbers", r.PathValue("id"))
}

// splitRefParam takes "Patient/1" or "1" apart.
func splitRefParam(v string) (string, string) {
	if t, id, ok := strings.Cut(v, "/"); ok {
		return t, id
	}
	return "", v
}

// dateBound applies one date parameter (with an optional prefix) to f.
func dateBound(f *audit.Filter, v string) error {
	prefix := "eq"
	for _, p := range []string{"ge", "gt", "le", "lt", "eq"} {
		if strings.HasPrefix(v, p) {
			prefix, v = p, v[2:]
			break
		}
	}
	low, high, ok := store.DateRange(v)
	if !ok {
		return custodian.Errorf(custodian.EINVALID, "date %q is not a FHIR date", v)
	}
	lt, ht := time.UnixMilli(low), time.UnixMilli(high+1)
	switch prefix {
	case "ge":
		f.Since = lt
	case "gt":
		f.Since = ht
	case "le":
		f.Until = ht
	case "lt":
		f.Until = lt
	default:
		f.Since, f.Until = lt, ht
	}
	return nil
}

// breakGlass serves POST /fhir/Patient/{id}/$break-glass: a Parameters
// resource with reason (string) and minutes (integer, default 60).
func (h *Handler) breakGlass(w http.ResponseWriter, r *http.Request) error {
	body, _, err := h.readBody(w, r)
	if err != nil {
		return err
	}
	p, err := store.Decode(body)
	if err != nil {
		return err
	}
	if rt, _ := p["resourceType"].(string); rt != "Parameters" {
		return custodian.Errorf(custodian.EINVALID, "$break-glass takes a Parameters resource with reason and minutes")
	}
	reason, minutes := "", int64(60)
	params, _ := p["parameter"].([]any)
	for _, pp := range params {
		m, _ := pp.(map[string]any)
		switch m["name"] {
		case "reason":
			reason, _ = m["valueString"].(string)
		case "minutes":
			if n, ok := m["valueInteger"].(interface{ Int64() (int64, error) }); ok {
				if v, err := n.Int64(); err == nil {
					minutes = v
				}
			}
		}
	}
	if err := h.Store.BreakGlass(r.Context(), r.PathValue("id"), reason, time.Duration(minutes)*time.Minute); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, informational("break-the-glass access to Patient/"+r.PathValue("id")+" granted for "+
		strconv.FormatInt(minutes, 10)+" minutes; every access is recorded and reviewed by the privacy officer"))
	return nil
}
