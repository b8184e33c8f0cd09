package chart_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/chart"
	"github.com/custodian-him/custodian/chart/chartdb"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

// savedWorld is a store of generated inpatient stays with the facts of
// the review index beside it, and the reviewer that watches it.
type savedWorld struct {
	t      *testing.T
	db     *sqldb.DB
	st     *store.Store
	facts  *chartdb.Facts
	bodies map[string]map[string]any // "Type/id" → body as first written
	order  []string                  // their references, in writing order
	rv     *chart.Reviewer
}

func openSaved(t *testing.T, patients int) *savedWorld {
	t.Helper()
	db, st := sqldbtest.OpenStore(t)
	w := &savedWorld{t: t, db: db, st: st, facts: chartdb.New(db), bodies: map[string]map[string]any{}}
	bodies, _ := inpatientRecords(generate(t, patients, 11))
	put(t, w.st, bodies)
	for _, b := range bodies {
		m, err := store.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		ref := m["resourceType"].(string) + "/" + m["id"].(string)
		w.bodies[ref] = m
		w.order = append(w.order, ref)
	}
	return w
}

// start starts a reviewer as serve does (watcher first, then Load) over
// the saved facts; the previous reviewer stops watching, as if its
// process had ended.
func (w *savedWorld) start() chart.LoadStats {
	w.t.Helper()
	rv := chart.NewReviewer(w.st)
	rv.Now = func() time.Time { return synthAsOf }
	rv.Facts = w.facts
	rv.Delay = time.Millisecond
	// Every write here is committed and told before the next begins, so
	// a save replays from its own position: what the saved facts say is
	// tested, not covered up by a replay of everything since the first.
	rv.SaveMargin = time.Nanosecond
	rv.MarkLoading()
	w.st.Watchers = []store.Watcher{rv.Watcher()}
	if err := rv.Load(context.Background()); err != nil {
		w.t.Fatal(err)
	}
	w.rv = rv
	return rv.LastLoad()
}

// scratch reads the index from the whole record, without saved facts.
func (w *savedWorld) scratch() *chart.Reviewer {
	w.t.Helper()
	rv := chart.NewReviewer(w.st)
	rv.Now = func() time.Time { return synthAsOf }
	if err := rv.Load(context.Background()); err != nil {
		w.t.Fatal(err)
	}
	if rv.LastLoad().Saved {
		w.t.Fatal("a reviewer without Facts read saved facts")
	}
	return rv
}

// check compares the running reviewer with one read from scratch,
// encounter by encounter.
func (w *savedWorld) check(phase string, tasks bool) {
	w.t.Helper()
	want, got := chart.Dump(w.scratch(), tasks), chart.Dump(w.rv, tasks)
	if n := len(want); n < 20 {
		w.t.Fatalf("%s: only %d entries to compare", phase, n)
	}
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	bad := 0
	for _, k := range keys {
		if want[k] != got[k] {
			if bad++; bad <= 4 {
				w.t.Errorf("%s: %s differs from a build from scratch:\nscratch:\n%s\nsaved:\n%s", phase, k, want[k], got[k])
			}
		}
	}
	if bad > 0 {
		w.t.Fatalf("%s: %d of %d entries differ", phase, bad, len(keys))
	}
}

