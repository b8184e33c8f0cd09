package chart

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Index holds, in memory, the parts of the record the rules read: every
// encounter with its notes, procedures, consents, diagnoses and checked
// results, the patients' sex and birth date, and the practitioners'
// roles. It is built from the store (or any source of resources) and kept
// current by the watcher. It is not safe for concurrent use: Reviewer
// guards it.
type Index struct {
	encounters map[string]*Encounter // "Encounter/id"
	patients   map[string]*Patient   // "Patient/id"
	roles      map[string][]string   // "Practitioner/id" → role codes
	roleOf     map[string]roleRec    // "PractitionerRole/id" → its practitioner and codes
	notes      map[string]*Note
	procs      map[string]*Proc
	consents   map[string]*Consent
	conds      map[string]*Diagnosis
	// obs holds, by Observation, its results outside a plausible range.
	obs map[string][]*Result
	// byProc links notes (context.related) and consents (provision.data)
	// to the Procedure they name, wherever that Procedure is.
	notesByProc    map[string][]*Note
	consentsByProc map[string][]*Consent
	// byPatient lists a patient's encounters (for changes to the Patient).
	byPatient map[string][]*Encounter
	// strs holds one copy of each code, system, type, text and reference
	// the entries keep (see str): they repeat across thousands of
	// resources.
	strs map[string]string
	// lists, dxCodes, visits and authors are the lists of strings,
	// diagnosis codes, Visits and Authorships the entries share, by
	// joinKey of their strings (Visits by value).
	lists   map[string][]string
	dxCodes map[string]*DxCode
	visits  map[Visit]*Visit
	authors map[string]*Authorship
	keyBuf  []byte // joinKey's buffer
	// replaces records which note each amendment replaces
	// (relatesTo.code "replaces"), superseded notes included, so that an
	// amendment's deficiencies are those of the note it amends.
	replaces map[string]string
	// ranges are the plausible ranges of every rule by result code
	// (system|code), and codeTexts those codes' text; surgical the
	// procedure categories that are surgery; keepText the note types
	// whose text the consistency checks read.
	ranges             map[string][]ValueRange
	codeTexts          [][]byte
	surgical, keepText map[string]bool
	// key is the rules' indexKey.
	key string
	// discharges counts the discharged inpatient encounters by the
	// quarter hour of their discharge (unix seconds / 900): every time
	// zone's midnight falls on one, so a month's discharges are whole
	// buckets whatever the zone of the report.
	discharges map[int64]int
}

type roleRec struct {
	practitioner string
	codes        []string
}

// Encounter is an encounter as the rules see it.
type Encounter struct {
	Ref, Patient string
	*Visit                 // never nil
	Start, End   time.Time // End zero while in progress
	AdmitSource  bool
	Disposition  bool
	startOK      bool

	// What is filed under the encounter, in no order (the rules sort
	// what they report). Slices, not maps: an encounter has a few of each,
	// and a map costs hundreds of bytes even when empty. Procedures and
	// checked results, which few encounters have, are apart.
	notes []*Note
	conds []*Diagnosis
	more  *filedMore
}

// Visit is the class, status, service and attending of an encounter.
// The index holds one of each, shared by every encounter alike (there
// are few combinations): do not change it in place.
type Visit struct {
	Class, Status string
	Attending     string // Practitioner reference (participant type ATND)
	Service       string // serviceType display or code
}

// noVisit is the Visit of an encounter known only from what names it.
var noVisit = &Visit{}

// filedMore is what few encounters have filed under them.
type filedMore struct {
	procs []*Proc
	obs   []*Result // one per result (Result.key)
}

// Zone is the offset the encounter's admission time was written in (UTC
// without one).
func (e *Encounter) Zone() *time.Location {
	if e.startOK {
		return e.Start.Location()
	}
	return time.UTC
}

// procs are the procedures filed under e.
func (e *Encounter) procs() []*Proc {
	if e.more == nil {
		return nil
	}
	return e.more.procs
}

