package chart

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Deficiency kinds (Deficiency.Kind). The first nine are the kinds the
// generator injects (synth.Def*).
const (
	KindMissingDischargeSummary = "missing-discharge-summary"
	KindLateDischargeSummary    = "late-discharge-summary"
	KindMissingHP               = "missing-hp"
	KindLateHP                  = "late-hp"
	KindMissingProgressNote     = "missing-progress-note"
	KindMissingOperativeNote    = "missing-operative-note"
	KindMissingConsent          = "missing-consent"
	KindUnsigned                = "unsigned"
	KindMissingCosignature      = "missing-cosignature"
	KindHPAfterSurgery          = "hp-after-surgery"
	KindMissingAttending        = "missing-attending"
	KindMissingAdmitSource      = "missing-admission-source"
	KindMissingDisposition      = "missing-discharge-disposition"
	KindDatesOutOfOrder         = "dates-out-of-order"
	KindImplausibleValue        = "implausible-value"
	KindCodeSexConflict         = "code-sex-conflict"
	KindCodeAgeConflict         = "code-age-conflict"
	KindCodeInvalidForDate      = "code-invalid-for-date"
	KindDxNotDocumented         = "diagnosis-not-documented"
	KindDxNotCoded              = "diagnosis-not-coded"
	KindLateOperativeNote       = "late-operative-note"
	KindLateConsent             = "late-consent"
	KindUnsignedAmendment       = "unsigned-amendment"
)

const (
	docHP        = "history-and-physical"
	docProgress  = "progress"
	docOperative = "operative"
	docDischarge = "discharge-summary"
)

// Deficiency is one rule an encounter's record does not meet, with the
// evidence and what would clear it.
type Deficiency struct {
	// Key identifies the deficiency across evaluations: rule, focus and
	// (for a day's progress note, a code or a term) the detail.
	Key       string
	Rule      string
	Kind      string
	Title     string
	Encounter string
	Patient   string
	// Focus is what is deficient: the encounter, a note, a procedure, a
	// diagnosis or a result.
	Focus string
	// Date is the day concerned (a missing progress note).
	Date string
	// Owner is the responsible clinician's Practitioner reference ("" for
	// the analyst to assign).
	Owner string
	// Open is false for a breach that has already ended (a note filed
	// late): it is kept as a record, with Cleared set.
	Open bool
	// Since is when the record became deficient, Due when the rule must
	// be met, Cleared when it was (zero while open).
	Since, Due, Cleared time.Time
	Evidence            string
	Clear               string
	Service             string
	Class               string
	Discharge           time.Time
}

// CodeValidator says whether a code is valid on a date; the codeset
// package provides one. ok is false when the validator does not know the
// code system (the code is then not judged).
type CodeValidator interface {
	ValidOn(system, code string, on time.Time) (valid, ok bool)
}

// evaluator evaluates one encounter.
type evaluator struct {
	rs    *RuleSet
	ix    *Index
	e     *Encounter
	pt    *Patient
	now   time.Time
	codes CodeValidator
	loc   *time.Location
	out   []*Deficiency
}

// Evaluate runs the rule set over the encounter ref as of now and returns
// its deficiencies, ordered by key. codes may be nil (code-validity is
// then not checked).
func (ix *Index) Evaluate(rs *RuleSet, ref string, now time.Time, codes CodeValidator) []*Deficiency {
	e := ix.encounters[ref]
	if e == nil || !e.startOK || e.Patient == "" {
		return nil
	}
	ev := &evaluator{rs: rs, ix: ix, e: e, pt: ix.patients[e.Patient], now: now, codes: codes, loc: rs.loc}
	if ev.loc == nil {
		ev.loc = e.Zone()
	}
	for _, r := range rs.Rules {
		if !r.applies(e.Class) {
			continue
		}
		ev.run(r)
	}
	sort.Slice(ev.out, func(i, j int) bool { return ev.out[i].Key < ev.out[j].Key })
	return ev.out
}