// of returns the first n written resources of typ whose body contains
// every one of has, skipping skip.
func (w *savedWorld) of(typ string, skip, n int, has ...string) []map[string]any {
	var out []map[string]any
	for _, ref := range w.order {
		if !strings.HasPrefix(ref, typ+"/") {
			continue
		}
		b, _ := json.Marshal(w.bodies[ref])
		ok := true
		for _, h := range has {
			ok = ok && strings.Contains(string(b), h)
		}
		if !ok {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		var m map[string]any
		json.Unmarshal(b, &m)
		delete(m, "meta")
		out = append(out, m)
		if len(out) == n {
			break
		}
	}
	if len(out) < n {
		w.t.Fatalf("only %d %s resources with %q", len(out), typ, has)
	}
	return out
}

// mutate writes round r of changes touching everything the index keeps:
// a patient's sex, an encounter's discharge and attending, notes signed,
// rewritten and amended, a procedure deleted, a consent withdrawn, a
// diagnosis entered in error, a result out of range added and one
// corrected, a role changed, and a chart Task completed by hand.
func (w *savedWorld) mutate(r int) {
	w.t.Helper()
	var batch []map[string]any
	p := w.of("Patient", r, 1)[0]
	if p["gender"] == "male" {
		p["gender"] = "female"
	} else {
		p["gender"] = "male"
	}
	batch = append(batch, p)
	e := w.of("Encounter", r, 1, `"IMP"`, `"end"`)[0]
	per := e["period"].(map[string]any)
	end, _ := time.Parse(time.RFC3339, per["end"].(string))
	per["end"] = end.Add(time.Duration(r+1) * 37 * time.Hour).Format(time.RFC3339)
	delete(e, "participant")
	batch = append(batch, e)
	notes := w.of("DocumentReference", 3*r, 3)
	n0 := notes[0]
	n0["docStatus"] = "final"
	n0["authenticator"] = map[string]any{"reference": "Practitioner/someone-" + fmt.Sprint(r)}
	n0["date"] = "2025-09-01T10:00:00-05:00"
	n1 := notes[1]
	amend := map[string]any{}
	b, _ := json.Marshal(n1)
	json.Unmarshal(b, &amend)
	amend["id"] = fmt.Sprintf("amend-%d", r)
	amend["relatesTo"] = []any{map[string]any{"code": "replaces", "target": map[string]any{"reference": "DocumentReference/" + n1["id"].(string)}}}
	delete(amend, "authenticator")
	amend["docStatus"] = "preliminary"
	n1["status"] = "superseded"
	n2 := notes[2]
	n2["docStatus"] = "preliminary"
	delete(n2, "authenticator")
	batch = append(batch, n0, n1, n2, amend)
	c := w.of("Consent", r, 1)[0]
	c["status"] = "rejected"
	batch = append(batch, c)
	d := w.of("Condition", r, 1, `"encounter"`)[0]
	d["verificationStatus"] = map[string]any{"coding": []any{map[string]any{
		"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "entered-in-error"}}}
	batch = append(batch, d)
	o := w.of("Observation", r, 1, "8867-4", "valueQuantity")[0]
	added := map[string]any{}
	b, _ = json.Marshal(o)
	json.Unmarshal(b, &added)
	added["id"] = fmt.Sprintf("implausible-%d", r)
	added["valueQuantity"].(map[string]any)["value"] = 999
	batch = append(batch, added)
	if r > 0 { // the previous round's implausible result corrected
		fixed := map[string]any{}
		json.Unmarshal(b, &fixed)
		fixed["id"] = fmt.Sprintf("implausible-%d", r-1)
		batch = append(batch, fixed)
	}
	role := w.of("PractitionerRole", r, 1)[0]
	role["code"] = []any{map[string]any{"coding": []any{map[string]any{"code": fmt.Sprintf("role-%d", r)}}}}
	batch = append(batch, role)
	res, err := w.st.PutBatch(sysCtx(), batch)
	if err != nil {
		w.t.Fatal(err)
	}
	for i, x := range res {
		if x.Err != nil {
			w.t.Fatalf("round %d, %s/%s: %v", r, batch[i]["resourceType"], batch[i]["id"], x.Err)
		}
	}
	pr := w.of("Procedure", r, 1)[0]
	if _, err := w.st.Delete(sysCtx(), "Procedure", pr["id"].(string), store.WriteOptions{}); err != nil {
		w.t.Fatal(err)
	}
	// A clinician completes a chart Task by hand.
	page, err := w.st.Search(sysCtx(), &store.Query{Types: []string{"Task"}, Count: 50})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, t := range page.Resources {
		if d, status, ok := chart.TaskDeficiency(t.Body); ok && status == chart.StatusRequested && d.Kind != "" {
			m, _ := store.Decode(t.Body)
			m["status"] = chart.StatusCompleted
			delete(m, "meta")
			if _, err := w.st.PutBatch(sysCtx(), []map[string]any{m}); err != nil {
				w.t.Fatal(err)
			}
			break
		}
	}
}

// failingFacts writes a save's facts but fails before its state, as a
// crash in the middle of a save would leave them.
type failingFacts struct {
	chart.Facts
	wrote int
}

func (f *failingFacts) Save(ctx context.Context, facts []chart.Fact, state *chart.SavedState) error {
	if state == nil {
		return f.Facts.Save(ctx, facts, nil)
	}
	if err := f.Facts.Save(ctx, facts, nil); err != nil {
		return err
	}
	f.wrote += len(facts)
	return errors.New("crashed before the state")
}

// TestSavedIndex starts, stops and crashes reviewers over one store and
// compares each one's index, encounter by encounter, with one read from
// scratch: a first start, a stop with changes made while stopped, a crash
// after writes whose facts were never saved, a crash in the middle of a
// save, writes by another process, rules changes with and without an
// effect on what the index keeps, a new facts format and a damaged fact.
func TestSavedIndex(t *testing.T) {
	ctx := context.Background()
	w := openSaved(t, 120)

	// A first start reads the whole record and saves its facts.
	if st := w.start(); st.Saved || st.Facts == 0 {
		t.Fatalf("first start: %s, want the whole record read", st)
	}
	if _, err := w.rv.Review(ctx, time.Time{}, synthAsOf); err != nil {
		t.Fatal(err)
	}
	w.mutate(0) // while running: the watcher files it
	if _, err := w.rv.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// A stop: Run saves as it ends.
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { w.rv.Run(runCtx) })
	stop()
	wg.Wait()
	w.st.Watchers = nil

	// Changes while stopped.
	w.mutate(1)
	st := w.start()
	if !st.Saved || st.Replayed == 0 {
		t.Fatalf("start after a stop: %s, want saved facts and the changes since replayed", st)
	}
	w.check("after a stop", true)

	// A crash: writes filed by the watcher, Tasks written, nothing saved.
	w.mutate(2)
	if _, err := w.rv.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if st := w.start(); !st.Saved || st.Replayed == 0 {
		t.Fatalf("start after a crash: %s", st)
	}
	w.check("after a crash", true)

	// A crash in the middle of a save: facts written, state not.
	w.mutate(3)
	if _, err := w.rv.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	failing := &failingFacts{Facts: w.facts}
	w.rv.Facts = failing
	if err := w.rv.Save(ctx); err == nil || failing.wrote == 0 {
		t.Fatalf("the failing save: %v, %d facts written", err, failing.wrote)
	}
	if st := w.start(); !st.Saved || st.Replayed == 0 {
		t.Fatalf("start after a crash in a save: %s", st)
	}
	w.check("after a crash in a save", true)

	// Another process writes while this one runs: the next save takes
	// its writes in from the change feed.
	watchers := w.st.Watchers
	w.st.Watchers = nil
	w.mutate(4)
	w.st.Watchers = watchers
	if err := w.rv.Save(ctx); err != nil {
		t.Fatal(err)
	}
	w.check("running, after another process wrote", false) // this process's own Tasks are kept as it wrote them
	if st := w.start(); !st.Saved {
		t.Fatalf("start after another process wrote: %s", st)
	}
	w.check("after another process wrote", true)

	// Rules changed while stopped, in what the index does not keep: the
	// saved facts serve, under the new rules.
	rs := w.rv.Rules()
	var edited chart.RuleSet
	if err := json.Unmarshal(rs.JSON(), &edited); err != nil {
		t.Fatal(err)
	}
	edited.Rules[0].Title += " (edited)"
	writeLibrary(t, w.st, &edited)
	if st := w.start(); !st.Saved {
		t.Fatalf("start after a title changed: %s, want the saved facts", st)
	}
	if got := w.rv.Rules().Rules[0].Title; got != edited.Rules[0].Title {
		t.Fatalf("rules after the change: title %q", got)
	}
	w.check("after a rule's title changed", true)

	// Rules changed in what the index keeps (a plausible range): the
	// whole record is read again.
	for i := range edited.Rules {
		for j := range edited.Rules[i].Ranges {
			if strings.HasSuffix(edited.Rules[i].Ranges[j].Code, "|8867-4") {
				edited.Rules[i].Ranges[j].Max = 150
			}
		}
	}
	writeLibrary(t, w.st, &edited)
	if st := w.start(); st.Saved {
		t.Fatalf("start after a range changed: %s, want the whole record read", st)
	}
	w.check("after a range changed", true)
	w.mutate(5)
	if st := w.start(); !st.Saved || st.Replayed == 0 {
		t.Fatalf("start after the rebuild: %s", st)
	}
	w.check("after the rebuild and a crash", true)

	// Many changes since the saved position (more than a third of the
	// store's history): the whole record is read, not replayed.
	saved, ok, err := w.facts.Saved(ctx)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	far := saved
	far.Position, far.Replay = 1, 0
	if err := w.facts.Save(ctx, nil, &far); err != nil {
		t.Fatal(err)
	}
	if st := w.start(); st.Saved {
		t.Fatalf("start after many changes: %s, want the whole record read", st)
	}
	w.check("after many changes", true)

	// A release with another facts format reads the whole record.
	saved, ok, err = w.facts.Saved(ctx)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	saved.Format = "chart-0-older"
	if err := w.facts.Save(ctx, nil, &saved); err != nil {
		t.Fatal(err)
	}
	if st := w.start(); st.Saved {
		t.Fatalf("start after a format change: %s", st)
	}
	w.check("after a format change", true)

	// Run saves by itself once SaveInterval has passed.
	w.rv.SaveInterval = 20 * time.Millisecond
	runCtx, stop = context.WithCancel(ctx)
	wg.Go(func() { w.rv.Run(runCtx) })
	w.mutate(6)
	newest, err := w.facts.Newest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		saved, _, err := w.facts.Saved(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if saved.Position >= newest {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Run did not save: the state is at %d, the store at %d", saved.Position, newest)
		}
	}
	w.check("running, saved by Run", false)
	stop()
	wg.Wait()
	if st := w.start(); !st.Saved {
		t.Fatalf("start after Run saved: %s", st)
	}
	w.check("after Run saved", true)

	// A damaged fact: the whole record is read instead.
	if err := w.facts.Save(ctx, []chart.Fact{{Type: "Encounter", ID: w.of("Encounter", 0, 1)[0]["id"].(string), Version: 1 << 40, Data: []byte{0xff}}}, nil); err != nil {
		t.Fatal(err)
	}
	if st := w.start(); st.Saved {
		t.Fatalf("start with a damaged fact: %s", st)
	}
	w.check("after a damaged fact", true)
}

func writeLibrary(t *testing.T, st *store.Store, rs *chart.RuleSet) {
	t.Helper()
	res, err := st.PutBatch(custodian.NewContextWithActor(context.Background(), custodian.SystemActor()), []map[string]any{rs.Library()})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
}
