package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/store"
)

// auditPage is how many entries the audit log shows at a time, and
// auditScan how many of each kind the dashboard's alert trends read.
const (
	auditPage = 100
	auditScan = 300
)

// auditRow is one audit entry as shown.
type auditRow struct {
	*audit.Entry
	Failed    bool
	Resources []string
	More      int
}

func rowOf(e *audit.Entry) auditRow {
	r := auditRow{Entry: e, Failed: e.Outcome != "success"}
	r.Resources = e.Resources
	if len(r.Resources) > 3 {
		r.More = len(r.Resources) - 3
		r.Resources = r.Resources[:3]
	}
	return r
}

type auditFilterForm struct {
	Actor, Patient, Action, Outcome, From, To string
	Before                                    int64
}

type auditData struct {
	Form    auditFilterForm
	Actions []string
	Rows    []auditRow
	// Next is the cursor for older entries (0 when there are none).
	Next  int64
	Error string
}

var auditActions = []string{audit.ActionRead, audit.ActionVRead, audit.ActionSearch, audit.ActionHistory, audit.ActionCreate,
	audit.ActionUpdate, audit.ActionPatch, audit.ActionDelete, audit.ActionTransaction, audit.ActionExport, audit.ActionSignIn,
	audit.ActionBreakGlass, audit.ActionDecide, audit.ActionOperation, "administer"}

// auditLog shows the newest audit entries, filtered by the form (POSTed,
// since a patient id or a user is a filter worth keeping out of URLs).
func (h *Handler) auditLog(w http.ResponseWriter, r *http.Request) error {
	d := &auditData{Actions: auditActions}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil {
			return custodian.Errorf(custodian.EINVALID, "The form could not be read.")
		}
		pf := r.PostForm
		d.Form = auditFilterForm{Actor: strings.TrimSpace(pf.Get("actor")), Patient: strings.TrimSpace(pf.Get("patient")),
			Action: pf.Get("action"), Outcome: pf.Get("outcome"), From: pf.Get("from"), To: pf.Get("to")}
		d.Form.Before, _ = strconv.ParseInt(pf.Get("before"), 10, 64)
	}
	f, err := d.Form.filter()
	if err == nil {
		err = h.require(r, "AuditEvent", "search")
	}
	if custodian.ErrorCode(err) == custodian.EFORBIDDEN {
		// Ask the store anyway, so the refusal is in the trail.
		_, err = h.Records.FindAudit(r.Context(), audit.Filter{Limit: 1})
		return cmpOr(err, err403())
	}
	if err != nil {
		d.Error = custodian.ErrorMessage(err)
		h.render(w, r, http.StatusBadRequest, "audit", &view{Title: "Audit log", Section: "/audit", Print: true, Data: d})
		return nil
	}
	entries, err := h.Records.FindAudit(r.Context(), f)
	if err != nil {
		return err
	}
	for _, e := range entries {
		d.Rows = append(d.Rows, rowOf(e))
	}
	if len(entries) == f.Limit {
		d.Next = entries[len(entries)-1].Seq
	}
	h.render(w, r, status, "audit", &view{Title: "Audit log", Section: "/audit", Print: true, Data: d})
	return nil
}

// filter checks the form and makes the trail's filter of it.
func (f *auditFilterForm) filter() (audit.Filter, error) {
	out := audit.Filter{Actor: f.Actor, Action: f.Action, Before: f.Before, Limit: auditPage}
	switch f.Outcome {
	case "":
	case "failure":
		out.Failed = true
	default:
		out.Outcome = f.Outcome
	}
	if f.Patient != "" {
		id := f.Patient
		id = strings.TrimPrefix(id, "Patient/")
		if !store.ValidID(id) {
			return out, custodian.Errorf(custodian.EINVALID, "The patient is given by the id of their record (as in the chart's address).")
		}
		out.Patient = id
	}
	if f.Action != "" && !slices.Contains(auditActions, f.Action) {
		return out, custodian.Errorf(custodian.EINVALID, "Choose an action from the list.")
	}
	switch f.Outcome {
	case "", "success", "failure", custodian.EFORBIDDEN, custodian.EUNAUTHORIZED, custodian.ENOTFOUND, custodian.EINVALID:
	default:
		return out, custodian.Errorf(custodian.EINVALID, "Choose an outcome from the list.")
	}
	var err error
	if f.From != "" {
		if out.Since, err = time.Parse("2006-01-02", f.From); err != nil {
			return out, custodian.Errorf(custodian.EINVALID, "Write the dates as YYYY-MM-DD.")
		}
	}
	if f.To != "" {
		t, err := time.Parse("2006-01-02", f.To)
		if err != nil {
			return out, custodian.Errorf(custodian.EINVALID, "Write the dates as YYYY-MM-DD.")
		}
		out.Until = t.AddDate(0, 0, 1) // the whole day
	}
	if !out.Since.IsZero() && !out.Until.IsZero() && !out.Since.Before(out.Until) {
		return out, custodian.Errorf(custodian.EINVALID, "The first date must not be after the last.")
	}
	return out, nil
}

// accessUser sums up one user's access to a patient's record.
type accessUser struct {
	Actor, Roles              string
	Count, Failed, BreakGlass int
	First, Last               time.Time
	Actions                   []string
}

type accessData struct {
	Patient *patientHeader
	Users   []*accessUser
	// Rows are the newest entries (auditPage of them); Total how many
	// entries the summary counts.
	Rows    []auditRow
	Total   int
	Limited bool
}

