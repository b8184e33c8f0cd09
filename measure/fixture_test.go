package measure_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/measure"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/synth"
)

type allowAll struct{}

func (allowAll) Allow(*custodian.Actor, string, string) error { return nil }
func (allowAll) SeesSensitive(*custodian.Actor) bool          { return true }

// fixture is a generated hospital stored in a real store, with the raw
// resources kept for the independent computations and the record built
// two ways: by the watcher as the data was written, and by a scan after.
type fixture struct {
	raw     map[string][]map[string]any // by type
	facts   []synth.Fact
	db      *sqldb.DB
	st      *store.Store
	watched *measure.Record
	loaded  *measure.Record
	claims  map[string]bool // encounter ids with a claim
}

var (
	fixtureOnce sync.Once
	fixtureVal  *fixture
	fixtureErr  error
)

// keep says which generated resources the fixture stores: what measures
// read, plus a sample of what they must ignore.
func keep(typ string, body []byte, others *int) bool {
	switch typ {
	case "Patient", "Encounter", "Condition", "Procedure":
		return true
	case "Observation":
		s := string(body)
		if strings.Contains(s, `"4548-4"`) || strings.Contains(s, `"85354-9"`) {
			return true
		}
	}
	*others++
	return *others%200 == 0
}

func getFixture(t *testing.T) *fixture {
	t.Helper()
	fixtureOnce.Do(func() { fixtureVal, fixtureErr = buildFixture(t) })
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return fixtureVal
}

func buildFixture(t *testing.T) (*fixture, error) {
	ctx := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	var col synth.Collector
	if _, err := synth.Generate(ctx, synth.Config{Patients: 450, Seed: 15}, &col); err != nil {
		return nil, err
	}
	start := time.Now()
	f := &fixture{raw: map[string][]map[string]any{}, facts: col.Facts}
	var batch []map[string]any
	others := 0
	for i, typ := range col.Types {
		if !keep(typ, col.Bodies[i], &others) {
			continue
		}
		res, err := store.Decode(col.Bodies[i])
		if err != nil {
			return nil, err
		}
		batch = append(batch, res)
	}
	// Coders' claims: one per inpatient stay, from the generator's
	// expected coding, with present-on-admission.
	f.claims = map[string]bool{}
	for _, fact := range col.Facts {
		if fact.Kind == synth.FactCoding {
			batch = append(batch, claimFor(fact))
			f.claims[strings.TrimPrefix(fact.Encounter, "Encounter/")] = true
		}
	}
	for _, res := range batch {
		// keep the raw copy apart from what the store stamps
		b, _ := json.Marshal(res)
		var m map[string]any
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			return nil, err
		}
		typ := m["resourceType"].(string)
		f.raw[typ] = append(f.raw[typ], m)
	}

	db := sqldbtest.Open(t)
	reg, err := search.NewR4(fhir.R4())
	if err != nil {
		return nil, err
	}
	if err := db.RegisterParams(ctx, reg.Indexed()); err != nil {
		return nil, err
	}
	st := store.New(db, fhir.R4(), reg)
	st.Guard, st.AuditLog = allowAll{}, db
	f.db, f.st = db, st
	f.watched = measure.NewRecord()
	st.Watchers = append(st.Watchers, f.watched.Watcher())
	for i := 0; i < len(batch); i += 4000 {
		results, err := st.PutBatch(ctx, batch[i:min(i+4000, len(batch))])
		if err != nil {
			return nil, err
		}
		for j, r := range results {
			if r.Err != nil {
				return nil, fmt.Errorf("storing %v/%v: %w", batch[i+j]["resourceType"], batch[i+j]["id"], r.Err)
			}
		}
	}
	t.Logf("stored %d resources in %s", len(batch), time.Since(start))
	f.loaded = measure.NewRecord()
	if err := f.loaded.Load(ctx, measure.BackendSource{Backend: db, Batch: 700}); err != nil {
		return nil, err
	}
	return f, nil
}

// claimFor is the Claim a coder would make for the stay of a coding fact.
func claimFor(fact synth.Fact) map[string]any {
	enc := strings.TrimPrefix(fact.Encounter, "Encounter/")
	var dx []any
	for i, d := range fact.Diagnoses {
		typ := "secondary"
		if i == 0 {
			typ = "principal"
		}
		e := map[string]any{
			"sequence":                 i + 1,
			"diagnosisCodeableConcept": map[string]any{"coding": []any{map[string]any{"system": measure.SystemICD10CM, "code": d.Code}}},
			"type":                     []any{map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/ex-diagnosistype", "code": typ}}}},
		}
		if d.POA != "" {
			e["onAdmission"] = map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/ex-diagnosis-on-admission", "code": strings.ToLower(d.POA)}}}
		}
		dx = append(dx, e)
	}
	var procs []any
	for i, p := range fact.Procedures {
		procs = append(procs, map[string]any{"sequence": i + 1,
			"procedureCodeableConcept": map[string]any{"coding": []any{map[string]any{"system": measure.SystemICD10PCS, "code": p}}}})
	}
	c := map[string]any{
		"resourceType": "Claim", "id": "claim-" + enc, "status": "active",
		"type":      map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "institutional"}}},
		"use":       "claim",
		"patient":   map[string]any{"reference": fact.Patient},
		"created":   "2025-10-01",
		"provider":  map[string]any{"reference": "Organization/hospital"},
		"priority":  map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "normal"}}},
		"insurance": []any{map[string]any{"sequence": 1, "focal": true, "coverage": map[string]any{"display": "self-pay"}}},
		"diagnosis": dx,
		"item": []any{map[string]any{"sequence": 1,
			"productOrService": map[string]any{"text": "inpatient stay"},
			"encounter":        []any{map[string]any{"reference": fact.Encounter}}}},
	}
	if len(procs) > 0 {
		c["procedure"] = procs
	}
	return c
}
