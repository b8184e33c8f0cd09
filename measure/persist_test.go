package measure_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/measure"
	"github.com/custodian-him/custodian/measure/factdb"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/synth"
)

// restartEnv is a generated hospital in a real store (either engine)
// whose measures' record is kept by a Projection across "restarts": a
// new Record and Projection over the same database.
type restartEnv struct {
	t   *testing.T
	ctx context.Context
	db  *sqldb.DB
	st  *store.Store
}

func newRestartEnv(t *testing.T, patients int) *restartEnv {
	t.Helper()
	ctx := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	var col synth.Collector
	if _, err := synth.Generate(ctx, synth.Config{Patients: patients, Seed: 33}, &col); err != nil {
		t.Fatal(err)
	}
	var batch []map[string]any
	others := 0
	for i, typ := range col.Types {
		if !keep(typ, col.Bodies[i], &others) {
			continue
		}
		res, err := store.Decode(col.Bodies[i])
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, res)
	}
	for _, fact := range col.Facts {
		if fact.Kind == synth.FactCoding {
			batch = append(batch, claimFor(fact))
		}
	}
	db, st := sqldbtest.OpenStore(t)
	st.Guard, st.AuditLog = allowAll{}, db
	e := &restartEnv{t: t, ctx: ctx, db: db, st: st}
	e.put(batch)
	return e
}

func (e *restartEnv) put(batch []map[string]any) {
	e.t.Helper()
	sqldbtest.Put(e.t, e.ctx, e.st, batch)
}

// start is a process start: a new record watching the store, filled by a
// Projection over the database's facts.
func (e *restartEnv) start(keep ...string) (*measure.Record, *measure.Projection, measure.LoadStats) {
	e.t.Helper()
	rec := measure.NewRecord()
	rec.KeepObservations(keep...)
	e.st.Watchers = []store.Watcher{rec.Watcher()}
	// No margin: a start replays only what came after the last save, so
	// the facts saved must be complete by themselves.
	p := &measure.Projection{Record: rec, Facts: factdb.New(e.db), Source: measure.BackendSource{Backend: e.db, Batch: 500}, Margin: time.Nanosecond}
	stats, err := p.Load(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return rec, p, stats
}

// stop is a process ending: the record no longer watches.
func (e *restartEnv) stop() { e.st.Watchers = nil }

// current reads the current resources of a type as maps.
func (e *restartEnv) current(typ string) []map[string]any {
	e.t.Helper()
	q, err := e.st.ParseQueryString(typ, "_count=1000")
	if err != nil {
		e.t.Fatal(err)
	}
	var out []map[string]any
	for {
		page, err := e.st.Search(e.ctx, q)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, r := range page.Resources {
			m, err := store.Decode(r.Body)
			if err != nil {
				e.t.Fatal(err)
			}
			out = append(out, m)
		}
		if page.Next == "" {
			return out
		}
		q.Cursor = page.Next
	}
}

// results evaluates every built-in over every test period, as text that
// names every case of every population and every stratum's counts.
func results(t *testing.T, rec *measure.Record) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, def := range measure.Builtins() {
		for _, ps := range periods {
			period, _ := measure.ParsePeriod(ps)
			res, err := measure.Evaluate(context.Background(), rec, def, period, measure.Options{Lists: true})
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, pop := range res.Populations {
				fmt.Fprintf(&b, "%s=%d %v\n", pop.Code, pop.Count, keys(pop.Cases))
			}
			for _, s := range res.Strata {
				for _, v := range s.Strata {
					fmt.Fprintf(&b, "%s:%s", s.Code, v.Value)
					for _, pop := range v.Populations {
						fmt.Fprintf(&b, " %s=%d", pop.Code, pop.Count)
					}
					b.WriteString("\n")
				}
			}
			fmt.Fprintf(&b, "observed %d %v score %v %v", res.Observed.Count, res.Observed.Sum, res.Score, res.HasScore)
			out[def.ID+" "+ps] = b.String()
		}
	}
	return out
}

// fresh is the record read whole from the store, as a first start does.
func (e *restartEnv) fresh(keep ...string) *measure.Record {
	e.t.Helper()
	rec := measure.NewRecord()
	rec.KeepObservations(keep...)
	if err := rec.Load(e.ctx, measure.BackendSource{Backend: e.db, Batch: 500}); err != nil {
		e.t.Fatal(err)
	}
	return rec
}

