package outcomes

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/httpauth"
	"github.com/custodian-him/custodian/registry"
	"github.com/custodian-him/custodian/store"
)

// What the registry pages need of the policy: the cases rest on
// diagnoses, procedures and results, and decisions are Tasks.
var (
	registryRead   = []string{"Patient:read", "Condition:search", "Task:search"}
	registryDecide = []string{"Patient:read", "Condition:search", "Task:search", "Task:update"}
)

// loading refuses the registry pages while the record is read at start:
// the registry's cases are read after it, and its counts are empty till
// then.
func (p *pages) loading() error {
	if p.Record.Loading() {
		return custodian.Errorf(custodian.EUNAVAILABLE, "The record is still being read for the registries; try again in a minute.")
	}
	return nil
}

type registryRow struct {
	Def                          *registry.Definition
	Candidates, Accepted, Reject int
	Overdue                      int
}

func (p *pages) registryList(w http.ResponseWriter, r *http.Request) error {
	if err := p.gate(r, p.RegistryRoles, registryRead); err != nil {
		return err
	}
	if err := p.loading(); err != nil {
		return err
	}
	var rows []registryRow
	for _, d := range p.Registry.Definitions {
		c := p.Registry.Counts(d.ID)
		od, err := p.Registry.Overdue(d.ID, p.Now())
		if err != nil {
			return err
		}
		rows = append(rows, registryRow{Def: d, Candidates: c[registry.Candidate], Accepted: c[registry.Accepted], Reject: c[registry.Rejected], Overdue: len(od)})
	}
	return p.render(w, r, "Registries", PathRegistries, "registries", rows)
}

type incidenceRow struct {
	Month               string
	Accepted, Candidate int
}

type registryCase struct {
	Patient, Name, Found, Evidence string
	NextDue, LastContact           string
}

type registryView struct {
	registryRow
	CanDecide     bool
	Trend         []incidenceRow
	Chart         template.HTML
	CandidateList []registryCase
	OverdueList   []registryCase
	Page, Pages   int
	Prev, Next    string
	Today         string
	Message       string
	ByYear        bool
	CSRF          template.HTML
}

func (p *pages) registryPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := p.gate(r, p.RegistryRoles, registryRead); err != nil {
		return err
	}
	if err := p.loading(); err != nil {
		return err
	}
	d, err := p.Registry.Definition(r.PathValue("id"))
	if err != nil {
		return err
	}
	page := 1
	if s := r.URL.Query().Get("page"); s != "" {
		if page, err = strconv.Atoi(s); err != nil || page < 1 {
			return custodian.Errorf(custodian.EINVALID, "The page %q is not a page number.", s)
		}
	}
	now := p.Now()
	c := p.Registry.Counts(d.ID)
	v := registryView{registryRow: registryRow{Def: d, Candidates: c[registry.Candidate], Accepted: c[registry.Accepted], Reject: c[registry.Rejected]},
		CanDecide: p.may(ctx, p.DecideRoles, registryDecide...) == nil, Page: page, Today: now.UTC().Format(time.DateOnly), CSRF: httpauth.CSRFField(r)}
	switch r.URL.Query().Get("done") {
	case "accepted":
		v.Message = "The case was accepted."
	case "rejected":
		v.Message = "The case was rejected."
	case "followed-up":
		v.Message = "The follow-up was recorded."
	}
	acc, err := p.Registry.Incidence(d.ID, registry.Accepted)
	if err != nil {
		return err
	}
	cand, err := p.Registry.Incidence(d.ID, registry.Candidate)
	if err != nil {
		return err
	}
	months := map[string]bool{}
	for m := range acc {
		months[m] = true
	}
	for m := range cand {
		months[m] = true
	}
	sorted := slices.Sorted(maps.Keys(months))
	// A long history is counted by year, so the bars stay readable.
	byYear := len(sorted) > 1 && monthsBetween(sorted[0], sorted[len(sorted)-1]) > maxMonths
	var labels []string
	var counts []int
	for _, m := range sorted {
		label := m
		switch {
		case m == "":
			label = "unknown"
		case byYear:
			label = m[:4]
		}
		if n := len(v.Trend); n > 0 && v.Trend[n-1].Month == label {
			v.Trend[n-1].Accepted += acc[m]
			v.Trend[n-1].Candidate += cand[m]
			counts[n-1] += acc[m] + cand[m]
			continue
		}
		v.Trend = append(v.Trend, incidenceRow{Month: label, Accepted: acc[m], Candidate: cand[m]})
		labels = append(labels, label)
		counts = append(counts, acc[m]+cand[m])
	}
	v.ByYear = byYear
	v.Chart = countChart("incidence", d.Title+": new cases by "+map[bool]string{false: "month", true: "year"}[byYear]+" of first evidence (accepted and candidates)", labels, counts)

	names := newNamer(p.Patients)
	// The cases are sorted and paged first, and only the page's forms
	// filled from the record.
	cands, err := p.Registry.Cases(d.ID, registry.Candidate)
	if err != nil {
		return err
	}
	slices.SortStableFunc(cands, func(a, b *registry.Case) int { return cmp.Compare(a.Found, b.Found) })
	v.Pages = max(1, (len(cands)+pageSize-1)/pageSize)
	if page > v.Pages {
		return custodian.Errorf(custodian.ENOTFOUND, "There is no page %d (the list has %d).", page, v.Pages)
	}
	if page > 1 {
		v.Prev = PathRegistries + d.ID + "?page=" + strconv.Itoa(page-1)
	}
	if page < v.Pages {
		v.Next = PathRegistries + d.ID + "?page=" + strconv.Itoa(page+1)
	}
	shown, err := p.Registry.AbstractsOf(d.ID, cands[(page-1)*pageSize:min(len(cands), page*pageSize)], now)
	if err != nil {
		return err
	}
	for _, a := range shown {
		v.CandidateList = append(v.CandidateList, caseOf(ctx, names, a))
	}
	od, err := p.Registry.Overdue(d.ID, now)
	if err != nil {
		return err
	}
	slices.SortStableFunc(od, func(a, b *registry.Abstract) int { return cmp.Compare(a.NextDue, b.NextDue) })
	v.registryRow.Overdue = len(od)
	for _, a := range od[:min(len(od), pageSize)] {
		v.OverdueList = append(v.OverdueList, caseOf(ctx, names, a))
	}
	return p.render(w, r, d.Title, PathRegistries, "registry", v)
}

