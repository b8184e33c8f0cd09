package coding

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/codeset"
	"github.com/custodian-him/custodian/drg"
	"github.com/custodian-him/custodian/store"
)

// FHIR systems and URLs the coding Claim uses.
const (
	SystemMSDRG        = "https://www.cms.gov/medicare/payment/prospective-payment-systems/acute-inpatient-pps/ms-drg"
	SystemUB04Status   = "https://www.nubc.org/CodeSystem/PatDischargeStatus"
	ExtEdit            = "https://custodian-him.github.io/fhir/StructureDefinition/coding-edit"
	SystemCoder        = "https://custodian-him.github.io/fhir/actor"
	sysClaimType       = "http://terminology.hl7.org/CodeSystem/claim-type"
	sysDxType          = "http://terminology.hl7.org/CodeSystem/ex-diagnosistype"
	sysPOA             = "http://terminology.hl7.org/CodeSystem/ex-diagnosis-on-admission"
	sysInfoCategory    = "http://terminology.hl7.org/CodeSystem/claiminformationcategory"
	sysProcessPriority = "http://terminology.hl7.org/CodeSystem/processpriority"
	claimPrefix        = "coding-"
)

// Abstract statuses.
const (
	StatusUncoded = "uncoded" // no abstract saved: diagnoses and procedures come from the record
	StatusDraft   = "draft"   // saved, not final (Claim.status draft)
	StatusFinal   = "final"   // finalised (Claim.status active)
)

// Queue is the coding work queue over the record store. Every read and
// write goes through the store with the caller's actor, so the role table
// decides who may code (coders create and update Claims).
type Queue struct {
	Store   *store.Store
	Checker *Checker
	Grouper *drg.Grouper
	// Now is the clock (tests set it).
	Now func() time.Time
	// List, when set, is the DNFB kept in memory (seeded at start, kept by
	// its watcher); without it DNFB reads every stay and Claim per call.
	List *DNFBList
}

// NewQueue returns a queue over st with the code sets of set and grouper g.
func NewQueue(st *store.Store, set *codeset.Set, g *drg.Grouper) (*Queue, error) {
	ch, err := NewChecker(set)
	if err != nil {
		return nil, err
	}
	return &Queue{Store: st, Checker: ch, Grouper: g, Now: time.Now}, nil
}

// DNFBItem is one discharged inpatient encounter not final coded.
type DNFBItem struct {
	Encounter  string    `json:"encounter"` // "Encounter/id"
	Patient    string    `json:"patient"`
	Admitted   time.Time `json:"admitted"`
	Discharged time.Time `json:"discharged"`
	// AgeDays is the whole days since discharge.
	AgeDays int    `json:"ageDays"`
	Status  string `json:"status"` // uncoded or draft
}

// DNFB lists the discharged, not final coded inpatient encounters, oldest
// discharge first: finished inpatient (IMP) encounters with a discharge
// date and no final coding Claim. With a kept List it answers from
// memory (EUNAVAILABLE until the list has been seeded).
func (q *Queue) DNFB(ctx context.Context) ([]DNFBItem, error) {
	if q.List != nil {
		return q.List.items(ctx, q)
	}
	return q.scanDNFB(ctx)
}

// scanDNFB is DNFB read from the store: every coding Claim and finished
// inpatient stay the actor may see.
func (q *Queue) scanDNFB(ctx context.Context) ([]DNFBItem, error) {
	claims := map[string]string{} // encounter id -> Claim status
	if err := q.each(ctx, "Claim", "_count=1000", func(r *store.Resource) error {
		if !strings.HasPrefix(r.ID, claimPrefix) {
			return nil
		}
		var c struct{ Status string }
		if err := json.Unmarshal(r.Body, &c); err != nil {
			return err
		}
		claims[strings.TrimPrefix(r.ID, claimPrefix)] = c.Status
		return nil
	}); err != nil {
		return nil, err
	}
	now := q.Now()
	var out []DNFBItem
	err := q.each(ctx, "Encounter", "class=IMP&status=finished&_count=1000", func(r *store.Resource) error {
		st := claims[r.ID]
		if st == "active" {
			return nil
		}
		var e encounterJSON
		if err := json.Unmarshal(r.Body, &e); err != nil {
			return err
		}
		end, err := parseTime(e.Period.End)
		if err != nil || end.IsZero() {
			return nil // not discharged
		}
		start, _ := parseTime(e.Period.Start)
		it := DNFBItem{Encounter: "Encounter/" + r.ID, Patient: e.Subject.Reference, Admitted: start, Discharged: end,
			AgeDays: int(now.Sub(end).Hours() / 24), Status: StatusUncoded}
		if st == "draft" {
			it.Status = StatusDraft
		}
		out = append(out, it)
		return nil
	})
	slices.SortFunc(out, func(a, b DNFBItem) int { return a.Discharged.Compare(b.Discharged) })
	return out, err
}