func sameResults(t *testing.T, what string, want, got map[string]string) {
	t.Helper()
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if want[id] != got[id] {
			t.Errorf("%s: %s differs from a from-scratch build:\nwant %s\ngot  %s", what, id, want[id], got[id])
		}
	}
}

// changeRecords writes a change of every kind the record projects:
// deaths, discharges to hospice, deleted and new diagnoses, an HbA1c
// raised, an observation recoded to a code not kept, a claim withdrawn,
// and a new patient with an inpatient stay.
func (e *restartEnv) changeRecords(tag string, n int) {
	e.t.Helper()
	var batch []map[string]any
	pats := e.current("Patient")
	for _, p := range pats[:n] {
		p["deceasedDateTime"] = "2024-05-0" + fmt.Sprint(1+len(batch)%9)
		batch = append(batch, p)
	}
	var stays []map[string]any
	for _, enc := range e.current("Encounter") {
		if str(enc, "class", "code") == "IMP" && len(stays) < n {
			stays = append(stays, enc)
		}
	}
	for _, enc := range stays {
		enc["hospitalization"] = map[string]any{"dischargeDisposition": map[string]any{"coding": []any{map[string]any{
			"system": "http://terminology.hl7.org/CodeSystem/discharge-disposition", "code": "exp"}}}}
		batch = append(batch, enc)
	}
	var changedObs, recoded int
	for _, o := range e.current("Observation") {
		body, _ := json.Marshal(o)
		switch {
		case strings.Contains(string(body), `"4548-4"`) && changedObs < n:
			o["valueQuantity"] = map[string]any{"value": json.Number("11.2"), "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"}
			batch = append(batch, o)
			changedObs++
		case strings.Contains(string(body), `"85354-9"`) && recoded < 2:
			o["code"] = map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "8867-4"}}}
			delete(o, "component")
			o["valueQuantity"] = map[string]any{"value": json.Number("70"), "unit": "/min"}
			batch = append(batch, o)
			recoded++
		}
	}
	pid := "restart-" + tag
	batch = append(batch,
		map[string]any{"resourceType": "Patient", "id": pid, "gender": "female", "birthDate": "1950-03-04"},
		map[string]any{"resourceType": "Encounter", "id": pid + "-stay", "status": "finished",
			"class":     map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
			"subject":   map[string]any{"reference": "Patient/" + pid},
			"period":    map[string]any{"start": "2024-02-01T08:00:00Z", "end": "2024-02-06T10:00:00Z"},
			"diagnosis": []any{map[string]any{"condition": map[string]any{"reference": "Condition/" + pid + "-dx"}, "rank": json.Number("1")}}},
		map[string]any{"resourceType": "Condition", "id": pid + "-dx",
			"subject":   map[string]any{"reference": "Patient/" + pid},
			"encounter": map[string]any{"reference": "Encounter/" + pid + "-stay"},
			"code":      map[string]any{"coding": []any{map[string]any{"system": measure.SystemICD10CM, "code": "I50.9"}}}},
	)
	for i, m := range batch {
		b, _ := json.Marshal(m)
		if batch[i], _ = store.Decode(b); batch[i] == nil {
			e.t.Fatalf("cannot re-read %s", b)
		}
	}
	e.put(batch)
	for _, c := range e.current("Condition")[:n] {
		if _, err := e.st.Delete(e.ctx, "Condition", c["id"].(string), store.WriteOptions{}); err != nil {
			e.t.Fatal(err)
		}
	}
	for _, c := range e.current("Claim")[:min(n, 3)] {
		if _, err := e.st.Delete(e.ctx, "Claim", c["id"].(string), store.WriteOptions{}); err != nil {
			e.t.Fatal(err)
		}
	}
}

