package encoder

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/codeset"
	"github.com/custodian-him/custodian/coding"
	"github.com/custodian-him/custodian/httpauth"
)

// dxRow is a diagnosis row of the abstract form.
type dxRow struct {
	Code, POA, Title string
}

// pxRow is a procedure row of the abstract form.
type pxRow struct {
	Code, Date, Title string
}

type evidenceView struct {
	Note, Date, Section, Text string
	Assertion                 coding.Assertion
}

type suggestionView struct {
	Code, Title, System, POA string
	Assertion                coding.Assertion
	Principal, PCS           bool
	Selected, InAbstract     bool
	Evidence                 []evidenceView
}

type hitView struct {
	Code, Title string
	PCS         bool
}

type workspaceView struct {
	ID, Action                         string
	Patient, Service, Attending, Visit string
	Admitted, Discharged, Disposition  string
	Age                                int
	Sex, Setting                       string
	Notes                              []*note
	Suggestions                        []suggestionView
	SuggestError                       string
	Sel                                string
	Dx                                 []dxRow
	Px                                 []pxRow
	Edits                              []coding.Edit
	Errors, Warnings                   int
	DRG                                *coding.DRG
	Status, Claim, Coder, Coded        string
	Version                            int64
	Q, QSys                            string
	Hits                               []hitView
	SearchError                        string
	Message, Alert                     string
	CSRF                               template.HTML
	Systems                            []codeset.SystemID
}

// workspace shows the encounter's saved (or recorded) abstract.
func (p *pages) workspace(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := r.PathValue("id")
	a, err := p.q.Abstract(ctx, id)
	if err != nil {
		return p.restricted(w, r, id, err)
	}
	v := &workspaceView{QSys: string(codeset.ICD10CM)}
	for _, d := range a.Diagnoses {
		v.Dx = append(v.Dx, dxRow{Code: d.Code, POA: d.POA})
	}
	for _, x := range a.Procedures {
		v.Px = append(v.Px, pxRow{Code: x.Code, Date: x.Date})
	}
	switch r.URL.Query().Get("done") {
	case "final":
		if a.Status == coding.StatusFinal {
			v.Message = fmt.Sprintf("Finalised: %s version %d", a.Claim, a.ClaimVersion)
			if a.DRG != nil && a.DRG.DRG != 0 {
				v.Message += fmt.Sprintf(", MS-DRG %03d", a.DRG.DRG)
			}
			v.Message += ". The encounter has left the DNFB."
		}
	case "draft":
		if a.Claim != "" {
			v.Message = fmt.Sprintf("Draft saved: %s version %d. The encounter stays on the DNFB until it is finalised.", a.Claim, a.ClaimVersion)
		}
	}
	return p.show(w, r, id, a, v)
}

// workspacePost applies the form's action to the abstract: recompute,
// add or remove a row, accept a suggestion, pick a searched code, save a
// draft or finalise.
func (p *pages) workspacePost(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := r.PathValue("id")
	if err := r.ParseForm(); err != nil {
		return custodian.Errorf(custodian.EINVALID, "The form could not be read.")
	}
	f := r.PostForm
	a, err := p.q.Abstract(ctx, id)
	if err != nil {
		return p.restricted(w, r, id, err)
	}
	v := &workspaceView{Sel: f.Get("sel"), Q: strings.TrimSpace(f.Get("q")), QSys: cmp.Or(f.Get("qsys"), string(codeset.ICD10CM))}
	v.Dx = readRows(f["dx_code"], f["dx_poa"], func(c, x string) dxRow { return dxRow{Code: normCode(c), POA: strings.ToUpper(strings.TrimSpace(x))} })
	v.Px = readRows(f["px_code"], f["px_date"], func(c, x string) pxRow { return pxRow{Code: normCode(c), Date: strings.TrimSpace(x)} })
	verb, arg, _ := strings.Cut(f.Get("action"), ":")
	switch verb {
	case "", "update", "search":
	case "add-dx":
		v.Dx = append(v.Dx, dxRow{Code: normCode(arg)})
	case "add-px":
		date := ""
		if arg != "" {
			date = day(a.Admitted)
		}
		v.Px = append(v.Px, pxRow{Code: normCode(arg), Date: date})
	case "remove-dx", "remove-px", "principal":
		i, err := strconv.Atoi(arg)
		if err != nil || i < 0 || (verb != "remove-px" && i >= len(v.Dx)) || (verb == "remove-px" && i >= len(v.Px)) {
			return custodian.Errorf(custodian.EINVALID, "The form named a row that is not there.")
		}
		switch verb {
		case "remove-dx":
			v.Dx = slices.Delete(v.Dx, i, i+1)
		case "remove-px":
			v.Px = slices.Delete(v.Px, i, i+1)
		default:
			d := v.Dx[i]
			v.Dx = slices.Insert(slices.Delete(v.Dx, i, i+1), 0, d)
		}
	case "show":
		v.Sel = arg
	case "accept":
		v.Sel = arg // and accepted below, once the suggestions are known
	case "save", "finalise":
		dx, px := v.codes()
		saved, err := p.q.Save(ctx, id, dx, px, verb == "finalise")
		switch {
		case err == nil:
			done := "draft"
			if saved.Status == coding.StatusFinal {
				done = "final"
			}
			http.Redirect(w, r, PathEncounter+id+"?done="+done, http.StatusSeeOther)
			return nil
		case custodian.ErrorCode(err) == custodian.EUNPROCESSABLE:
			v.Alert = "Not finalised: " + strings.TrimRight(custodian.ErrorMessage(err), ". ") + ". The errors are listed under Edits."
		default:
			return err
		}
	default:
		return custodian.Errorf(custodian.EINVALID, "The form asked for an action (%q) this page does not know.", verb)
	}
	if verb == "accept" {
		return p.show(w, r, id, a, v, arg)
	}
	return p.show(w, r, id, a, v)
}

