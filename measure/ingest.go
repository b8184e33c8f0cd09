package measure

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"

	"github.com/custodian-him/custodian/store"
)

// Types are the resource types the record projects; others are ignored.
var Types = []string{"Patient", "Encounter", "Condition", "Procedure", "Claim", "Observation"}

// Observation codes kept (LOINC): HbA1c and blood pressure.
var (
	HbA1cCodes    = []string{"4548-4", "4549-2", "17856-6", "17855-8"}
	BPPanelCodes  = []string{"85354-9", "55284-4"}
	SystolicCode  = "8480-6"
	DiastolicCode = "8462-4"
)

// keepObservations is a set of kept LOINC codes, with each code quoted
// for the quick look at a body. It is never changed once published: a
// new set replaces it (atomically), so parsing reads it without a lock.
type keepObservations struct {
	codes  map[string]bool
	quoted [][]byte
}

func (k *keepObservations) with(codes ...string) *keepObservations {
	n := &keepObservations{codes: map[string]bool{}}
	if k != nil {
		for c := range k.codes {
			n.codes[c] = true
		}
		n.quoted = append(n.quoted, k.quoted...)
	}
	for _, c := range codes {
		if !n.codes[c] {
			n.codes[c] = true
			n.quoted = append(n.quoted, []byte(`"`+c+`"`))
		}
	}
	return n
}

// KeepObservations adds LOINC codes of laboratory results (with a
// valueQuantity) the record keeps besides HbA1c and blood pressure, for a
// registry's criteria. Call it before Load.
func (r *Record) KeepObservations(codes ...string) {
	r.mu.Lock()
	r.keep.Store(r.keep.Load().with(codes...))
	r.mu.Unlock()
}

// change is one parsed version waiting to be applied.
type change struct {
	typ, id string
	version int64
	deleted bool
	v       any // *patientJSON, *encounterJSON, … (nil for a delete or an ignored resource)
}

// Put applies one version of a resource (the body as stored). Versions
// older than the one held are ignored. EINVALID if body is not JSON.
func (r *Record) Put(typ, id string, version int64, body []byte) error {
	c, err := r.parse(typ, id, version, body)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.applyPending()
	r.applyTracked(c)
	r.mu.Unlock()
	return nil
}

// Delete removes a resource from the record.
func (r *Record) Delete(typ, id string, version int64) {
	r.mu.Lock()
	r.applyPending()
	r.applyTracked(change{typ: typ, id: id, version: version, deleted: true})
	r.mu.Unlock()
}

// Watcher returns the store.Watcher that keeps the record current: it
// parses the new versions in the writer's goroutine and applies them at
// once if no evaluation holds the record, or queues them for the next
// evaluation or write otherwise, so a write never waits for a long
// evaluation.
func (r *Record) Watcher() store.Watcher {
	return func(_ context.Context, versions []*store.Resource) {
		var cs []change
		for _, v := range versions {
			if !projected(v.Type) {
				continue
			}
			if v.Deleted {
				cs = append(cs, change{typ: v.Type, id: v.ID, version: v.VersionID, deleted: true})
				continue
			}
			c, err := r.parse(v.Type, v.ID, v.VersionID, v.Body)
			if err != nil {
				continue // the store accepted it, so it is JSON; nothing to project otherwise
			}
			cs = append(cs, c)
		}
		if len(cs) == 0 {
			return
		}
		r.pend.Lock()
		r.pending = append(r.pending, cs...)
		r.pend.Unlock()
		r.gen.Add(1)
		if r.mu.TryLock() {
			r.applyPending()
			r.mu.Unlock()
		}
	}
}

func projected(typ string) bool {
	switch typ {
	case "Patient", "Encounter", "Condition", "Procedure", "Claim", "Observation":
		return true
	}
	return false
}

// applyPending applies the queued changes; r.mu must be held for writing.
func (r *Record) applyPending() {
	r.pend.Lock()
	cs := r.pending
	r.pending = nil
	r.pend.Unlock()
	for _, c := range cs {
		r.applyTracked(c)
	}
}

// Source streams the current resources of a store.
type Source interface {
	// Scan calls fn for every current resource of the given types (and
	// maybe others); fn may keep body.
	Scan(ctx context.Context, types []string, fn func(typ, id string, version int64, body []byte) error) error
}

// Load reads every projected resource from src into the record: one
// goroutine scans, the others (one per CPU) parse, and each parsed batch
// is applied under the lock. Register Watcher on the store first so that
// nothing written during the scan is missed (versions are compared, so
// the order in which versions arrive does not matter).
//
// A Load that fails leaves the record marked as loading, so evaluations
// keep refusing (EUNAVAILABLE) rather than count a partial record; a
// later Load that succeeds clears it.
func (r *Record) Load(ctx context.Context, src Source) (err error) {
	r.loading.Store(true)
	defer func() {
		if err == nil {
			r.loading.Store(false)
		}
	}()
	return r.load(ctx, src, nil)
}

