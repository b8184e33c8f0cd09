package measure

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/custodian-him/custodian"
)

// Record is a compact in-memory projection of what measures and
// registries read from the health record: patients (birth date, sex,
// death), encounters (class, dates, discharge disposition, service,
// attending, diagnoses in sequence), diagnoses (ICD-10-CM, with
// present-on-admission from a coded Claim when one exists), ICD-10-PCS
// procedures, and the laboratory results and vital signs the measures use
// (HbA1c, blood pressure). It is built by one streaming pass (Load) and
// kept current by a store.Watcher (Watcher), so evaluating a measure reads
// memory, not the database.
//
// Resources are linked by id, whatever order they arrive in: a Condition
// may come before its Encounter. Each entry keeps its version so that an
// older version arriving late (a scan racing a write) never replaces a
// newer one.
type Record struct {
	mu sync.RWMutex

	patients   map[string]*Patient
	encounters map[string]*Encounter
	conditions map[string]*Condition
	procedures map[string]*Procedure
	claims     map[string]*Claim
	obs        map[string]*Observation

	keep atomic.Pointer[keepObservations]
	// gen counts the changes given to the record (applied or queued), so
	// a kept result can tell whether the record moved since (Cache).
	gen atomic.Uint64
	// classes are the encounter counts by class (without and with the
	// sensitive ones) as of classGen.
	classMu  sync.Mutex
	classes  [2]map[string]int64
	classGen [2]uint64
	loading  atomic.Bool
	pend     sync.Mutex
	pending  []change
	intern   map[string]string
	// kinds and codes are the encounter kinds and condition codes the
	// entries share.
	kinds map[EncounterKind]*EncounterKind
	codes map[ConditionCode]*ConditionCode
	// changed is, while a Projection keeps the record, the newest change
	// of each resource since the projection last saved (nil otherwise);
	// guarded by mu.
	changed map[factKey]tracked
}

// NewRecord returns an empty record.
func NewRecord() *Record {
	r := &Record{
		patients:   map[string]*Patient{},
		encounters: map[string]*Encounter{},
		conditions: map[string]*Condition{},
		procedures: map[string]*Procedure{},
		claims:     map[string]*Claim{},
		obs:        map[string]*Observation{},
		intern:     map[string]string{},
		kinds:      map[EncounterKind]*EncounterKind{},
		codes:      map[ConditionCode]*ConditionCode{},
	}
	r.keep.Store((*keepObservations)(nil).with(append(append([]string{SystolicCode}, HbA1cCodes...), BPPanelCodes...)...))
	return r
}

// Patient is a person's registration with what measures need of it.
type Patient struct {
	ID     string
	Known  bool // the Patient resource itself has been seen
	Birth  Day  // noDay when unknown
	Sex    string
	Death  Day // noDay when alive (or unknown)
	Died   bool
	Active bool
	// Sensitive: the Patient carries a sensitive security label (so do
	// the same fields of the other entries).
	Sensitive bool
	version   int64

	Encounters []*Encounter
	Conditions []*Condition
	Procedures []*Procedure
	Obs        []*Observation
}

// Encounter is a visit or stay. (The fields of each entry are ordered
// widest first, with the small ones together at the end, so that no
// padding makes them take a larger allocation.)
type Encounter struct {
	ID      string
	Patient *Patient
	// Its class, status, disposition, priority, admission source,
	// service and attending, shared with the encounters alike; never nil.
	*EncounterKind
	StartAt, EndAt int64 // Unix seconds (midnight UTC for a bare date), for ordering
	// DxRefs are the Conditions of Encounter.diagnosis in order (by rank
	// where given): the first is the principal (or first-listed). A
	// Condition not yet seen is there with Known false.
	DxRefs     []*Condition
	Procedures []*Procedure
	Claim      *Claim
	version    int64
	Start, End Day
	Known      bool
	Sensitive  bool
}

// EncounterKind is what an encounter has in common with many others. The
// record holds one of each combination (there are few): never change one
// in place.
type EncounterKind struct {
	// Class is the v3 ActCode class: IMP (inpatient), EMER, AMB, …
	Class, Status         string
	Disposition, Priority string
	AdmitSource           string
	Service               string // serviceType (display, else code)
	Attending             string // Practitioner reference of the ATND participant
}

// noEncounterKind is the kind of an encounter not seen (only named).
var noEncounterKind = &EncounterKind{}