func caseOf(ctx context.Context, names *namer, a *registry.Abstract) registryCase {
	rc := registryCase{Patient: a.Patient, Name: names.name(ctx, a.Patient), Found: a.Found, NextDue: a.NextDue, LastContact: a.LastContact}
	if len(rc.Found) > 10 {
		rc.Found = rc.Found[:10]
	}
	var ev []string
	for _, e := range a.Evidence[:min(len(a.Evidence), 3)] {
		ev = append(ev, e.Kind+" "+e.Code+" ("+e.Date.String()+")")
	}
	if len(a.Evidence) > 3 {
		ev = append(ev, "and "+strconv.Itoa(len(a.Evidence)-3)+" more")
	}
	rc.Evidence = strings.Join(ev, "; ")
	return rc
}

type formField struct {
	ID, Label, Value string
	Registrar        bool
}

type abstractView struct {
	Def       *registry.Definition
	Patient   string
	Name      string
	Case      *registry.Abstract
	Fields    []formField
	Evidence  []registry.Evidence
	CanDecide bool
	CSRF      template.HTML
	Message   string
}

// abstractPage shows one case's abstraction form: the fields filled from
// the record, the registrar's fields to complete, the evidence and the
// follow-ups.
func (p *pages) abstractPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := p.gate(r, p.RegistryRoles, registryRead, patientRef(r.PathValue("patient"))...); err != nil {
		return err
	}
	if err := p.loading(); err != nil {
		return err
	}
	d, err := p.Registry.Definition(r.PathValue("id"))
	if err != nil {
		return err
	}
	pid := r.PathValue("patient")
	all, err := p.Registry.Abstracts(d.ID, "", p.Now())
	if err != nil {
		return err
	}
	i := slices.IndexFunc(all, func(a *registry.Abstract) bool { return a.Patient == pid })
	if i < 0 {
		return custodian.Errorf(custodian.ENOTFOUND, "Patient/%s is not a case of the %s.", pid, d.Title)
	}
	a := all[i]
	v := abstractView{Def: d, Patient: pid, Name: newNamer(p.Patients).name(ctx, pid), Case: a, Evidence: a.Evidence,
		CanDecide: p.may(ctx, p.DecideRoles, registryDecide...) == nil, CSRF: httpauth.CSRFField(r)}
	if r.URL.Query().Get("done") == "saved" {
		v.Message = "The form was saved."
	}
	for _, f := range d.Form {
		v.Fields = append(v.Fields, formField{ID: f.ID, Label: f.Label, Value: a.Values[f.ID], Registrar: f.Registrar})
	}
	return p.render(w, r, d.Title+": case", PathRegistries, "abstract", v)
}