// results are the checked results filed under e.
func (e *Encounter) results() []*Result {
	if e.more == nil {
		return nil
	}
	return e.more.obs
}

// filed returns e's filedMore, made when it has none.
func (e *Encounter) filed() *filedMore {
	if e.more == nil {
		e.more = &filedMore{}
	}
	return e.more
}

// tidy lets go of e's filedMore once it holds nothing.
func (e *Encounter) tidy() {
	if m := e.more; m != nil && len(m.procs) == 0 && len(m.obs) == 0 {
		e.more = nil
	}
}

// Discharged says whether the encounter has ended.
func (e *Encounter) Discharged() bool { return !e.End.IsZero() }

// Patient is a patient's sex and dates.
type Patient struct {
	Ref, Gender       string
	Birth, Deceased   time.Time
	hasBirth, hasDead bool
}

// Note is a clinical note (DocumentReference). The note it amends
// (relatesTo replaces), if any, is Index.replaces[Ref].
type Note struct {
	Ref, Encounter string
	*Authorship    // never nil
	// Written is content.attachment.creation; Signed is date when signed.
	Written, Signed time.Time
	*noteExtra      // never nil
	Preliminary     bool
}

// Authorship is a note's type, authors and authenticator. The index holds
// one of each, shared by the notes alike (a practitioner writes many
// notes of a type): do not change it in place.
type Authorship struct {
	Type          string
	Authors       []string
	Authenticator string
}

// noteExtra is what few notes have: the procedures they name and their
// text. The notes with neither share noNoteExtra.
type noteExtra struct {
	Related []string
	Text    string // only kept for discharge summaries
}

var noNoteExtra = &noteExtra{}

// Authenticated says whether the note is signed.
func (n *Note) Authenticated() bool { return n.Authenticator != "" && !n.Preliminary }

// Documented is when the note counts as on the chart: signed time when
// signed, otherwise when written (the authentication rule chases the
// signature).
func (n *Note) Documented() time.Time {
	if n.Authenticated() && !n.Signed.IsZero() {
		return n.Signed
	}
	return n.Written
}

// Proc is a procedure.
type Proc struct {
	Ref, Encounter, System, Code string
	Start, End                   time.Time
	Performer                    string
	Surgical                     bool
}

// Consent is a consent naming procedures.
type Consent struct {
	Ref   string
	At    time.Time
	Procs []string
}

// Diagnosis is a coded condition of an encounter.
type Diagnosis struct {
	Ref, Encounter string
	*DxCode
}

// DxCode is how a diagnosis is coded and named. The index holds one of
// each, shared by every diagnosis coded and named alike (most diagnoses
// of a code): do not change it in place.
type DxCode struct {
	System, Code string
	Texts        []string // code.text and the codings' displays
}

// Result is a quantity result outside a plausible range.
type Result struct {
	Ref, Encounter, Code, Unit string
	Value                      float64
	key                        string // Ref, and the component's suffix
}

// NewIndex returns an empty index that keeps what the rules of rs read;
// of results, only those outside a plausible range of rs.
func NewIndex(rs *RuleSet) *Index {
	ix := &Index{
		encounters: map[string]*Encounter{}, patients: map[string]*Patient{}, roles: map[string][]string{},
		roleOf: map[string]roleRec{}, notes: map[string]*Note{}, procs: map[string]*Proc{},
		consents: map[string]*Consent{}, conds: map[string]*Diagnosis{}, obs: map[string][]*Result{},
		notesByProc: map[string][]*Note{}, consentsByProc: map[string][]*Consent{},
		byPatient: map[string][]*Encounter{}, strs: map[string]string{}, lists: map[string][]string{},
		dxCodes: map[string]*DxCode{}, visits: map[Visit]*Visit{},
		authors: map[string]*Authorship{}, ranges: map[string][]ValueRange{}, replaces: map[string]string{},
		surgical: map[string]bool{}, keepText: map[string]bool{}, key: rs.indexKey(),
		discharges: map[int64]int{},
	}
	for _, c := range rs.SurgicalCategories {
		ix.surgical[c] = true
	}
	for _, t := range rs.Documents[docDischarge] {
		ix.keepText[t] = true
	}
	texts := map[string]bool{}
	for _, r := range rs.Rules {
		for _, v := range r.Ranges {
			ix.ranges[v.Code] = append(ix.ranges[v.Code], v)
			if _, code, ok := strings.Cut(v.Code, "|"); ok && !texts[code] {
				texts[code] = true
				ix.codeTexts = append(ix.codeTexts, []byte(code))
			}
		}
	}
	return ix
}