// Condition is a diagnosis or problem-list entry.
type Condition struct {
	ID        string
	Patient   *Patient
	Encounter *Encounter // nil for a problem-list item
	// Its code and stage, shared with the conditions alike; never nil.
	*ConditionCode
	version   int64
	Onset     Day // onset, else recorded date
	Known     bool
	Problem   bool
	Sensitive bool
}

// ConditionCode is a condition's code and stage. The record holds one of
// each: never change one in place.
type ConditionCode struct {
	System string
	Code   string
	Stage  string // Condition.stage.summary (display, code or text), if documented
}

// noConditionCode is the code of a condition not seen (or not coded).
var noConditionCode = &ConditionCode{}

// Procedure is a coded procedure.
type Procedure struct {
	ID        string
	Patient   *Patient
	Encounter *Encounter
	System    string
	Code      string
	version   int64
	Date      Day
	Sensitive bool
}

// Claim is the coded claim of a stay: its diagnoses in sequence with
// present-on-admission, and its procedures.
type Claim struct {
	ID         string
	Encounter  *Encounter
	Diagnoses  []Dx
	Procedures []string
	version    int64
}

// Dx is a coded diagnosis with its present-on-admission indicator ("Y",
// "N", "U", "W", or "" when none was reported).
type Dx struct {
	Code string
	POA  string
}

// Observation is a laboratory result or vital sign the measures use.
type Observation struct {
	ID      string
	Patient *Patient
	// Code is the LOINC code (the panel's for blood pressure).
	Code       string
	Unit       string
	At         int64   // Unix seconds of the effective time
	Value      float64 // the result (systolic for blood pressure)
	Diastolic  float64
	version    int64
	Date       Day
	HasValue   bool
	HasDiastol bool
	Sensitive  bool
}

// Restricted reports whether anything in the patient's projected record
// carries a sensitive security label: such a patient is left out of the
// patient lists shown to those who may not see sensitive records.
func (p *Patient) Restricted() bool {
	if p.Sensitive {
		return true
	}
	for _, e := range p.Encounters {
		if e.Sensitive {
			return true
		}
	}
	for _, c := range p.Conditions {
		if c.Sensitive {
			return true
		}
	}
	for _, o := range p.Obs {
		if o.Sensitive {
			return true
		}
	}
	for _, pr := range p.Procedures {
		if pr.Sensitive {
			return true
		}
	}
	return false
}

// Diagnoses returns the stay's diagnoses in sequence, principal first: the
// coded claim's if there is one, otherwise the Conditions of
// Encounter.diagnosis (without POA). Call with the record read-locked (as
// evaluation does).
func (r *Record) Diagnoses(e *Encounter) []Dx {
	if e.Claim != nil && len(e.Claim.Diagnoses) > 0 {
		return e.Claim.Diagnoses
	}
	out := make([]Dx, 0, len(e.DxRefs))
	for _, c := range e.DxRefs {
		if c.Known && c.Code != "" {
			out = append(out, Dx{Code: c.Code})
		}
	}
	return out
}

// Principal returns the stay's principal (first-listed) diagnosis code.
func (r *Record) Principal(e *Encounter) string {
	if e.Claim != nil && len(e.Claim.Diagnoses) > 0 {
		return e.Claim.Diagnoses[0].Code
	}
	for _, c := range e.DxRefs {
		if c.Known && c.Code != "" {
			return c.Code
		}
	}
	return ""
}

// ProcedureCodes returns the stay's procedure codes: the claim's if any,
// else those of the Procedures done in the encounter.
func (r *Record) ProcedureCodes(e *Encounter) []string {
	if e.Claim != nil && len(e.Claim.Procedures) > 0 {
		return e.Claim.Procedures
	}
	out := make([]string, 0, len(e.Procedures))
	for _, p := range e.Procedures {
		out = append(out, p.Code)
	}
	return out
}

// MarkLoading says a Load is about to run (in another goroutine): until it
// ends, evaluations fail with EUNAVAILABLE rather than count a partial
// record. Load marks it itself; call this first when starting Load with go.
func (r *Record) MarkLoading() { r.loading.Store(true) }

// Loading reports whether a Load is under way.
func (r *Record) Loading() bool { return r.loading.Load() }