// restrictedView is the page of a stay whose patient is hidden from the
// coder: it names the stay's workspace and the patient's id (which the
// stay names), nothing of the patient.
type restrictedView struct {
	Workspace, PatientID string
	CSRF                 template.HTML
}

// restricted answers err, the abstract of stay id failing: a stay whose
// patient the coder may not see (coding.RestrictedError) gets a page, in
// the workbench's frame with status 403, saying the record is restricted
// and what to do (break the glass for the patient here, or leave the stay
// to a coder with access); any other error is returned.
func (p *pages) restricted(w http.ResponseWriter, r *http.Request, id string, err error) error {
	var re *coding.RestrictedError
	pid, ok := "", errors.As(err, &re)
	if ok {
		pid, ok = strings.CutPrefix(re.Patient, "Patient/")
	}
	if !ok {
		return err
	}
	v := &restrictedView{Workspace: PathEncounter + id, PatientID: pid, CSRF: httpauth.CSRFField(r)}
	return p.renderStatus(w, r, http.StatusForbidden, "Restricted record", "restricted", v)
}

// readRows pairs two repeated form fields into rows, dropping none (a
// blank row the coder added stays until removed).
func readRows[T any](codes, other []string, mk func(code, other string) T) []T {
	var out []T
	for i, c := range codes {
		x := ""
		if i < len(other) {
			x = other[i]
		}
		out = append(out, mk(c, x))
	}
	return out
}