func (ev *evaluator) run(r *Rule) {
	switch r.Check {
	case CheckHP:
		ev.hp(r)
	case CheckHPBeforeSurgery:
		ev.hpBeforeSurgery(r)
	case CheckProgressNotes:
		ev.progress(r)
	case CheckOperativeNote:
		ev.operative(r)
	case CheckConsent:
		ev.consent(r)
	case CheckDischargeSummary:
		ev.discharge(r)
	case CheckAuthentication:
		ev.authentication(r)
	case CheckCosignature:
		ev.cosignature(r)
	case CheckEncounterData:
		ev.encounterData(r)
	case CheckDates:
		ev.dates(r)
	case CheckPlausibleValues:
		ev.plausible(r)
	case CheckCodeSexAge:
		ev.sexAge(r)
	case CheckCodeValidity:
		ev.validity(r)
	case CheckDxDocumented:
		ev.dxDocumented(r)
	case CheckDxCoded:
		ev.dxCoded(r)
	}
}

// add records a deficiency of rule r. An open one is raised only once it
// is due or the patient has been discharged (when the record is analysed).
//
// The key names the focus's first version when the focus is an amendment
// (DocumentReference.relatesTo replaces): an amendment that breaks a rule
// its original met reopens that rule's Task instead of opening another.
func (ev *evaluator) add(r *Rule, kind, focus, detail, owner string, since, due time.Time, evidence string) *Deficiency {
	key := r.ID + "|" + ev.ix.root(focus)
	if detail != "" {
		key += "|" + detail
	}
	if r.Owner == "none" {
		owner = ""
	}
	d := &Deficiency{Key: key, Rule: r.ID, Kind: kind, Title: r.Title, Encounter: ev.e.Ref, Patient: ev.e.Patient,
		Focus: focus, Owner: owner, Open: true, Since: since, Due: due, Evidence: evidence, Clear: r.Clear,
		Service: ev.e.Service, Class: ev.e.Class, Discharge: ev.e.End}
	ev.out = append(ev.out, d)
	return d
}

// raise adds an open deficiency if it is due or the encounter has ended.
func (ev *evaluator) raise(r *Rule, kind, focus, detail, owner string, since, due time.Time, evidence string) *Deficiency {
	if ev.now.Before(due) && !ev.e.Discharged() {
		return nil
	}
	return ev.add(r, kind, focus, detail, owner, since, due, evidence)
}

// late adds a breach that has ended at cleared.
func (ev *evaluator) late(r *Rule, kind, focus, detail, owner string, since, due, cleared time.Time, evidence string) {
	d := ev.add(r, kind, focus, detail, owner, since, due, evidence)
	d.Open, d.Cleared = false, cleared
}

func (ev *evaluator) owner(r *Rule, author, performer string) string {
	switch r.Owner {
	case "author":
		if author != "" {
			return author
		}
	case "performer":
		if performer != "" {
			return performer
		}
	}
	return ev.e.Attending
}

// notesOf returns the encounter's notes of a kind, earliest documented first.
func (ev *evaluator) notesOf(kind string) []*Note {
	types := ev.rs.Documents[kind]
	var out []*Note
	for _, n := range ev.e.notes {
		if slices.Contains(types, n.Type) {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Documented().Equal(out[j].Documented()) {
			return out[i].Documented().Before(out[j].Documented())
		}
		return out[i].Ref < out[j].Ref
	})
	return out
}

func stamp(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "(no time)"
	}
	return t.In(loc).Format("2006-01-02 15:04")
}