// load is Load without marking the record as loading, giving each parsed
// batch also to sink when there is one (a Projection saving the facts as
// it reads them).
func (r *Record) load(ctx context.Context, src Source, sink func([]change) error) error {
	type raw struct {
		typ, id string
		version int64
		body    []byte
	}
	const batch = 1024
	rawc := make(chan []raw, 8)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		defer close(rawc)
		buf := make([]raw, 0, batch)
		err := src.Scan(ctx, Types, func(typ, id string, version int64, body []byte) error {
			if !projected(typ) {
				return nil
			}
			buf = append(buf, raw{typ, id, version, body})
			if len(buf) == batch {
				select {
				case rawc <- buf:
				case <-ctx.Done():
					return context.Cause(ctx)
				}
				buf = make([]raw, 0, batch)
			}
			return nil
		})
		if err == nil && len(buf) > 0 {
			rawc <- buf
		}
		if err != nil {
			cancel(err)
		}
	}()
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for rs := range rawc {
				cs := make([]change, 0, len(rs))
				for _, x := range rs {
					c, err := r.parse(x.typ, x.id, x.version, x.body)
					if err != nil {
						cancel(fmt.Errorf("measure: %s/%s: %w", x.typ, x.id, err))
						continue
					}
					cs = append(cs, c)
				}
				if sink != nil {
					if err := sink(cs); err != nil {
						cancel(err)
					}
				}
				r.mu.Lock()
				for _, c := range cs {
					r.apply(c)
				}
				r.mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// BackendSource scans a store backend that can list its current
// resources in row order (store.Reindexer: the SQL backend does), in
// read snapshots of Batch resources.
type BackendSource struct {
	Backend interface {
		Read(ctx context.Context, fn func(store.Reader) error) error
	}
	Batch int
}

// Scan implements Source.
func (s BackendSource) Scan(ctx context.Context, types []string, fn func(typ, id string, version int64, body []byte) error) error {
	want := map[string]bool{}
	for _, t := range types {
		want[t] = true
	}
	n := s.Batch
	if n <= 0 {
		n = 5000
	}
	var after int64
	for {
		var rs []*store.Resource
		var rids []int64
		err := s.Backend.Read(ctx, func(rd store.Reader) error {
			ri, ok := rd.(store.Reindexer)
			if !ok {
				return fmt.Errorf("measure: this store cannot list its resources")
			}
			var err error
			rs, rids, err = ri.ScanCurrent(ctx, after, n)
			return err
		})
		if err != nil {
			return err
		}
		if len(rs) == 0 {
			return nil
		}
		for _, r := range rs {
			if want[r.Type] {
				if err := fn(r.Type, r.ID, r.VersionID, r.Body); err != nil {
					return err
				}
			}
		}
		after = rids[len(rids)-1]
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// The JSON shapes read: only the elements used. Marshalled again they are
// the facts a Projection saves (empty elements left out), and read back
// the same way a body is.
type (
	metaJSON struct {
		Security []coding `json:"security,omitempty"`
	}
	coding struct {
		System  string `json:"system,omitempty"`
		Code    string `json:"code,omitempty"`
		Display string `json:"display,omitempty"`
	}
	concept struct {
		Coding []coding `json:"coding,omitempty"`
		Text   string   `json:"text,omitempty"`
	}
	reference struct {
		Reference string `json:"reference,omitempty"`
	}
	period struct {
		Start string `json:"start,omitempty"`
		End   string `json:"end,omitempty"`
	}
	quantity struct {
		Value *json.Number `json:"value,omitempty"`
		Unit  string       `json:"unit,omitempty"`
		Code  string       `json:"code,omitempty"`
	}
	patientJSON struct {
		Meta             metaJSON `json:"meta,omitzero"`
		Gender           string   `json:"gender,omitempty"`
		BirthDate        string   `json:"birthDate,omitempty"`
		DeceasedBoolean  *bool    `json:"deceasedBoolean,omitempty"`
		DeceasedDateTime string   `json:"deceasedDateTime,omitempty"`
		Active           *bool    `json:"active,omitempty"`
	}
	encounterJSON struct {
		Meta            metaJSON  `json:"meta,omitzero"`
		Status          string    `json:"status,omitempty"`
		Class           coding    `json:"class,omitzero"`
		Period          period    `json:"period,omitzero"`
		Subject         reference `json:"subject,omitzero"`
		Priority        concept   `json:"priority,omitzero"`
		ServiceType     concept   `json:"serviceType,omitzero"`
		Hospitalization struct {
			DischargeDisposition concept `json:"dischargeDisposition,omitzero"`
			AdmitSource          concept `json:"admitSource,omitzero"`
		} `json:"hospitalization,omitzero"`
		Participant []struct {
			Type       []concept `json:"type,omitempty"`
			Individual reference `json:"individual,omitzero"`
		} `json:"participant,omitempty"`
		Diagnosis []encounterDx `json:"diagnosis,omitempty"`
	}
	encounterDx struct {
		Condition reference `json:"condition,omitzero"`
		Rank      int       `json:"rank,omitempty"`
	}
	conditionJSON struct {
		Meta               metaJSON  `json:"meta,omitzero"`
		Subject            reference `json:"subject,omitzero"`
		Encounter          reference `json:"encounter,omitzero"`
		Code               concept   `json:"code,omitzero"`
		Category           []concept `json:"category,omitempty"`
		VerificationStatus concept   `json:"verificationStatus,omitzero"`
		OnsetDateTime      string    `json:"onsetDateTime,omitempty"`
		OnsetPeriod        period    `json:"onsetPeriod,omitzero"`
		RecordedDate       string    `json:"recordedDate,omitempty"`
		Stage              []struct {
			Summary concept `json:"summary,omitzero"`
		} `json:"stage,omitempty"`
	}
	procedureJSON struct {
		Meta              metaJSON  `json:"meta,omitzero"`
		Status            string    `json:"status,omitempty"`
		Subject           reference `json:"subject,omitzero"`
		Encounter         reference `json:"encounter,omitzero"`
		Code              concept   `json:"code,omitzero"`
		PerformedDateTime string    `json:"performedDateTime,omitempty"`
		PerformedPeriod   period    `json:"performedPeriod,omitzero"`
	}
	claimJSON struct {
		Status    string    `json:"status,omitempty"`
		Patient   reference `json:"patient,omitzero"`
		Diagnosis []claimDx `json:"diagnosis,omitempty"`
		Procedure []struct {
			Sequence int     `json:"sequence,omitempty"`
			Code     concept `json:"procedureCodeableConcept,omitzero"`
		} `json:"procedure,omitempty"`
		Item []struct {
			Encounter []reference `json:"encounter,omitempty"`
		} `json:"item,omitempty"`
	}
	claimDx struct {
		Sequence    int       `json:"sequence,omitempty"`
		Code        concept   `json:"diagnosisCodeableConcept,omitzero"`
		Type        []concept `json:"type,omitempty"`
		OnAdmission concept   `json:"onAdmission,omitzero"`
	}
	observationJSON struct {
		Meta              metaJSON  `json:"meta,omitzero"`
		Status            string    `json:"status,omitempty"`
		Subject           reference `json:"subject,omitzero"`
		Code              concept   `json:"code,omitzero"`
		EffectiveDateTime string    `json:"effectiveDateTime,omitempty"`
		EffectivePeriod   period    `json:"effectivePeriod,omitzero"`
		ValueQuantity     quantity  `json:"valueQuantity,omitzero"`
		Component         []struct {
			Code          concept  `json:"code,omitzero"`
			ValueQuantity quantity `json:"valueQuantity,omitzero"`
		} `json:"component,omitempty"`
	}
)

func (c concept) code(system string) string {
	for _, cd := range c.Coding {
		if system == "" || cd.System == system {
			return cd.Code
		}
	}
	return ""
}

func (c concept) hasCode(code string) bool {
	for _, cd := range c.Coding {
		if cd.Code == code {
			return true
		}
	}
	return false
}

// refID returns the id of a "Type/id" reference to typ ("" otherwise).
func refID(r reference, typ string) string {
	s := r.Reference
	if len(s) > len(typ)+1 && s[:len(typ)] == typ && s[len(typ)] == '/' {
		return s[len(typ)+1:]
	}
	return ""
}

func (q quantity) number() (float64, bool) {
	if q.Value == nil {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(*q.Value), 64)
	return f, err == nil
}

// parse reads a version into its change; a resource of a projected type
// that the record keeps nothing of (an Observation of another code) gets a
// change with no value, which removes an earlier kept version.
func (r *Record) parse(typ, id string, version int64, body []byte) (change, error) {
	c := change{typ: typ, id: id, version: version}
	var v any
	switch typ {
	case "Patient":
		v = &patientJSON{}
	case "Encounter":
		v = &encounterJSON{}
	case "Condition":
		v = &conditionJSON{}
	case "Procedure":
		v = &procedureJSON{}
	case "Claim":
		v = &claimJSON{}
	case "Observation":
		if len(body) > 0 && body[0] != factBinary && !r.keep.Load().mentionsKeptCode(body) {
			return c, nil
		}
		v = &observationJSON{}
	default:
		return c, nil
	}
	if len(body) > 0 && body[0] == factBinary {
		// A saved fact (Projection), not a body.
		if err := decodeFact(body, v); err != nil {
			return c, err
		}
		c.v = v
		return c, nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return c, err
	}
	c.v = v
	return c, nil
}

// mentionsKeptCode is a quick look for the kept LOINC codes, so that the
// many other observations are not decoded at all.
func (k *keepObservations) mentionsKeptCode(body []byte) bool {
	for _, q := range k.quoted {
		if bytes.Contains(body, q) {
			return true
		}
	}
	return false
}

// sensitive reports whether the resource carries a security label that
// makes it sensitive (store.SensitiveLabels).
func (m metaJSON) sensitive() bool {
	for _, c := range m.Security {
		if store.SensitiveLabels[c.System][c.Code] {
			return true
		}
	}
	return false
}