// normCode is a code as typed, tidied: trimmed, upper case.
func normCode(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// codes are the form's rows as the queue takes them (blank rows left out).
func (v *workspaceView) codes() ([]coding.Diagnosis, []coding.Procedure) {
	var dx []coding.Diagnosis
	var px []coding.Procedure
	for _, d := range v.Dx {
		if d.Code != "" {
			dx = append(dx, coding.Diagnosis{Code: d.Code, POA: d.POA})
		}
	}
	for _, x := range v.Px {
		if x.Code != "" {
			px = append(px, coding.Procedure{Code: x.Code, Date: x.Date})
		}
	}
	return dx, px
}

// accept puts suggestion s into the form: a principal suggestion becomes
// the principal diagnosis (moved up if already listed), another diagnosis
// is added after the others, a procedure with the date of its note.
func (v *workspaceView) accept(s *coding.Suggestion, notes []*note, admitted time.Time) {
	if s.System == codeset.ICD10PCS {
		if !slices.ContainsFunc(v.Px, func(x pxRow) bool { return sameCode(x.Code, s.Code) }) {
			date := day(admitted)
			for _, e := range s.Evidence {
				if i := slices.IndexFunc(notes, func(n *note) bool { return n.ID == e.Document }); i >= 0 && notes[i].Date != "" {
					date = notes[i].Date
					break
				}
			}
			v.Px = append(v.Px, pxRow{Code: s.Code, Date: date})
		}
		return
	}
	i := slices.IndexFunc(v.Dx, func(d dxRow) bool { return sameCode(d.Code, s.Code) })
	row := dxRow{Code: s.Code, POA: s.POA}
	if i >= 0 {
		row = v.Dx[i]
		row.POA = cmp.Or(row.POA, s.POA)
		v.Dx = slices.Delete(v.Dx, i, i+1)
	}
	switch {
	case s.Principal:
		v.Dx = slices.Insert(v.Dx, 0, row)
	case i >= 0:
		v.Dx = slices.Insert(v.Dx, i, row)
	default:
		v.Dx = append(v.Dx, row)
	}
}

func sameCode(a, b string) bool {
	return strings.ReplaceAll(normCode(a), ".", "") == strings.ReplaceAll(normCode(b), ".", "")
}

// show fills the rest of the view — the encounter, its notes, suggestions
// with the selected one's evidence marked, titles, edits, the DRG and the
// code search — and renders it. accept names a suggestion to accept first.
func (p *pages) show(w http.ResponseWriter, r *http.Request, id string, a *coding.Abstract, v *workspaceView, accept ...string) error {
	ctx := r.Context()
	v.ID, v.Action, v.CSRF = id, PathEncounter+id, httpauth.CSRFField(r)
	v.Status, v.Claim, v.Version, v.Coder = a.Status, a.Claim, a.ClaimVersion, a.Coder
	if !a.Coded.IsZero() {
		v.Coded = a.Coded.Format("2006-01-02 15:04")
	}
	v.Admitted, v.Discharged, v.Age, v.Sex, v.Disposition = day(a.Admitted), day(a.Discharged), a.Age, a.Sex, a.Disposition
	v.Systems = []codeset.SystemID{codeset.ICD10CM, codeset.ICD10PCS}
	if err := p.header(ctx, id, v); err != nil {
		return err
	}
	notes, err := p.notes(ctx, id)
	if err != nil {
		return err
	}
	v.Notes = notes
	opt := coding.Options{Setting: coding.Inpatient}
	if v.Setting == string(coding.Outpatient) {
		opt.Setting = coding.Outpatient
	}
	if !a.Discharged.IsZero() {
		opt.Date = codeset.DateOf(a.Discharged)
	}
	var in []coding.Note
	for _, n := range notes {
		in = append(in, coding.Note{ID: n.ID, Text: n.Text})
	}
	sugs, err := p.s.SuggestNotes(in, opt)
	if err != nil {
		if custodian.ErrorCode(err) == custodian.EINTERNAL {
			return err
		}
		v.SuggestError = custodian.ErrorMessage(err)
	}
	if len(accept) > 0 {
		i := slices.IndexFunc(sugs, func(s coding.Suggestion) bool { return s.Code == accept[0] })
		if i < 0 {
			return custodian.Errorf(custodian.EINVALID, "The code %q is not among the suggestions.", accept[0])
		}
		v.accept(&sugs[i], notes, a.Admitted)
	}
	if v.Sel == "" && len(sugs) > 0 {
		v.Sel = sugs[0].Code
	}
	p.suggestions(v, sugs)
	p.titles(v)
	// Recompute edits and the DRG on the codes in the form.
	a.Diagnoses, a.Procedures = v.codes()
	p.q.Evaluate(a)
	v.Edits, v.DRG = a.Edits, a.DRG
	for _, e := range v.Edits {
		switch e.Severity {
		case coding.SevError:
			v.Errors++
		case coding.SevWarning:
			v.Warnings++
		}
	}
	if len(v.Dx) == 0 {
		v.Dx = []dxRow{{}}
	}
	p.search(v, opt.Date)
	return p.render(w, r, "Coding "+cmp.Or(v.Visit, "an encounter"), "workspace", v)
}

// header reads the encounter's service, attending, visit number and
// patient name for the page's heading.
func (p *pages) header(ctx context.Context, id string, v *workspaceView) error {
	r, err := p.q.Store.Read(ctx, "Encounter", id)
	if err != nil {
		return err
	}
	f := readEncounter(r.Body)
	v.Service, v.Visit = f.Service, f.Visit
	v.Disposition = cmp.Or(f.Disposition, v.Disposition)
	v.Setting = string(coding.Inpatient)
	switch f.Class {
	case "IMP", "ACUTE", "NONAC", "":
	default:
		v.Setting = string(coding.Outpatient)
	}
	for _, ref := range []string{f.Subject, f.Attending} {
		typ, rid, ok := strings.Cut(ref, "/")
		if !ok {
			continue
		}
		res, err := p.q.Store.Read(ctx, typ, rid)
		if err != nil {
			if c := custodian.ErrorCode(err); c == custodian.ENOTFOUND || c == custodian.EGONE {
				continue
			}
			return err
		}
		if ref == f.Subject {
			v.Patient = personName(res.Body)
		} else {
			v.Attending = personName(res.Body)
		}
	}
	return nil
}

// suggestions fills the suggestion list and marks the selected one's
// evidence in the notes; notes with evidence come first.
func (p *pages) suggestions(v *workspaceView, sugs []coding.Suggestion) {
	noteOf := map[string]*note{}
	for _, n := range v.Notes {
		noteOf[n.ID] = n
	}
	var sel []coding.Evidence
	for _, s := range sugs {
		sv := suggestionView{Code: s.Code, Title: s.Title, System: string(s.System), POA: s.POA, Assertion: s.Assertion,
			Principal: s.Principal, PCS: s.System == codeset.ICD10PCS, Selected: s.Code == v.Sel}
		// In the abstract as suggested: listed (first, for a principal)
		// with a POA indicator. Otherwise accepting still changes it.
		if sv.PCS {
			sv.InAbstract = slices.ContainsFunc(v.Px, func(x pxRow) bool { return sameCode(x.Code, s.Code) })
		} else if i := slices.IndexFunc(v.Dx, func(d dxRow) bool { return sameCode(d.Code, s.Code) }); i >= 0 {
			sv.InAbstract = (i == 0 || !s.Principal) && (v.Dx[i].POA != "" || s.POA == "")
		}
		for _, e := range s.Evidence {
			ev := evidenceView{Section: e.Section, Text: e.Text, Assertion: e.Assertion}
			if n := noteOf[e.Document]; n != nil {
				ev.Note, ev.Date = n.Title, n.Date
			}
			sv.Evidence = append(sv.Evidence, ev)
		}
		if sv.Selected {
			sel = s.Evidence
		}
		v.Suggestions = append(v.Suggestions, sv)
	}
	for i, n := range v.Notes {
		var ev []coding.Evidence
		for _, e := range sel {
			if e.Document == n.ID {
				ev = append(ev, e)
			}
		}
		n.HTML, n.Marks = mark(n.Text, ev, "ev-"+strconv.Itoa(i)+"-")
	}
	slices.SortStableFunc(v.Notes, func(a, b *note) int { return cmp.Compare(min(b.Marks, 1), min(a.Marks, 1)) })
}

// titles looks up each code of the form in its code set.
func (p *pages) titles(v *workspaceView) {
	title := func(sys codeset.SystemID, code string) (string, string) {
		cs, err := p.set.System(sys)
		if err != nil || code == "" {
			return code, ""
		}
		c, err := cs.Lookup(code)
		if err != nil {
			return code, ""
		}
		return c.Display(), c.Label()
	}
	for i := range v.Dx {
		v.Dx[i].Code, v.Dx[i].Title = title(codeset.ICD10CM, v.Dx[i].Code)
	}
	for i := range v.Px {
		v.Px[i].Code, v.Px[i].Title = title(codeset.ICD10PCS, v.Px[i].Code)
	}
}

// search runs the code search of the form, if it has a query.
func (p *pages) search(v *workspaceView, date codeset.Date) {
	if v.Q == "" {
		return
	}
	sys, err := codeset.ParseSystem(v.QSys)
	if err != nil {
		v.SearchError = custodian.ErrorMessage(err)
		return
	}
	v.QSys = string(sys)
	cs, err := p.set.System(sys)
	if err != nil {
		v.SearchError = custodian.ErrorMessage(err)
		return
	}
	res, err := cs.Search(v.Q, codeset.SearchOptions{Date: date, Billable: true, Limit: 15})
	if err != nil {
		v.SearchError = custodian.ErrorMessage(err)
		return
	}
	for _, h := range res.Hits {
		v.Hits = append(v.Hits, hitView{Code: h.Concept.Display(), Title: h.Concept.Label(), PCS: sys == codeset.ICD10PCS})
	}
	if len(v.Hits) == 0 {
		v.SearchError = "No billable code matches that."
	}
}