func hours(d time.Duration) string {
	if d%(24*time.Hour) == 0 && d >= 48*time.Hour {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return fmt.Sprintf("%g h", d.Hours())
}

func (ev *evaluator) hp(r *Rule) {
	due := ev.e.Start.Add(r.limit)
	hps := ev.notesOf(docHP)
	if len(hps) == 0 {
		ev.raise(r, KindMissingHP, ev.e.Ref, "", ev.owner(r, "", ""), due, due,
			fmt.Sprintf("No history and physical is filed for the admission of %s; one was due within %s, by %s.",
				stamp(ev.e.Start, ev.loc), hours(r.limit), stamp(due, ev.loc)))
		return
	}
	first := hps[0]
	if at := first.Documented(); at.After(due) {
		ev.late(r, KindLateHP, ev.e.Ref, "", ev.owner(r, first.author(), ""), due, due, at,
			fmt.Sprintf("The history and physical %s was documented %s, %s after the admission of %s (limit %s).",
				first.Ref, stamp(at, ev.loc), hours(at.Sub(ev.e.Start).Round(time.Minute)), stamp(ev.e.Start, ev.loc), hours(r.limit)))
	}
}

func (n *Note) author() string {
	if len(n.Authors) > 0 {
		return n.Authors[0]
	}
	return ""
}

func (ev *evaluator) surgeries() []*Proc {
	var out []*Proc
	for _, p := range ev.e.procs() {
		if p.Surgical && !p.Start.IsZero() {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].Ref < out[j].Ref
	})
	return out
}

func (ev *evaluator) hpBeforeSurgery(r *Rule) {
	ops := ev.surgeries()
	if len(ops) == 0 {
		return
	}
	op := ops[0]
	hps := ev.notesOf(docHP)
	if len(hps) == 0 {
		ev.raise(r, KindHPAfterSurgery, op.Ref, "", ev.owner(r, "", op.Performer), op.Start, op.Start,
			fmt.Sprintf("Surgery %s began %s with no history and physical on the chart.", op.Ref, stamp(op.Start, ev.loc)))
		return
	}
	if at := hps[0].Documented(); at.After(op.Start) {
		ev.late(r, KindHPAfterSurgery, op.Ref, "", ev.owner(r, hps[0].author(), op.Performer), op.Start, op.Start, at,
			fmt.Sprintf("Surgery %s began %s; the history and physical %s was documented later, %s.",
				op.Ref, stamp(op.Start, ev.loc), hps[0].Ref, stamp(at, ev.loc)))
	}
}