// View runs fn with the record read-locked, after applying every change
// waiting. fn must not keep the record's entries after it returns.
func (r *Record) View(fn func(v *View) error) error {
	r.mu.Lock()
	r.applyPending()
	r.mu.Unlock()
	r.mu.RLock()
	defer r.mu.RUnlock()
	return fn(&View{r: r})
}

// View is a read-locked record.
type View struct{ r *Record }

// Patients calls fn for each patient known from a Patient resource, in no
// particular order, until fn returns false.
func (v *View) Patients(fn func(p *Patient) bool) {
	for _, p := range v.r.patients {
		if p.Known && !fn(p) {
			return
		}
	}
}

// Patient returns the patient with id (nil if unknown).
func (v *View) Patient(id string) *Patient {
	if p := v.r.patients[id]; p != nil && p.Known {
		return p
	}
	return nil
}

// Record returns the record viewed (for its code look-ups).
func (v *View) Record() *Record { return v.r }

// Counts returns how many entries of each kind the record holds.
func (r *Record) Counts() map[string]int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	n := 0
	for _, p := range r.patients {
		if p.Known {
			n++
		}
	}
	conds := 0
	for _, c := range r.conditions {
		if c.Known {
			conds++
		}
	}
	return map[string]int{"Patient": n, "Encounter": len(r.encounters), "Condition": conds,
		"Procedure": len(r.procedures), "Claim": len(r.claims), "Observation": len(r.obs)}
}

func (r *Record) patient(id string) *Patient {
	p := r.patients[id]
	if p == nil {
		p = &Patient{ID: id, Birth: noDay, Death: noDay}
		r.patients[id] = p
	}
	return p
}

func (r *Record) encounter(id string) *Encounter {
	e := r.encounters[id]
	if e == nil {
		e = &Encounter{ID: id, Start: noDay, End: noDay, EncounterKind: noEncounterKind}
		r.encounters[id] = e
	}
	return e
}

func (r *Record) condition(id string) *Condition {
	c := r.conditions[id]
	if c == nil {
		c = &Condition{ID: id, Onset: noDay, ConditionCode: noConditionCode}
		r.conditions[id] = c
	}
	return c
}

// encounterKind returns the record's copy of k.
func (r *Record) encounterKind(k EncounterKind) *EncounterKind {
	if v, ok := r.kinds[k]; ok {
		return v
	}
	v := &EncounterKind{Class: r.str(k.Class), Status: r.str(k.Status), Disposition: r.str(k.Disposition),
		Priority: r.str(k.Priority), AdmitSource: r.str(k.AdmitSource), Service: r.str(k.Service), Attending: r.str(k.Attending)}
	r.kinds[*v] = v
	return v
}

// conditionCode returns the record's copy of c.
func (r *Record) conditionCode(c ConditionCode) *ConditionCode {
	if c == (ConditionCode{}) {
		return noConditionCode
	}
	if v, ok := r.codes[c]; ok {
		return v
	}
	v := &ConditionCode{System: r.str(c.System), Code: r.str(c.Code), Stage: r.str(c.Stage)}
	r.codes[*v] = v
	return v
}

func (r *Record) str(s string) string {
	if v, ok := r.intern[s]; ok {
		return v
	}
	r.intern[s] = s
	return s
}

func remove[T comparable](list []T, x T) []T {
	if i := slices.Index(list, x); i >= 0 {
		list[i] = list[len(list)-1]
		var zero T
		list[len(list)-1] = zero
		return list[:len(list)-1]
	}
	return list
}

// EncounterClasses counts the encounters the record holds by class (v3
// ActCode: IMP, EMER, AMB, …), leaving out those with a sensitive label
// unless sensitive is set. The counts are kept until the record changes.
// EUNAVAILABLE while the record is being read.
func (r *Record) EncounterClasses(sensitive bool) (map[string]int64, error) {
	if r.Loading() {
		return nil, custodian.Errorf(custodian.EUNAVAILABLE, "the record is still being read; try again shortly")
	}
	k := 0
	if sensitive {
		k = 1
	}
	r.classMu.Lock()
	defer r.classMu.Unlock()
	if c := r.classes[k]; c != nil && r.classGen[k] == r.gen.Load() {
		return c, nil
	}
	out := map[string]int64{}
	err := r.View(func(v *View) error {
		r.classGen[k] = r.gen.Load()
		for _, e := range r.encounters {
			if e.Known && (sensitive || !e.Sensitive) {
				out[e.Class]++
			}
		}
		return nil
	})
	r.classes[k] = out
	return out, err
}