// TestProjectionAcrossRestarts builds the record, stops, changes the
// record while stopped, starts again from the saved facts, and compares
// every built-in measure with a from-scratch build; then the same after a
// stop without a save (a crash), after writes the watcher was not told
// of, and after the observation codes kept change.
func TestProjectionAcrossRestarts(t *testing.T) {
	e := newRestartEnv(t, 120)

	rec1, p1, stats := e.start()
	if stats.Saved || stats.Facts == 0 {
		t.Fatalf("a first start reads the whole record: %+v", stats)
	}
	e.same(t, "first start", rec1)
	ex := exercised(rec1)
	for _, k := range []string{"sensitive", "attending", "service", "disposition", "claim with POA", "stage", "problem list", "blood pressure"} {
		if ex[k] == 0 {
			t.Errorf("the generated hospital has no %s: the restarts do not test it", k)
		}
	}
	t.Logf("exercised: %v", ex)
	// Changes while running reach the facts through the watcher.
	e.changeRecords("running", 4)
	if p1.Changed() == 0 {
		t.Fatal("the watcher's changes are not waiting for the save")
	}
	if err := p1.Save(e.ctx); err != nil {
		t.Fatal(err)
	}
	before := results(t, rec1)
	e.stop()

	// Changed while stopped.
	e.changeRecords("stopped", 5)
	fresh := e.fresh()
	want := results(t, fresh)
	if fmt.Sprint(want) == fmt.Sprint(before) {
		t.Fatal("the changes made while stopped change no measure: the test would prove nothing")
	}
	rec2, p2, stats := e.start()
	if !stats.Saved || stats.Replayed == 0 {
		t.Fatalf("the second start did not read the saved facts and replay the changes: %+v", stats)
	}
	sameResults(t, "restart after changes while stopped", want, results(t, rec2))
	sameRecords(t, "restart after changes while stopped", fresh, rec2)
	if rec2.Loading() {
		t.Error("the record is still marked as loading after the start")
	}
	if fmt.Sprint(rec2.Counts()) != fmt.Sprint(fresh.Counts()) {
		t.Errorf("counts %v, from scratch %v", rec2.Counts(), fresh.Counts())
	}
	// The second start's measures also agree with the independent
	// computation over the stored resources.
	raw := map[string][]map[string]any{}
	for _, typ := range measure.Types {
		raw[typ] = e.current(typ)
	}
	x := newRefIndex(raw)
	for _, def := range measure.Builtins() {
		for _, ps := range periods {
			period, _ := measure.ParsePeriod(ps)
			from, to, _ := strings.Cut(ps, "/")
			res, err := measure.Evaluate(e.ctx, rec2, def, period, measure.Options{Lists: true})
			if err != nil {
				t.Fatal(err)
			}
			ref := reference(x, def.ID, from, to)
			for _, pop := range res.Populations {
				if w, g := refKeys(ref, pop.Code), keys(pop.Cases); !slices.Equal(w, g) {
					t.Errorf("restarted %s %s %s: want %d, got %d: %s", def.ID, ps, pop.Code, len(w), len(g), diff(w, g))
				}
			}
		}
	}

	// Writes the watcher is not told of (another process or node) are
	// taken in by the next save.
	e.stop()
	e.changeRecords("elsewhere", 2)
	e.st.Watchers = []store.Watcher{rec2.Watcher()}
	if err := p2.Save(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.same(t, "a save after writes by another process", rec2)

	// A crash: changes the watcher took in but no save wrote.
	e.changeRecords("crash", 3)
	e.stop()
	rec3, _, stats := e.start()
	if !stats.Saved {
		t.Fatalf("the start after a crash did not read the saved facts: %+v", stats)
	}
	e.same(t, "restart after a crash", rec3)
	e.stop()

	// Another set of kept observation codes is another format: the whole
	// record is read again, and its facts replace the old.
	rec4, _, stats := e.start("2345-7")
	if stats.Saved {
		t.Fatalf("facts of another format were used: %+v", stats)
	}
	sameRecords(t, "a changed format", e.fresh("2345-7"), rec4)
	e.stop()
	rec5, _, stats := e.start("2345-7")
	if !stats.Saved {
		t.Fatalf("the facts written for the new format were not used: %+v", stats)
	}
	e.same(t, "the new format's facts", rec5, "2345-7")
	e.stop()

	// A damaged fact (newer than any version, so no save replaces it):
	// the whole record is read again, and its facts replace the damaged.
	patient := e.current("Patient")[0]["id"].(string)
	if err := factdb.New(e.db).Save(e.ctx, []measure.Fact{{Type: "Patient", ID: patient, Version: 1 << 40, Data: []byte{0xff, 0x01}}}, nil); err != nil {
		t.Fatal(err)
	}
	rec6, _, stats := e.start("2345-7")
	if stats.Saved {
		t.Fatalf("a damaged fact was used: %+v", stats)
	}
	e.same(t, "a start over a damaged fact", rec6, "2345-7")
	e.stop()
	rec7, _, stats := e.start("2345-7")
	if !stats.Saved {
		t.Fatalf("the facts written after the damaged ones were not used: %+v", stats)
	}
	e.same(t, "the facts that replaced the damaged ones", rec7, "2345-7")
}

// dump writes every patient's projected record, entry by entry, in a
// fixed order.
func dump(rec *measure.Record) map[string]string {
	out := map[string]string{}
	rec.View(func(v *measure.View) error {
		v.Patients(func(p *measure.Patient) bool {
			var b strings.Builder
			fmt.Fprintf(&b, "%s %v %s %v %v %v %v\n", p.ID, p.Birth, p.Sex, p.Death, p.Died, p.Active, p.Sensitive)
			var lines []string
			for _, e := range p.Encounters {
				var dx, pr []string
				for _, c := range e.DxRefs {
					dx = append(dx, fmt.Sprintf("%s/%v", c.ID, c.Known))
				}
				for _, x := range e.Procedures {
					pr = append(pr, x.ID)
				}
				slices.Sort(pr)
				cl := ""
				if e.Claim != nil {
					cl = fmt.Sprintf("%s %v %v", e.Claim.ID, e.Claim.Diagnoses, e.Claim.Procedures)
				}
				lines = append(lines, fmt.Sprintf("E %s %v %s %s %v %v %d %d %s %s %s %s %s %v %v %v [%s]", e.ID, e.Known, e.Class, e.Status, e.Start, e.End, e.StartAt, e.EndAt,
					e.Disposition, e.Priority, e.AdmitSource, e.Service, e.Attending, e.Sensitive, dx, pr, cl))
			}
			for _, c := range p.Conditions {
				enc := ""
				if c.Encounter != nil {
					enc = c.Encounter.ID
				}
				lines = append(lines, fmt.Sprintf("C %s %v %s %s %s %v %v %q %v", c.ID, c.Known, enc, c.System, c.Code, c.Onset, c.Problem, c.Stage, c.Sensitive))
			}
			for _, x := range p.Procedures {
				lines = append(lines, fmt.Sprintf("P %s %s %s %v %v", x.ID, x.System, x.Code, x.Date, x.Sensitive))
			}
			for _, o := range p.Obs {
				lines = append(lines, fmt.Sprintf("O %s %s %v %d %v %v %v %v %v %s", o.ID, o.Code, o.Date, o.At, o.Value, o.Diastolic, o.HasValue, o.HasDiastol, o.Sensitive, o.Unit))
			}
			slices.Sort(lines)
			b.WriteString(strings.Join(lines, "\n"))
			out[p.ID] = b.String()
			return true
		})
		return nil
	})
	return out
}

// same compares got with a from-scratch build, patient by patient and
// measure by measure.
func (e *restartEnv) same(t *testing.T, what string, got *measure.Record, keep ...string) {
	t.Helper()
	fresh := e.fresh(keep...)
	sameRecords(t, what, fresh, got)
	sameResults(t, what, results(t, fresh), results(t, got))
}

// sameRecords compares two records patient by patient.
func sameRecords(t *testing.T, what string, want, got *measure.Record) {
	t.Helper()
	w, g := dump(want), dump(got)
	if len(w) != len(g) {
		t.Errorf("%s: %d patients, a from-scratch build has %d", what, len(g), len(w))
	}
	bad := 0
	for id, s := range w {
		if g[id] != s && bad < 3 {
			bad++
			t.Errorf("%s: patient %s differs from a from-scratch build:\nwant %s\ngot  %s", what, id, s, g[id])
		}
	}
}

// exercised counts, in a record, the elements the saved facts trim
// around, so the restart test is known to cover them.
func exercised(rec *measure.Record) map[string]int {
	n := map[string]int{}
	rec.View(func(v *measure.View) error {
		v.Patients(func(p *measure.Patient) bool {
			if p.Restricted() {
				n["sensitive"]++
			}
			for _, e := range p.Encounters {
				if e.Attending != "" {
					n["attending"]++
				}
				if e.Service != "" {
					n["service"]++
				}
				if e.Disposition != "" {
					n["disposition"]++
				}
				if e.Claim != nil && len(e.Claim.Diagnoses) > 0 && e.Claim.Diagnoses[0].POA != "" {
					n["claim with POA"]++
				}
			}
			for _, c := range p.Conditions {
				if c.Stage != "" {
					n["stage"]++
				}
				if c.Problem {
					n["problem list"]++
				}
			}
			for _, o := range p.Obs {
				if o.HasDiastol {
					n["blood pressure"]++
				}
			}
			return true
		})
		return nil
	})
	return n
}