// day returns midnight of t's calendar day in loc.
func day(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

func (ev *evaluator) progress(r *Rule) {
	first := day(ev.e.Start, ev.loc).AddDate(0, 0, 1)
	last := day(ev.now, ev.loc) // days before today only while in hospital
	if ev.e.Discharged() {
		last = day(ev.e.End, ev.loc)
	}
	have := map[string]bool{}
	for _, n := range ev.notesOf(docProgress) {
		have[n.Written.In(ev.loc).Format(time.DateOnly)] = true
	}
	for d := first; d.Before(last); d = d.AddDate(0, 0, 1) {
		ds := d.Format(time.DateOnly)
		if have[ds] {
			continue
		}
		due := d.AddDate(0, 0, 1)
		if r.limit > 24*time.Hour {
			due = d.Add(r.limit)
		}
		if x := ev.raise(r, KindMissingProgressNote, ev.e.Ref, ds, ev.owner(r, "", ""), d, due,
			fmt.Sprintf("No progress note was written on %s, hospital day %d of the stay admitted %s.",
				ds, int(d.Sub(day(ev.e.Start, ev.loc)).Hours()/24+0.5)+1, stamp(ev.e.Start, ev.loc))); x != nil {
			x.Date = ds
		}
	}
}

func (ev *evaluator) operative(r *Rule) {
	types := ev.rs.Documents[docOperative]
	for _, op := range ev.surgeries() {
		var first *Note
		for _, n := range ev.ix.notesByProc[op.Ref] {
			if slices.Contains(types, n.Type) && (first == nil || n.Documented().Before(first.Documented()) ||
				n.Documented().Equal(first.Documented()) && n.Ref < first.Ref) {
				first = n
			}
		}
		end := op.End
		if end.IsZero() {
			end = op.Start
		}
		due := end.Add(r.limit)
		if first != nil {
			if at := first.Documented(); r.limit > 0 && at.After(due) {
				ev.late(r, KindLateOperativeNote, op.Ref, "", ev.owner(r, first.author(), op.Performer), end, due, at,
					fmt.Sprintf("The operative note %s of procedure %s (ended %s) was documented %s, %s after it ended (limit %s).",
						first.Ref, op.Ref, stamp(end, ev.loc), stamp(at, ev.loc), hours(at.Sub(end).Round(time.Minute)), hours(r.limit)))
			}
			continue
		}
		ev.raise(r, KindMissingOperativeNote, op.Ref, "", ev.owner(r, "", op.Performer), end, due,
			fmt.Sprintf("No operative or procedure note names procedure %s (%s %s, %s).", op.Ref, op.Code, codeSystemName(op.System), stamp(op.Start, ev.loc)))
	}
}

func codeSystemName(s string) string {
	switch s {
	case "http://www.cms.gov/Medicare/Coding/ICD10":
		return "ICD-10-PCS"
	case "http://hl7.org/fhir/sid/icd-10-cm":
		return "ICD-10-CM"
	}
	return s
}

func (ev *evaluator) consent(r *Rule) {
	for _, op := range ev.surgeries() {
		ok := false
		var after *Consent // the earliest consent dated after the procedure began
		for _, c := range ev.ix.consentsByProc[op.Ref] {
			if c.At.IsZero() {
				continue
			}
			if !c.At.After(op.Start) {
				ok = true
				break
			}
			if after == nil || c.At.Before(after.At) || c.At.Equal(after.At) && c.Ref < after.Ref {
				after = c
			}
		}
		switch {
		case ok:
		case after != nil:
			// Consent after the fact cannot make up for its absence
			// before: a breach that has ended.
			ev.late(r, KindLateConsent, op.Ref, "", ev.owner(r, "", op.Performer), op.Start, op.Start, after.At,
				fmt.Sprintf("Procedure %s (%s) began %s; consent %s is dated later, %s.", op.Ref, op.Code, stamp(op.Start, ev.loc), after.Ref, stamp(after.At, ev.loc)))
		default:
			ev.raise(r, KindMissingConsent, op.Ref, "", ev.owner(r, "", op.Performer), op.Start, op.Start,
				fmt.Sprintf("No consent dated before procedure %s (%s, %s) names it.", op.Ref, op.Code, stamp(op.Start, ev.loc)))
		}
	}
}

func (ev *evaluator) discharge(r *Rule) {
	if !ev.e.Discharged() {
		return
	}
	due := ev.e.End.Add(r.limit)
	ds := ev.notesOf(docDischarge)
	if len(ds) == 0 {
		ev.raise(r, KindMissingDischargeSummary, ev.e.Ref, "", ev.owner(r, "", ""), ev.e.End, due,
			fmt.Sprintf("No discharge summary is filed for the discharge of %s; it is due within %s, by %s.",
				stamp(ev.e.End, ev.loc), hours(r.limit), stamp(due, ev.loc)))
		return
	}
	if at := ds[0].Documented(); at.After(due) {
		ev.late(r, KindLateDischargeSummary, ev.e.Ref, "", ev.owner(r, ds[0].author(), ""), ev.e.End, due, at,
			fmt.Sprintf("The discharge summary %s was documented %s, %s after the discharge of %s (limit %s).",
				ds[0].Ref, stamp(at, ev.loc), hours(at.Sub(ev.e.End).Round(time.Hour)), stamp(ev.e.End, ev.loc), hours(r.limit)))
	}
}

func (ev *evaluator) sortedNotes() []*Note {
	ns := make([]*Note, 0, len(ev.e.notes))
	for _, n := range ev.e.notes {
		ns = append(ns, n)
	}
	sort.Slice(ns, func(i, j int) bool { return ns[i].Ref < ns[j].Ref })
	return ns
}

func (ev *evaluator) authentication(r *Rule) {
	for _, n := range ev.sortedNotes() {
		if n.Authenticated() {
			continue
		}
		due := n.Written.Add(r.limit)
		missing := "no authenticator"
		if n.Authenticator != "" {
			missing = "status preliminary"
		}
		kind, text := KindUnsigned, fmt.Sprintf("Note %s (%s), written %s, is not signed (%s).", n.Ref, n.Type, stamp(n.Written, ev.loc), missing)
		if amends := ev.ix.replaces[n.Ref]; amends != "" {
			kind = KindUnsignedAmendment
			text = fmt.Sprintf("Note %s (%s), written %s, amends %s and is not signed (%s); the amended note is not authenticated until it is.",
				n.Ref, n.Type, stamp(n.Written, ev.loc), amends, missing)
		}
		ev.raise(r, kind, n.Ref, "", ev.owner(r, n.author(), ""), n.Written, due, text)
	}
}

func (ev *evaluator) hasRole(prac string, roles []string) bool {
	for _, c := range ev.ix.roles[prac] {
		if slices.Contains(roles, c) {
			return true
		}
	}
	return false
}

func (ev *evaluator) cosignature(r *Rule) {
	for _, n := range ev.sortedNotes() {
		if !n.Authenticated() || !slices.ContainsFunc(n.Authors, func(a string) bool { return ev.hasRole(a, ev.rs.ResidentRoles) }) {
			continue
		}
		if ev.hasRole(n.Authenticator, ev.rs.AttendingRoles) && !slices.Contains(n.Authors, n.Authenticator) {
			continue
		}
		due := n.Signed.Add(r.limit)
		ev.raise(r, KindMissingCosignature, n.Ref, "", ev.owner(r, "", ""), n.Signed, due,
			fmt.Sprintf("Note %s was written by resident %s and signed by %s, who is not an attending; it needs an attending's co-signature.",
				n.Ref, n.author(), n.Authenticator))
	}
}

func (ev *evaluator) encounterData(r *Rule) {
	if ev.e.Attending == "" {
		ev.raise(r, KindMissingAttending, ev.e.Ref, "attending", "", ev.e.Start, ev.e.Start,
			"The encounter names no attending physician (participant of type ATND).")
	}
	if !ev.e.AdmitSource {
		ev.raise(r, KindMissingAdmitSource, ev.e.Ref, "admit-source", "", ev.e.Start, ev.e.Start,
			"The encounter has no admission source (hospitalization.admitSource).")
	}
	if ev.e.Discharged() && !ev.e.Disposition {
		ev.raise(r, KindMissingDisposition, ev.e.Ref, "disposition", "", ev.e.End, ev.e.End,
			"The encounter has ended but has no discharge disposition (hospitalization.dischargeDisposition).")
	}
}

func (ev *evaluator) dates(r *Rule) {
	e := ev.e
	bad := func(focus, detail, text string) {
		ev.add(r, KindDatesOutOfOrder, focus, detail, ev.owner(r, "", ""), e.Start, e.Start, text)
	}
	if e.Discharged() && e.End.Before(e.Start) {
		bad(e.Ref, "period", fmt.Sprintf("Discharge %s is before admission %s.", stamp(e.End, ev.loc), stamp(e.Start, ev.loc)))
	}
	if p := ev.pt; p != nil {
		if p.hasBirth && day(e.Start, ev.loc).Before(time.Date(p.Birth.Year(), p.Birth.Month(), p.Birth.Day(), 0, 0, 0, 0, ev.loc)) {
			bad(e.Ref, "birth", fmt.Sprintf("Admission %s is before the patient's birth date %s.", stamp(e.Start, ev.loc), p.Birth.Format(time.DateOnly)))
		}
		if p.hasDead && p.Deceased.Before(e.Start) {
			bad(e.Ref, "death", fmt.Sprintf("Admission %s is after the patient's recorded death %s.", stamp(e.Start, ev.loc), stamp(p.Deceased, ev.loc)))
		}
	}
	for _, p := range ev.surgeries() {
		if p.Start.Before(e.Start) || (e.Discharged() && p.Start.After(e.End)) {
			bad(p.Ref, "within-stay", fmt.Sprintf("Procedure %s began %s, outside the encounter (%s to %s).", p.Ref, stamp(p.Start, ev.loc), stamp(e.Start, ev.loc), stamp(e.End, ev.loc)))
		}
		if !p.End.IsZero() && p.End.Before(p.Start) {
			bad(p.Ref, "period", fmt.Sprintf("Procedure %s ends %s, before it began %s.", p.Ref, stamp(p.End, ev.loc), stamp(p.Start, ev.loc)))
		}
	}
	for _, n := range ev.sortedNotes() {
		if n.Authenticated() && !n.Signed.IsZero() && n.Signed.Before(n.Written) {
			bad(n.Ref, "signed", fmt.Sprintf("Note %s is signed %s, before it was written %s.", n.Ref, stamp(n.Signed, ev.loc), stamp(n.Written, ev.loc)))
		}
		if n.Written.After(ev.now) {
			bad(n.Ref, "future", fmt.Sprintf("Note %s is dated %s, in the future.", n.Ref, stamp(n.Written, ev.loc)))
		}
	}
}

func (ev *evaluator) plausible(r *Rule) {
	obs := slices.Clone(ev.e.results())
	slices.SortFunc(obs, func(a, b *Result) int { return strings.Compare(a.key, b.key) })
	for _, o := range obs {
		for _, v := range r.Ranges {
			if v.Code != o.Code || v.Unit != o.Unit {
				continue
			}
			if o.Value < v.Min || o.Value > v.Max {
				ev.add(r, KindImplausibleValue, o.Ref, o.Code, ev.owner(r, "", ""), ev.e.Start, ev.e.Start,
					fmt.Sprintf("Result %s: %s %g %s is outside the plausible range %g-%g %s.", o.Ref, v.Label, o.Value, o.Unit, v.Min, v.Max, v.Unit))
			}
		}
	}
}

// age is the patient's age in whole years at t.
func age(birth, t time.Time) int {
	a := t.Year() - birth.Year()
	if t.Month() < birth.Month() || (t.Month() == birth.Month() && t.Day() < birth.Day()) {
		a--
	}
	return a
}

type codedItem struct {
	ref, system, code string
}

func (ev *evaluator) coded() []codedItem {
	var out []codedItem
	for _, d := range ev.e.conds {
		out = append(out, codedItem{d.Ref, d.System, d.Code})
	}
	for _, p := range ev.e.procs() {
		out = append(out, codedItem{p.Ref, p.System, p.Code})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ref < out[j].ref })
	return out
}