// Len is the number of encounters indexed.
func (ix *Index) Len() int { return len(ix.encounters) }

// Types are the resource types the index reads.
var Types = []string{"Patient", "PractitionerRole", "Encounter", "Condition", "Procedure", "Consent", "DocumentReference", "Observation"}

func (ix *Index) enc(ref string) *Encounter {
	e := ix.encounters[ref]
	if e == nil {
		// The notes, procedures, diagnoses and results filed under it
		// take its Ref, so the reference is held once.
		e = &Encounter{Ref: ref, Visit: noVisit}
		ix.encounters[ref] = e
	}
	return e
}

// str returns the index's copy of s: the same code, system, note type,
// display or reference read from many resources is then held once. Only
// apply calls it (decoding runs on many goroutines; filing on one).
func (ix *Index) str(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := ix.strs[s]; ok {
		return v
	}
	ix.strs[s] = s
	return s
}

// joinKey appends to b the strings of head and then of tail, each behind
// its length: a map key (as string(key)) no other strings give.
func joinKey(b []byte, head []string, tail ...string) []byte {
	for _, ss := range [][]string{head, tail} {
		for _, s := range ss {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
	}
	return b
}

// list returns the index's copy of the list ss (nil for none), shared by
// every entry with the same list.
func (ix *Index) list(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	key := joinKey(ix.keyBuf[:0], nil, ss...)
	ix.keyBuf = key
	if v, ok := ix.lists[string(key)]; ok {
		return v
	}
	ss = slices.Clip(ss)
	ix.strList(ss)
	ix.lists[string(key)] = ss
	return ss
}

// visit returns the index's copy of v.
func (ix *Index) visit(v *Visit) *Visit {
	if v == nil {
		return noVisit
	}
	if c, ok := ix.visits[*v]; ok {
		return c
	}
	v.Class, v.Status, v.Attending, v.Service = ix.str(v.Class), ix.str(v.Status), ix.str(v.Attending), ix.str(v.Service)
	ix.visits[*v] = v
	return v
}

// authorship returns the index's copy of a.
func (ix *Index) authorship(a *Authorship) *Authorship {
	key := joinKey(ix.keyBuf[:0], []string{a.Type, a.Authenticator}, a.Authors...)
	ix.keyBuf = key
	if v, ok := ix.authors[string(key)]; ok {
		return v
	}
	k := string(key) // before list reuses the buffer
	a.Type, a.Authenticator, a.Authors = ix.str(a.Type), ix.str(a.Authenticator), ix.list(a.Authors)
	ix.authors[k] = a
	return a
}

// dxCode returns the index's copy of c.
func (ix *Index) dxCode(c *DxCode) *DxCode {
	key := joinKey(ix.keyBuf[:0], []string{c.System, c.Code}, c.Texts...)
	ix.keyBuf = key
	if v, ok := ix.dxCodes[string(key)]; ok {
		return v
	}
	k := string(key) // before list reuses the buffer
	c.System, c.Code, c.Texts = ix.str(c.System), ix.str(c.Code), ix.list(c.Texts)
	ix.dxCodes[k] = c
	return c
}

// strList puts the index's copy of each of ss in place.
func (ix *Index) strList(ss []string) {
	for i, s := range ss {
		ss[i] = ix.str(s)
	}
}

// drop removes x from list (the order of the rest is not kept), and
// returns nil for an empty list so that nothing is held for it.
func drop[T comparable](list []T, x T) []T {
	i := slices.Index(list, x)
	if i < 0 {
		return list
	}
	last := len(list) - 1
	list[i] = list[last]
	var zero T
	list[last] = zero
	if last == 0 {
		return nil
	}
	return list[:last]
}

// addOnce appends x to list unless it is there already.
func addOnce[T comparable](list []T, x T) []T {
	if slices.Contains(list, x) {
		return list
	}
	return append(list, x)
}

// Add indexes one resource version (body nil for a delete) and returns the
// encounters whose evaluation it may change. all is true when every
// encounter may be affected (a practitioner's role changed).
func (ix *Index) Add(typ, id string, body []byte) (affected []string, all bool) {
	return ix.apply(typ, typ+"/"+id, ix.decode(typ, body))
}

// decode reads what the index keeps of one version of a resource of typ
// (body nil for a delete). It only reads the index's settings, so any
// number of goroutines may decode at once; apply then files the result.
func (ix *Index) decode(typ string, body []byte) any {
	if body == nil {
		return nil
	}
	switch typ {
	case "Encounter":
		return decodeEncounter(body)
	case "DocumentReference":
		return ix.decodeNote(body)
	case "Procedure":
		return ix.decodeProc(body)
	case "Consent":
		return decodeConsent(body)
	case "Condition":
		return decodeCondition(body)
	case "Observation":
		return ix.decodeObs(body)
	case "Patient":
		return decodePatient(body)
	case "PractitionerRole":
		return decodeRole(body)
	}
	return nil
}

// apply files what decode read of ref (nil: the resource is gone or not
// kept) in place of what the index held for it.
func (ix *Index) apply(typ, ref string, v any) (affected []string, all bool) {
	switch typ {
	case "Encounter":
		d, _ := v.(*Encounter)
		return ix.putEncounter(ref, d), false
	case "DocumentReference":
		d, _ := v.(*noteRec)
		return ix.putNote(ref, d), false
	case "Procedure":
		d, _ := v.(*Proc)
		return ix.putProc(ref, d), false
	case "Consent":
		d, _ := v.(*Consent)
		return ix.putConsent(ref, d), false
	case "Condition":
		d, _ := v.(*Diagnosis)
		return ix.putCondition(ref, d), false
	case "Observation":
		d, _ := v.([]*Result)
		return ix.putObs(ref, d), false
	case "Patient":
		d, _ := v.(*Patient)
		return ix.putPatient(ref, d), false
	case "PractitionerRole":
		d, _ := v.(*roleRec)
		ix.putRole(ref, d)
		return nil, true
	}
	return nil, false
}

// decodeEncounter reads an encounter; nil when it is unreadable, entered
// in error or cancelled.
func decodeEncounter(body []byte) *Encounter {
	var j encounterJSON
	if json.Unmarshal(body, &j) != nil || j.Status == "entered-in-error" || j.Status == "cancelled" {
		return nil
	}
	e := &Encounter{Patient: j.Subject.Reference, Visit: &Visit{Class: j.Class.Code, Status: j.Status}}
	e.Start, e.startOK = parseTime(j.Period.Start, nil)
	e.End, _ = parseTime(j.Period.End, nil)
	if j.Status != "finished" && j.Period.End == "" {
		e.End = time.Time{}
	}
	for _, p := range j.Participant {
		for _, t := range p.Type {
			if t.has("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "ATND") && e.Attending == "" {
				e.Attending = p.Individual.Reference
			}
		}
	}
	if st := j.ServiceType; st != nil {
		e.Service = st.Text
		if len(st.Coding) > 0 && e.Service == "" {
			e.Service = st.Coding[0].Code
		}
	}
	if h := j.Hospitalization; h != nil {
		e.AdmitSource = h.AdmitSource != nil && (len(h.AdmitSource.Coding) > 0 || h.AdmitSource.Text != "")
		e.Disposition = h.DischargeDisposition != nil && (len(h.DischargeDisposition.Coding) > 0 || h.DischargeDisposition.Text != "")
	}
	return e
}

// quarterHour is the bucket of Index.discharges t falls in.
func quarterHour(t time.Time) int64 {
	s := t.Unix()
	q := s / 900
	if s%900 < 0 {
		q--
	}
	return q
}

// countDischarge adds n to the count of e's discharge when e is a
// discharged inpatient stay.
func (ix *Index) countDischarge(e *Encounter, n int) {
	if e == nil || e.Class != "IMP" || !e.Discharged() {
		return
	}
	q := quarterHour(e.End)
	if ix.discharges[q] += n; ix.discharges[q] == 0 {
		delete(ix.discharges, q)
	}
}

func (ix *Index) putEncounter(ref string, d *Encounter) []string {
	old := ix.encounters[ref]
	ix.countDischarge(old, -1)
	if d == nil {
		if old != nil {
			ix.unlinkPatient(old)
			delete(ix.encounters, ref)
		}
		return []string{ref}
	}
	e := ix.enc(ref)
	if e.Patient != d.Patient {
		ix.unlinkPatient(e)
	}
	d.Patient, d.Visit = ix.str(d.Patient), ix.visit(d.Visit)
	ref, notes, conds, more := e.Ref, e.notes, e.conds, e.more
	*e = *d
	e.Ref, e.notes, e.conds, e.more = ref, notes, conds, more
	ix.countDischarge(e, 1)
	if e.Patient != "" {
		ix.byPatient[e.Patient] = addOnce(ix.byPatient[e.Patient], e)
	}
	return []string{ref}
}

// unlinkPatient takes e off its patient's list of encounters.
func (ix *Index) unlinkPatient(e *Encounter) {
	if list := drop(ix.byPatient[e.Patient], e); list != nil {
		ix.byPatient[e.Patient] = list
	} else {
		delete(ix.byPatient, e.Patient)
	}
}

func typeKey(c *concept) string {
	if c == nil || len(c.Coding) == 0 {
		return ""
	}
	return c.Coding[0].System + "|" + c.Coding[0].Code
}

// noteRec is what decodeNote reads: the note this one replaces (kept even
// for a note entered in error or superseded) and the note itself, nil when
// it no longer counts.
type noteRec struct {
	replaces string
	note     *Note
}

func (ix *Index) decodeNote(body []byte) *noteRec {
	var j docJSON
	if json.Unmarshal(body, &j) != nil {
		return nil
	}
	rec := &noteRec{}
	for _, r := range j.RelatesTo {
		if r.Code == "replaces" && strings.HasPrefix(r.Target.Reference, "DocumentReference/") && r.Target.Reference != "DocumentReference/"+j.ID {
			rec.replaces = r.Target.Reference
		}
	}
	if j.Status == "entered-in-error" || j.Status == "superseded" {
		return rec
	}
	n := &Note{Authorship: &Authorship{Type: typeKey(j.Type)}, noteExtra: &noteExtra{},
		Preliminary: j.DocStatus == "preliminary" || j.DocStatus == "entered-in-error"}
	for _, a := range j.Author {
		n.Authors = append(n.Authors, a.Reference)
	}
	if j.Authenticator != nil {
		n.Authenticator = j.Authenticator.Reference
	}
	n.Signed, _ = parseTime(j.Date, nil)
	if len(j.Content) > 0 {
		n.Written, _ = parseTime(j.Content[0].Attachment.Creation, nil)
	}
	if n.Written.IsZero() {
		n.Written = n.Signed
	}
	if !n.Authenticated() {
		n.Signed = time.Time{}
	}
	if j.Context != nil {
		if len(j.Context.Encounter) > 0 {
			n.Encounter = j.Context.Encounter[0].Reference
		}
		for _, r := range j.Context.Related {
			if strings.HasPrefix(r.Reference, "Procedure/") {
				n.Related = append(n.Related, r.Reference)
			}
		}
	}
	if ix.keepText[n.Type] && len(j.Content) > 0 {
		n.Text = decodeText(j.Content[0].Attachment.ContentType, j.Content[0].Attachment.Data)
	}
	rec.note = n
	return rec
}

func (ix *Index) putNote(ref string, rec *noteRec) []string {
	var affected []string
	if old := ix.notes[ref]; old != nil {
		affected = append(affected, old.Encounter)
		affected = append(affected, ix.procEncounters(old.Related)...)
		if e := ix.encounters[old.Encounter]; e != nil {
			e.notes = drop(e.notes, old)
		}
		for _, p := range old.Related {
			if list := drop(ix.notesByProc[p], old); list != nil {
				ix.notesByProc[p] = list
			} else {
				delete(ix.notesByProc, p)
			}
		}
		delete(ix.notes, ref)
	}
	delete(ix.replaces, ref)
	if rec == nil {
		return affected
	}
	if rec.replaces != "" && rec.replaces != ref {
		ix.replaces[ref] = rec.replaces
	}
	n := rec.note
	if n == nil {
		return affected
	}
	n.Ref = ref
	n.Authorship = ix.authorship(n.Authorship)
	if x := n.noteExtra; x == nil || len(x.Related) == 0 && x.Text == "" {
		n.noteExtra = noNoteExtra
	} else {
		ix.strList(x.Related)
	}
	ix.notes[ref] = n
	if n.Encounter != "" {
		e := ix.enc(n.Encounter)
		n.Encounter = e.Ref
		e.notes = append(e.notes, n)
		affected = append(affected, n.Encounter)
	}
	for _, p := range n.Related {
		ix.notesByProc[p] = addOnce(ix.notesByProc[p], n)
	}
	return append(affected, ix.procEncounters(n.Related)...)
}

func (ix *Index) procEncounters(procs []string) []string {
	var out []string
	for _, p := range procs {
		if pr := ix.procs[p]; pr != nil && pr.Encounter != "" {
			out = append(out, pr.Encounter)
		}
	}
	return out
}

func (ix *Index) decodeProc(body []byte) *Proc {
	var j procJSON
	if json.Unmarshal(body, &j) != nil || j.Status == "entered-in-error" || j.Status == "not-done" {
		return nil
	}
	p := &Proc{Encounter: j.Encounter.Reference}
	if j.Code != nil && len(j.Code.Coding) > 0 {
		p.System, p.Code = j.Code.Coding[0].System, j.Code.Coding[0].Code
	}
	if j.Category != nil {
		for _, c := range j.Category.Coding {
			p.Surgical = p.Surgical || ix.surgical[c.System+"|"+c.Code]
		}
	}
	if j.PerformedPeriod != nil {
		p.Start, _ = parseTime(j.PerformedPeriod.Start, nil)
		p.End, _ = parseTime(j.PerformedPeriod.End, nil)
	} else {
		p.Start, _ = parseTime(j.PerformedDT, nil)
	}
	if len(j.Performer) > 0 {
		p.Performer = j.Performer[0].Actor.Reference
	}
	return p
}

func (ix *Index) putProc(ref string, p *Proc) []string {
	var affected []string
	if old := ix.procs[ref]; old != nil {
		affected = append(affected, old.Encounter)
		if e := ix.encounters[old.Encounter]; e != nil {
			e.more.procs = drop(e.more.procs, old)
			e.tidy()
		}
		delete(ix.procs, ref)
	}
	if p == nil {
		return affected
	}
	p.Ref = ix.str(ref) // notes and consents name it too
	p.System, p.Code, p.Performer = ix.str(p.System), ix.str(p.Code), ix.str(p.Performer)
	ix.procs[p.Ref] = p
	if p.Encounter != "" {
		e := ix.enc(p.Encounter)
		p.Encounter = e.Ref
		m := e.filed()
		m.procs = append(m.procs, p)
		affected = append(affected, p.Encounter)
	}
	return affected
}

func decodeConsent(body []byte) *Consent {
	var j consentJSON
	if json.Unmarshal(body, &j) != nil {
		return nil
	}
	switch j.Status {
	case "active", "inactive":
	default:
		return nil // draft, proposed, rejected, entered-in-error
	}
	c := &Consent{}
	c.At, _ = parseTime(j.DateTime, nil)
	if j.Provision != nil {
		for _, d := range j.Provision.Data {
			if strings.HasPrefix(d.Reference.Reference, "Procedure/") {
				c.Procs = append(c.Procs, d.Reference.Reference)
			}
		}
	}
	return c
}

func (ix *Index) putConsent(ref string, c *Consent) []string {
	var affected []string
	if old := ix.consents[ref]; old != nil {
		affected = append(affected, ix.procEncounters(old.Procs)...)
		for _, p := range old.Procs {
			if list := drop(ix.consentsByProc[p], old); list != nil {
				ix.consentsByProc[p] = list
			} else {
				delete(ix.consentsByProc, p)
			}
		}
		delete(ix.consents, ref)
	}
	if c == nil {
		return affected
	}
	c.Ref = ref
	ix.strList(c.Procs)
	ix.consents[ref] = c
	for _, p := range c.Procs {
		ix.consentsByProc[p] = addOnce(ix.consentsByProc[p], c)
	}
	return append(affected, ix.procEncounters(c.Procs)...)
}

func decodeCondition(body []byte) *Diagnosis {
	var j conditionJSON
	if json.Unmarshal(body, &j) != nil || j.Encounter.Reference == "" || j.Code == nil {
		return nil
	}
	if j.VerificationStatus.has("", "entered-in-error") || j.VerificationStatus.has("", "refuted") {
		return nil
	}
	d := &Diagnosis{Encounter: j.Encounter.Reference, DxCode: &DxCode{}}
	if len(j.Code.Coding) > 0 {
		d.System, d.Code = j.Code.Coding[0].System, j.Code.Coding[0].Code
	}
	if j.Code.Text != "" {
		d.Texts = append(d.Texts, j.Code.Text)
	}
	for _, c := range j.Code.Coding {
		if c.Display != "" {
			d.Texts = append(d.Texts, c.Display)
		}
	}
	return d
}

func (ix *Index) putCondition(ref string, d *Diagnosis) []string {
	var affected []string
	if old := ix.conds[ref]; old != nil {
		affected = append(affected, old.Encounter)
		if e := ix.encounters[old.Encounter]; e != nil {
			e.conds = drop(e.conds, old)
		}
		delete(ix.conds, ref)
	}
	if d == nil {
		return affected
	}
	d.Ref = ref
	d.DxCode = ix.dxCode(d.DxCode)
	ix.conds[ref] = d
	e := ix.enc(d.Encounter)
	d.Encounter = e.Ref
	e.conds = append(e.conds, d)
	return append(affected, d.Encounter)
}

// decodeObs returns the results of an observation (its value and each
// component's) that fall outside a plausible range of the rules: only
// those can raise a deficiency, so only those are kept. A body that names
// none of the checked codes is not decoded at all.
func (ix *Index) decodeObs(body []byte) []*Result {
	if len(ix.ranges) == 0 || !ix.mayHoldChecked(body) {
		return nil
	}
	var j obsJSON
	if json.Unmarshal(body, &j) != nil || j.Encounter.Reference == "" || j.Status == "entered-in-error" || j.Status == "cancelled" {
		return nil
	}
	var out []*Result
	add := func(sub string, c concept, q *quantity) {
		if q == nil || q.Value == nil {
			return
		}
		for _, cd := range c.Coding {
			key := cd.System + "|" + cd.Code
			ranges, ok := ix.ranges[key]
			if !ok {
				continue
			}
			v, err := q.Value.Float64()
			if err != nil {
				return
			}
			for _, rg := range ranges {
				if rg.Unit == q.Code && (v < rg.Min || v > rg.Max) {
					out = append(out, &Result{Ref: sub, Encounter: j.Encounter.Reference, Code: key, Unit: q.Code, Value: v})
					return
				}
			}
			return
		}
	}
	add("", j.Code, j.ValueQuantity)
	for i, c := range j.Component {
		add("#"+string(rune('a'+i)), c.Code, c.ValueQuantity)
	}
	return out
}

// mayHoldChecked says whether body contains the code of some checked
// result. Stored bodies are compact JSON in which letters, digits, '-' and
// '.' are never escaped, so a body without any of the codes' text holds
// none of them.
func (ix *Index) mayHoldChecked(body []byte) bool {
	for _, c := range ix.codeTexts {
		if bytes.Contains(body, c) {
			return true
		}
	}
	return false
}

func (ix *Index) putObs(ref string, rs []*Result) []string {
	var affected []string
	for _, old := range ix.obs[ref] {
		affected = append(affected, old.Encounter)
		if e := ix.encounters[old.Encounter]; e != nil {
			e.more.obs = drop(e.more.obs, old)
			e.tidy()
		}
	}
	delete(ix.obs, ref)
	if len(rs) == 0 {
		return affected
	}
	for _, r := range rs {
		r.key = ref + r.Ref // decodeObs leaves the component's suffix in Ref
		r.Ref = ref
		r.Code, r.Unit = ix.str(r.Code), ix.str(r.Unit)
		e := ix.enc(r.Encounter)
		r.Encounter = e.Ref
		m := e.filed()
		m.obs = append(m.obs, r)
		affected = append(affected, r.Encounter)
	}
	ix.obs[ref] = rs
	return affected
}

func decodePatient(body []byte) *Patient {
	var j patientJSON
	if json.Unmarshal(body, &j) != nil {
		return nil
	}
	p := &Patient{Gender: j.Gender}
	p.Birth, p.hasBirth = parseTime(j.BirthDate, nil)
	p.Deceased, p.hasDead = parseTime(j.Deceased, nil)
	return p
}

func (ix *Index) putPatient(ref string, p *Patient) []string {
	if p == nil {
		delete(ix.patients, ref)
	} else {
		p.Ref, p.Gender = ix.str(ref), ix.str(p.Gender) // encounters name it too
		ix.patients[p.Ref] = p
	}
	var out []string
	for _, e := range ix.byPatient[ref] {
		out = append(out, e.Ref)
	}
	return out
}

// decodeRole reads a practitioner's role; nil when it is unreadable or
// inactive.
func decodeRole(body []byte) *roleRec {
	var j roleJSON
	if json.Unmarshal(body, &j) != nil || (j.Active != nil && !*j.Active) {
		return nil
	}
	rec := &roleRec{practitioner: j.Practitioner.Reference}
	for _, c := range j.Code {
		for _, cd := range c.Coding {
			rec.codes = append(rec.codes, cd.Code)
		}
	}
	return rec
}

func (ix *Index) putRole(ref string, rec *roleRec) {
	if old, ok := ix.roleOf[ref]; ok {
		delete(ix.roleOf, ref)
		ix.roles[old.practitioner] = nil
		for _, r := range ix.roleOf {
			if r.practitioner == old.practitioner {
				ix.roles[old.practitioner] = append(ix.roles[old.practitioner], r.codes...)
			}
		}
	}
	if rec == nil {
		return
	}
	rec.practitioner = ix.str(rec.practitioner)
	ix.strList(rec.codes)
	ix.roleOf[ref] = *rec
	ix.roles[rec.practitioner] = append(ix.roles[rec.practitioner], rec.codes...)
}

// Encounters returns the references of every indexed encounter, sorted.
func (ix *Index) Encounters() []string {
	out := make([]string, 0, len(ix.encounters))
	for r := range ix.encounters {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// root is the first version of an amended note: ref itself unless ref
// replaces another note (DocumentReference.relatesTo replaces), followed
// back through every amendment. Other references are their own root.
func (ix *Index) root(ref string) string {
	for range 100 { // a cycle in bad data must not hang the reviewer
		prev, ok := ix.replaces[ref]
		if !ok {
			return ref
		}
		ref = prev
	}
	return ref
}