// decide records a decision on a candidate (accept, or reject with a
// reason) or a follow-up of an accepted case, then shows the registry
// again.
func (p *pages) decide(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		return custodian.Errorf(custodian.EINVALID, "The form could not be read.")
	}
	patient := r.PostForm.Get("patient")
	// The registry service asks the store's Guard first, so a decision
	// refused to the user's role is in the audit trail naming the case.
	if custodian.ActorFromContext(ctx) != nil {
		if err := p.Registry.MayDecide(ctx, r.PathValue("id"), patient); err != nil {
			return err
		}
	}
	if err := p.gate(r, p.DecideRoles, registryDecide, patientRef(patient)...); err != nil {
		return err
	}
	d, err := p.Registry.Definition(r.PathValue("id"))
	if err != nil {
		return err
	}
	if patient == "" {
		return custodian.Errorf(custodian.EINVALID, "The form names no patient.")
	}
	var done string
	switch r.PostForm.Get("action") {
	case "accept":
		done = "accepted"
		_, err = p.Registry.Decide(ctx, d.ID, patient, true, "", nil)
	case "save":
		// The abstraction form: accept (again) with the registrar's fields.
		fields := map[string]string{}
		for _, f := range d.Form {
			if f.Registrar {
				fields[f.ID] = strings.TrimSpace(r.PostForm.Get("field-" + f.ID))
			}
		}
		if _, err = p.Registry.Decide(ctx, d.ID, patient, true, "", fields); err != nil {
			return err
		}
		http.Redirect(w, r, PathRegistries+d.ID+"/cases/"+url.PathEscape(patient)+"?done=saved", http.StatusSeeOther)
		return nil
	case "reject":
		done = "rejected"
		_, err = p.Registry.Decide(ctx, d.ID, patient, false, r.PostForm.Get("reason"), nil)
	case "follow-up":
		done = "followed-up"
		_, err = p.Registry.RecordFollowUp(ctx, d.ID, patient, p.Now().UTC().Format(time.DateOnly))
	default:
		return custodian.Errorf(custodian.EINVALID, "Choose accept, reject, save or follow-up.")
	}
	if err != nil {
		return err
	}
	q := url.Values{"done": {done}}
	if pg := r.PostForm.Get("page"); pg != "" && pg != "1" {
		q.Set("page", pg)
	}
	http.Redirect(w, r, PathRegistries+d.ID+"?"+q.Encode(), http.StatusSeeOther)
	return nil
}

// exported records in the audit trail that the actor exported a
// registry's patients (the registry reads its in-memory cases, not the
// store): a count-only Patient search, as $evaluate-measure does.
func (p *pages) exported(r *http.Request, d *registry.Definition, format string) error {
	if p.Patients == nil {
		return nil
	}
	_, err := p.Patients.Search(r.Context(), &store.Query{Types: []string{"Patient"}, Count: 0, Text: "registry/" + d.ID + " export " + format})
	return err
}

func (p *pages) exportCSV(w http.ResponseWriter, r *http.Request) error {
	if err := p.gate(r, p.RegistryRoles, registryRead); err != nil {
		return err
	}
	d, err := p.Registry.Definition(r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := p.exported(r, d, "csv"); err != nil {
		return err
	}
	var b bytes.Buffer
	if err := p.Registry.WriteCSV(&b, d.ID, registry.Accepted, p.Now()); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="registry-`+d.ID+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
	return nil
}

func (p *pages) exportFHIR(w http.ResponseWriter, r *http.Request) error {
	if err := p.gate(r, p.RegistryRoles, registryRead); err != nil {
		return err
	}
	d, err := p.Registry.Definition(r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := p.exported(r, d, "fhir"); err != nil {
		return err
	}
	bundle, err := p.Registry.Bundle(d.ID, p.Now())
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(bundle, "", "  ")
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/fhir+json; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="registry-`+d.ID+`.json"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
	return nil
}

// monthsBetween counts the months from a to b (YYYY-MM; "" sorts first
// and is skipped by the caller's first element when known).
func monthsBetween(a, b string) int {
	if a == "" || len(a) < 7 || len(b) < 7 {
		return 0
	}
	ay, _ := strconv.Atoi(a[:4])
	am, _ := strconv.Atoi(a[5:7])
	by, _ := strconv.Atoi(b[:4])
	bm, _ := strconv.Atoi(b[5:7])
	return (by-ay)*12 + bm - am
}