// accessReportLimit is how many entries the access report reads.
const accessReportLimit = 2000

// accessReport shows who has seen or changed a patient's record: a line per
// user, then every entry.
func (h *Handler) accessReport(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := r.PathValue("id")
	if !store.ValidID(id) {
		return custodian.Errorf(custodian.ENOTFOUND, "There is no such patient.")
	}
	// The trail first: a user who may not read it is refused (and the
	// refusal recorded) before anything of the patient is read.
	entries, err := h.Records.FindAudit(ctx, audit.Filter{Patient: id, Limit: accessReportLimit})
	if err == nil {
		err = h.require(r, "AuditEvent", "search")
	}
	if err != nil {
		return err
	}
	ph, err := h.readPatient(ctx, id)
	if err != nil {
		return err
	}
	d := &accessData{Patient: ph, Limited: len(entries) == accessReportLimit}
	byActor := map[string]*accessUser{}
	d.Total = len(entries)
	for _, e := range entries {
		if len(d.Rows) < auditPage {
			d.Rows = append(d.Rows, rowOf(e))
		}
		u := byActor[e.Actor]
		if u == nil {
			u = &accessUser{Actor: e.Actor, Roles: strings.Join(e.Roles, ", "), First: e.Time, Last: e.Time}
			byActor[e.Actor] = u
			d.Users = append(d.Users, u)
		}
		u.Count++
		if e.Outcome != "success" {
			u.Failed++
		}
		if e.BreakGlass {
			u.BreakGlass++
		}
		if e.Time.Before(u.First) {
			u.First = e.Time
		}
		if e.Time.After(u.Last) {
			u.Last = e.Time
		}
		if !slices.Contains(u.Actions, e.Action) {
			u.Actions = append(u.Actions, e.Action)
		}
	}
	h.render(w, r, http.StatusOK, "access", &view{Title: "Access report — " + ph.Name, Section: "/audit", Print: true, Data: d})
	return nil
}

// glassGrant is one break-the-glass with the access made under it.
type glassGrant struct {
	*audit.Entry
	Accesses []auditRow
}

type breakGlassData struct {
	Since time.Time
	// Names are the names of the patients whose records were opened.
	Names   map[string]string
	Grants  []*glassGrant
	Orphans []auditRow // access flagged as break-the-glass whose grant is older than the window
	Limited bool
}

// breakGlassWindow is how far back the review looks, and breakGlassLimit
// how many entries it reads at most.
const (
	breakGlassWindow = 30 * 24 * time.Hour
	breakGlassLimit  = 1000
)

// breakGlassReview lists, for the privacy officer, every break-the-glass in
// the last 30 days with its stated reason and what was opened under it.
func (h *Handler) breakGlassReview(w http.ResponseWriter, r *http.Request) error {
	since := h.Now().Add(-breakGlassWindow)
	entries, err := h.Records.FindAudit(r.Context(), audit.Filter{BreakGlass: true, Since: since, Limit: breakGlassLimit})
	if err == nil {
		err = h.require(r, "AuditEvent", "search")
	}
	if err != nil {
		return err
	}
	d := &breakGlassData{Since: since, Limited: len(entries) == breakGlassLimit}
	// Entries come newest first; walk oldest first so each access follows
	// the grant it was made under.
	open := map[string]*glassGrant{}
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if e.Action == audit.ActionBreakGlass {
			g := &glassGrant{Entry: e}
			d.Grants = append(d.Grants, g)
			for _, p := range e.Patients {
				open[e.Actor+"\x00"+p] = g
			}
			continue
		}
		var g *glassGrant
		for _, p := range e.Patients {
			if g = open[e.Actor+"\x00"+p]; g != nil {
				break
			}
		}
		if g != nil {
			g.Accesses = append(g.Accesses, rowOf(e))
		} else {
			d.Orphans = append(d.Orphans, rowOf(e))
		}
	}
	slices.Reverse(d.Grants)
	if d.Names, err = h.patientNames(r.Context(), d.Grants); err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "breakglass", &view{Title: "Break-the-glass review", Section: "/audit/break-glass", Print: true, Data: d})
	return nil
}

// err403 is the refusal of a page the role does not give.
func err403() error {
	return custodian.Errorf(custodian.EFORBIDDEN, "Your role does not give you this page.")
}

func cmpOr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// patientNames reads the names of the patients of grants (one search, in
// the trail like any other), so the review shows whose record was opened.
func (h *Handler) patientNames(ctx context.Context, grants []*glassGrant) (map[string]string, error) {
	names := map[string]string{}
	var ids []string
	for _, g := range grants {
		for _, p := range g.Patients {
			if store.ValidID(p) && !slices.Contains(ids, p) && len(ids) < store.MaxCount {
				ids = append(ids, p)
			}
		}
	}
	if len(ids) == 0 {
		return names, nil
	}
	vals := url.Values{"_id": {strings.Join(ids, ",")}, "_count": {strconv.Itoa(len(ids))}}
	q, _, err := h.Records.ParseQuery("Patient", vals, true)
	if err != nil {
		return nil, err
	}
	q.Text = "Patient?" + vals.Encode()
	page, err := h.Records.Search(ctx, q)
	if custodian.ErrorCode(err) == custodian.EFORBIDDEN {
		return names, nil // an auditor reads the trail, not the record
	}
	if err != nil {
		return nil, err
	}
	for _, res := range page.Resources {
		if p, err := store.Decode(res.Body); err == nil {
			names[res.ID] = patientName(p)
		}
	}
	return names, nil
}