// each calls fn for every resource a search finds, page by page.
func (q *Queue) each(ctx context.Context, typ, criteria string, fn func(*store.Resource) error) error {
	qu, err := q.Store.ParseQueryString(typ, criteria)
	if err != nil {
		return err
	}
	for {
		page, err := q.Store.Search(ctx, qu)
		if err != nil {
			return err
		}
		for _, r := range page.Resources {
			if err := fn(r); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		qu.Cursor = page.Next
	}
}

type encounterJSON struct {
	Class   struct{ Code string }
	Status  string
	Period  struct{ Start, End string }
	Subject struct {
		Reference string
	}
	ServiceProvider *struct {
		Reference string `json:"reference"`
	}
	Hospitalization *struct {
		DischargeDisposition *struct {
			Coding []struct{ Code string }
		}
	}
	Diagnosis []struct {
		Condition struct{ Reference string }
	}
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if len(s) == 10 {
		return time.Parse(time.DateOnly, s)
	}
	return time.Parse(time.RFC3339, s)
}

// Abstract is an encounter's coding: what the coder sees and edits.
type Abstract struct {
	Encounter   string    `json:"encounter"`
	Patient     string    `json:"patient"`
	Admitted    time.Time `json:"admitted"`
	Discharged  time.Time `json:"discharged,omitzero"`
	Age         int       `json:"age"` // years at admission, -1 unknown
	Sex         string    `json:"sex"` // M, F or U
	Disposition string    `json:"disposition,omitempty"`
	// DischargeStatus is the UB-04 patient discharge status (0 unknown).
	DischargeStatus int         `json:"dischargeStatus"`
	Diagnoses       []Diagnosis `json:"diagnoses"` // the principal first
	Procedures      []Procedure `json:"procedures"`
	Status          string      `json:"status"`
	// Claim is "Claim/id" once saved, with its version; Coder and Coded
	// say who saved the current version and when.
	Claim        string    `json:"claim,omitempty"`
	ClaimVersion int64     `json:"claimVersion,omitempty"`
	Coder        string    `json:"coder,omitempty"`
	Coded        time.Time `json:"coded,omitzero"`
	Edits        []Edit    `json:"edits"`
	DRG          *DRG      `json:"drg,omitempty"`
	provider     string
}

// DRG is the live MS-DRG of an abstract.
type DRG struct {
	Version     string  `json:"version"`
	DRG         int     `json:"drg"`
	Description string  `json:"description"`
	MDC         int     `json:"mdc"`
	Severity    string  `json:"severity"`
	ReturnCode  string  `json:"returnCode"`
	InitialDRG  int     `json:"initialDRG"`
	HACStatus   string  `json:"hacStatus"`
	Weight      float64 `json:"weight,omitempty"` // relative weight when the site loaded a Table 5
	// Note says why there is no DRG or no weight.
	Note        string           `json:"note,omitempty"`
	Explanation *drg.Explanation `json:"explanation,omitempty"`
}

// Abstract returns the encounter's current abstract — the saved Claim if
// there is one, else the diagnoses and procedures recorded for the
// encounter (its Encounter.diagnosis Conditions in order, its Procedures)
// — with edits and the DRG evaluated.
func (q *Queue) Abstract(ctx context.Context, encID string) (*Abstract, error) {
	encID = strings.TrimPrefix(encID, "Encounter/")
	a, err := q.base(ctx, encID)
	if err != nil {
		return nil, err
	}
	r, err := q.Store.Read(ctx, "Claim", claimPrefix+encID)
	switch {
	case err == nil:
		if err := a.fromClaim(r); err != nil {
			return nil, err
		}
	case custodian.ErrorCode(err) == custodian.ENOTFOUND || custodian.ErrorCode(err) == custodian.EGONE:
		if err := q.fromRecord(ctx, a, encID); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	q.Evaluate(a)
	return a, nil
}

// base reads the encounter and patient facts of an abstract. A stored
// patient the actor may not see makes it a RestrictedError.
func (q *Queue) base(ctx context.Context, encID string) (*Abstract, error) {
	encID = strings.TrimPrefix(encID, "Encounter/")
	r, err := q.Store.Read(ctx, "Encounter", encID)
	if err != nil {
		return nil, err
	}
	return baseOf(ctx, encID, r.Body, func(id string) ([]byte, error) {
		p, err := q.Store.Read(ctx, "Patient", id)
		if custodian.ErrorCode(err) == custodian.ENOTFOUND {
			return nil, q.restricted(ctx, encID, id, err)
		}
		if err != nil {
			return nil, err
		}
		return p.Body, nil
	})
}

// RestrictedError is the error of an abstract (Queue.Abstract, Save) of a
// stay the actor may read whose patient is stored but hidden from them (a
// sensitive record, the glass not broken): no age, sex or grouping can be
// shown without the patient. It unwraps to an EFORBIDDEN error saying so
// and what to do (break the glass for the patient, or ask a coder with
// access), which names nothing of the patient but the id the stay
// already names.
type RestrictedError struct {
	Encounter string // "Encounter/id"
	Patient   string // "Patient/id"
	err       *custodian.Error
}

func (e *RestrictedError) Error() string { return e.err.Error() }
func (e *RestrictedError) Unwrap() error { return e.err }

// restricted is the error of the abstract of encID when reading its
// patient pid failed with notFound: a RestrictedError if the patient is
// stored (the actor may not see it), else notFound. Whether it is stored
// is looked up as Custodian (store.Store.Exist), revealing existence
// alone, which the stay's own subject reference already claims.
func (q *Queue) restricted(ctx context.Context, encID, pid string, notFound error) error {
	ok, err := q.Store.Exist(custodian.NewContextWithActor(ctx, custodian.SystemActor()), "Patient", []string{pid})
	if err != nil {
		return err
	}
	if !ok[0] {
		return notFound
	}
	return &RestrictedError{Encounter: "Encounter/" + encID, Patient: "Patient/" + pid,
		err: custodian.Errorf(custodian.EFORBIDDEN, "The patient of Encounter/%s is restricted: their record is hidden from you, so the stay cannot be coded. Break the glass for Patient/%s (Patient/$break-glass) if you have a reason to, or ask a coder with access to the record.", encID, pid)}
}

// baseOf makes the abstract of encounter encID from its stored body,
// reading its patient's body with patient.
func baseOf(ctx context.Context, encID string, body []byte, patient func(id string) ([]byte, error)) (*Abstract, error) {
	var e encounterJSON
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, custodian.Wrap(custodian.EINTERNAL, err, "the stored Encounter cannot be read")
	}
	a := &Abstract{Encounter: "Encounter/" + encID, Patient: e.Subject.Reference, Age: -1, Sex: "U", Status: StatusUncoded}
	a.Admitted, _ = parseTime(e.Period.Start)
	a.Discharged, _ = parseTime(e.Period.End)
	if e.ServiceProvider != nil {
		a.provider = e.ServiceProvider.Reference
	}
	if h := e.Hospitalization; h != nil && h.DischargeDisposition != nil && len(h.DischargeDisposition.Coding) > 0 {
		a.Disposition = h.DischargeDisposition.Coding[0].Code
		a.DischargeStatus, _ = DischargeStatus(a.Disposition)
	}
	if pid, ok := strings.CutPrefix(a.Patient, "Patient/"); ok {
		b, err := patient(pid)
		if err != nil {
			return nil, err
		}
		var pt struct {
			Gender    string
			BirthDate string
		}
		_ = json.Unmarshal(b, &pt)
		switch pt.Gender {
		case "male":
			a.Sex = "M"
		case "female":
			a.Sex = "F"
		}
		if b, err := parseTime(pt.BirthDate); err == nil && !b.IsZero() && !a.Admitted.IsZero() {
			a.Age = yearsBetween(b, a.Admitted)
		}
	}
	return a, nil
}

func yearsBetween(birth, at time.Time) int {
	y := at.Year() - birth.Year()
	if at.Month() < birth.Month() || (at.Month() == birth.Month() && at.Day() < birth.Day()) {
		y--
	}
	return y
}

// fromRecord fills the codes from the encounter's Conditions and
// Procedures.
func (q *Queue) fromRecord(ctx context.Context, a *Abstract, encID string) error {
	r, err := q.Store.Read(ctx, "Encounter", strings.TrimPrefix(encID, "Encounter/"))
	if err != nil {
		return err
	}
	var e encounterJSON
	_ = json.Unmarshal(r.Body, &e)
	for _, d := range e.Diagnosis {
		id, ok := strings.CutPrefix(d.Condition.Reference, "Condition/")
		if !ok {
			continue
		}
		c, err := q.Store.Read(ctx, "Condition", id)
		if err != nil {
			if custodian.ErrorCode(err) == custodian.ENOTFOUND {
				continue
			}
			return err
		}
		if code := codeOf(c.Body, "code", codeset.URIICD10CM); code != "" {
			a.Diagnoses = append(a.Diagnoses, Diagnosis{Code: code})
		}
	}
	return q.each(ctx, "Procedure", "encounter="+a.Encounter+"&_count=200", func(r *store.Resource) error {
		code := codeOf(r.Body, "code", codeset.URIICD10PCS)
		if code == "" {
			return nil
		}
		var p struct {
			PerformedDateTime string
			PerformedPeriod   struct{ Start string }
		}
		_ = json.Unmarshal(r.Body, &p)
		date := p.PerformedDateTime
		if date == "" {
			date = p.PerformedPeriod.Start
		}
		a.Procedures = append(a.Procedures, Procedure{Code: code, Date: date[:min(10, len(date))]})
		return nil
	})
}

// codeOf returns the code of system in the CodeableConcept at key.
func codeOf(body []byte, key, system string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	var cc struct {
		Coding []struct{ System, Code string }
	}
	if json.Unmarshal(m[key], &cc) != nil {
		return ""
	}
	for _, c := range cc.Coding {
		if c.System == system {
			return c.Code
		}
	}
	return ""
}

// Evaluate runs the edits and the grouper on the abstract's codes.
func (q *Queue) Evaluate(a *Abstract) { q.evaluate(a, true) }

// evaluate is Evaluate, with the grouper's explanation when explain is
// set (the coder reads it; a check does not need it).
func (q *Queue) evaluate(a *Abstract, explain bool) {
	c := &Claim{Diagnoses: a.Diagnoses, Procedures: a.Procedures, Age: a.Age, Inpatient: true}
	if !a.Discharged.IsZero() {
		c.Date = codeset.DateOf(a.Discharged)
	}
	if a.Sex == "M" || a.Sex == "F" {
		c.Sex = a.Sex[0]
	}
	a.Edits = q.Checker.Check(c)
	if a.Edits == nil {
		a.Edits = []Edit{}
	}
	a.DRG = q.group(a, explain)
}

// group runs the MS-DRG grouper.
func (q *Queue) group(a *Abstract, explain bool) *DRG {
	if q.Grouper == nil {
		return nil
	}
	if len(a.Diagnoses) == 0 {
		return &DRG{Note: "no principal diagnosis yet"}
	}
	if a.DischargeStatus == 0 {
		return &DRG{Note: fmt.Sprintf("the discharge disposition %q has no UB-04 discharge status", a.Disposition)}
	}
	if a.Age < 0 {
		return &DRG{Note: "the patient's age is unknown"}
	}
	c := drg.Claim{Age: a.Age, Sex: a.Sex[0], DischargeStatus: a.DischargeStatus}
	conv := func(d Diagnosis) drg.Diagnosis {
		code := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(d.Code), ".", ""))
		poa := byte('0')
		if d.POA != "" {
			poa = strings.ToUpper(d.POA)[0]
		} else if poaExempt(code) {
			poa = '1'
		}
		return drg.Diagnosis{Code: code, POA: poa}
	}
	c.PDx = conv(a.Diagnoses[0])
	for _, d := range a.Diagnoses[1:] {
		c.SDx = append(c.SDx, conv(d))
	}
	for _, p := range a.Procedures {
		c.Procedures = append(c.Procedures, strings.ToUpper(strings.TrimSpace(p.Code)))
	}
	if len(c.SDx) > drg.MaxCodes || len(c.Procedures) > drg.MaxCodes {
		return &DRG{Note: "too many codes to group"}
	}
	opt := drg.Options{DischargeDate: a.Discharged, Explain: explain}
	note := ""
	if _, err := drg.VersionFor(a.Discharged); err != nil && !a.Discharged.IsZero() {
		// A discharge before the oldest embedded grouper version: group
		// with the nearest one and say so, rather than show nothing.
		vs := drg.Versions()
		v := vs[0]
		if a.Discharged.After(vs[len(vs)-1].To) {
			v = vs[len(vs)-1]
		}
		opt.Version = v.Name
		note = fmt.Sprintf("no embedded MS-DRG version covers the discharge date %s; grouped with %s", a.Discharged.Format(time.DateOnly), v.Name)
	}
	res, err := q.Grouper.Group(&c, opt)
	if err != nil {
		return &DRG{Note: custodian.ErrorMessage(err)}
	}
	out := &DRG{Version: res.Version, DRG: res.Final.DRG, Description: drg.DRGDescription(res.Version, res.Final.DRG), MDC: res.Final.MDC,
		Severity: res.Final.Severity.String(), ReturnCode: res.Final.Return.String(), InitialDRG: res.Initial.DRG,
		HACStatus: res.HACStatus.String(), Explanation: res.Explanation}
	out.Note = note
	if w := q.Grouper.Weights; w == nil {
		out.Note = strings.TrimPrefix(out.Note+"; no relative weights loaded (a site loads its CMS Table 5)", "; ")
	} else if wt, ok := w.Lookup(res.Final.DRG); ok {
		out.Weight = wt.Weight
	}
	return out
}