func (ev *evaluator) sexAge(r *Rule) {
	p := ev.pt
	if p == nil {
		return
	}
	a := -1
	if p.hasBirth {
		a = age(p.Birth, ev.e.Start.In(ev.loc))
	}
	for _, c := range ev.coded() {
		for _, ed := range r.CodeEdits {
			if ed.System != c.system || !slices.ContainsFunc(ed.Prefixes, func(pre string) bool { return strings.HasPrefix(c.code, pre) }) {
				continue
			}
			if ed.Sex != "" && (p.Gender == "male" || p.Gender == "female") && p.Gender != ed.Sex {
				ev.add(r, KindCodeSexConflict, c.ref, c.code, ev.owner(r, "", ""), ev.e.Start, ev.e.Start,
					fmt.Sprintf("Code %s is %s, but the patient's recorded sex is %s.", c.code, ed.Label, p.Gender))
			}
			if a >= 0 && ((ed.MinAge != nil && a < *ed.MinAge) || (ed.MaxAge != nil && a > *ed.MaxAge)) {
				ev.add(r, KindCodeAgeConflict, c.ref, c.code, ev.owner(r, "", ""), ev.e.Start, ev.e.Start,
					fmt.Sprintf("Code %s is %s, but the patient was %d at admission.", c.code, ed.Label, a))
			}
		}
	}
}

func (ev *evaluator) validity(r *Rule) {
	if ev.codes == nil {
		return
	}
	on := ev.e.End
	if on.IsZero() {
		on = ev.e.Start
	}
	for _, c := range ev.coded() {
		at := on
		if p := ev.ix.procs[c.ref]; p != nil && !p.Start.IsZero() {
			at = p.Start
		}
		if valid, ok := ev.codes.ValidOn(c.system, c.code, at); ok && !valid {
			ev.add(r, KindCodeInvalidForDate, c.ref, c.code, ev.owner(r, "", ""), ev.e.Start, ev.e.Start,
				fmt.Sprintf("Code %s (%s) is not valid on %s.", c.code, codeSystemName(c.system), at.In(ev.loc).Format(time.DateOnly)))
		}
	}
}
