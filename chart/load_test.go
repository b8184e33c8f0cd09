package chart_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/custodian-him/custodian/chart"
	"github.com/custodian-him/custodian/store"
)

// stay is a patient with one finished inpatient stay, an attending and a
// signed H&P, but no discharge summary.
var stay = []string{
	`{"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1950-04-02"}`,
	`{"resourceType":"PractitionerRole","id":"r1","practitioner":{"reference":"Practitioner/att"},"code":[{"coding":[{"code":"attending"}]}]}`,
	`{"resourceType":"Encounter","id":"e1","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"},
	 "subject":{"reference":"Patient/p1"},"period":{"start":"2025-03-01T08:00:00-05:00","end":"2025-03-02T11:00:00-05:00"},
	 "participant":[{"type":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"ATND"}]}],"individual":{"reference":"Practitioner/att"}}],
	 "hospitalization":{"admitSource":{"coding":[{"code":"emd"}]},"dischargeDisposition":{"coding":[{"code":"home"}]}}}`,
	note("hp", "34117-2", "2025-03-01T09:00:00-05:00", "2025-03-01T10:00:00-05:00", "att", "att", "HISTORY AND PHYSICAL"),
}

var stayNow = time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC)

func writeAll(t *testing.T, st *store.Store, bodies ...string) {
	t.Helper()
	var ms []map[string]any
	for _, b := range bodies {
		ms = append(ms, res(t, b))
	}
	out, err := st.PutBatch(sysCtx(), ms)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
}

// writeDuringLoad is the store as Load sees it, except that the first time
// Load reads Observations (the last type it reads, long after notes) it
// writes first: a write the reading itself cannot see.
type writeDuringLoad struct {
	*store.Store
	write func()
}

func (w *writeDuringLoad) ExportPage(ctx context.Context, q *store.Query, f store.ExportFilter) ([]*store.Resource, int64, error) {
	if q.Types[0] == "Observation" && w.write != nil {
		w.write()
		w.write = nil
	}
	return w.Store.ExportPage(ctx, q, f)
}

// TestLoadKeepsWritesMadeWhileReading loads the index the way serve does
// (the watcher registered, MarkLoading, Load in the background) while a
// discharge summary is filed after the notes were read: the summary is in
// the index once Load ends, so no missing-summary deficiency is raised.
func TestLoadKeepsWritesMadeWhileReading(t *testing.T) {
	st := openStore(t)
	writeAll(t, st, stay...)
	w := &writeDuringLoad{Store: st}
	rv := chart.NewReviewer(w)
	rv.Now = func() time.Time { return stayNow }
	rv.MarkLoading()
	st.Watchers = append(st.Watchers, rv.Watcher())
	if rv.Ready() {
		t.Fatal("Ready before Load")
	}
	// An evaluation asked for before the index is read waits for it.
	reviewed := make(chan *chart.Summary, 1)
	go func() {
		sum, err := rv.Review(context.Background(), time.Time{}, stayNow)
		if err != nil {
			t.Error(err)
		}
		reviewed <- sum
	}()
	w.write = func() {
		writeAll(t, st, note("ds", "18842-5", "2025-03-02T12:00:00-05:00", "2025-03-02T13:00:00-05:00", "att", "att",
			"DISCHARGE SUMMARY\nPRINCIPAL DIAGNOSIS: Pneumonia.\n"))
	}
	if err := rv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !rv.Ready() {
		t.Fatal("not Ready after Load")
	}
	sum := <-reviewed
	if sum == nil || sum.Encounters != 1 {
		t.Fatalf("the review waiting for the load evaluated %+v, want the one stay", sum)
	}
	if n := sum.ByKind[chart.KindMissingDischargeSummary]; n != 0 {
		t.Errorf("%d missing discharge summaries: the summary filed during the load was lost", n)
	}
}

// TestFailedLoadRefusesEvaluation: a reviewer whose first load failed
// evaluates nothing (a partial record would raise false deficiencies).
func TestFailedLoadRefusesEvaluation(t *testing.T) {
	st := openStore(t)
	writeAll(t, st, stay...)
	rv := chart.NewReviewer(st)
	rv.MarkLoading()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := rv.Load(ctx); err == nil {
		t.Fatal("Load with a cancelled context succeeded")
	}
	if rv.Ready() || rv.Err() == nil {
		t.Fatalf("after a failed load: Ready %v, Err %v", rv.Ready(), rv.Err())
	}
	if _, err := rv.Review(context.Background(), time.Time{}, stayNow); err == nil {
		t.Error("Review after a failed load evaluated")
	}
}

func bpObservation(systolic string) string {
	return `{"resourceType":"Observation","id":"bp","status":"final","encounter":{"reference":"Encounter/e1"},
	 "code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},
	 "component":[
	  {"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":` + systolic + `,"code":"mm[Hg]"}},
	  {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":{"value":80,"code":"mm[Hg]"}}]}`
}

func implausible(ix *chart.Index, rs *chart.RuleSet) []string {
	var out []string
	for _, d := range ix.Evaluate(rs, "Encounter/e1", stayNow, nil) {
		if d.Kind == chart.KindImplausibleValue {
			out = append(out, d.Key)
		}
	}
	return out
}

// TestImplausibleResultCorrected: a blood pressure whose systolic
// component is out of range raises one deficiency, and correcting the
// value clears it (the component's result is replaced, not left behind).
func TestImplausibleResultCorrected(t *testing.T) {
	rs := chart.DefaultRules()
	ix := chart.NewIndex(rs)
	for _, b := range stay {
		m := res(t, b)
		ix.Add(m["resourceType"].(string), m["id"].(string), []byte(b))
	}
	for _, tc := range []struct {
		systolic string
		want     int
	}{{"120", 0}, {"400", 1}, {"118", 0}, {"2", 1}} {
		ix.Add("Observation", "bp", []byte(bpObservation(tc.systolic)))
		if got := implausible(ix, rs); len(got) != tc.want {
			t.Errorf("systolic %s: implausible %v, want %d", tc.systolic, got, tc.want)
		}
	}
	ix.Add("Observation", "bp", nil)
	if got := implausible(ix, rs); len(got) != 0 {
		t.Errorf("deleted: implausible %v", got)
	}
}

// TestRulesChangeReadsAgain: narrowing a plausible range (a new version of
// the rules Library, seen by the watcher) makes the next Sync read the
// record again, so a result that was plausible and so not kept is judged.
func TestRulesChangeReadsAgain(t *testing.T) {
	st := openStore(t)
	writeAll(t, st, append(stay, bpObservation("190"))...)
	rv := chart.NewReviewer(st)
	rv.Now = func() time.Time { return stayNow }
	if err := rv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	st.Watchers = append(st.Watchers, rv.Watcher())
	sum, err := rv.Review(context.Background(), time.Time{}, stayNow)
	if err != nil {
		t.Fatal(err)
	}
	if n := sum.ByKind[chart.KindImplausibleValue]; n != 0 {
		t.Fatalf("systolic 190 under the default rules: %d implausible", n)
	}
	rs := chart.DefaultRules()
	for _, r := range rs.Rules {
		for i := range r.Ranges {
			if r.Ranges[i].Code == "http://loinc.org|8480-6" {
				r.Ranges[i].Max = 180
			}
		}
	}
	out, err := st.PutBatch(sysCtx(), []map[string]any{rs.Library()})
	if err != nil || out[0].Err != nil {
		t.Fatal(err, out[0].Err)
	}
	sum, err = rv.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := sum.ByKind[chart.KindImplausibleValue]; n != 1 {
		t.Errorf("systolic 190 over a maximum of 180: %d implausible, want 1", n)
	}
}

// TestDeliquencyDischargesKeptCurrent counts discharges by month in a zone
// half an hour off UTC as stays are written, moved to another month,
// turned into outpatient visits and deleted.
func TestDeliquencyDischargesKeptCurrent(t *testing.T) {
	st := openStore(t)
	rv := chart.NewReviewer(st)
	rv.Now = func() time.Time { return stayNow }
	if err := rv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	st.Watchers = append(st.Watchers, rv.Watcher())
	stayAt := func(id, class, end string) string {
		return `{"resourceType":"Encounter","id":"` + id + `","status":"finished","class":{"code":"` + class + `"},
		 "subject":{"reference":"Patient/p1"},"period":{"start":"2025-01-01T00:00:00Z","end":"` + end + `"}}`
	}
	kolkata := time.FixedZone("+0530", 5*3600+1800)
	counts := func() []int {
		var out []int
		for _, m := range rv.Delinquency(time.Date(2025, 1, 1, 0, 0, 0, 0, kolkata), time.Date(2025, 3, 31, 0, 0, 0, 0, kolkata), kolkata) {
			out = append(out, m.Discharges)
		}
		return out
	}
	for _, step := range []struct {
		name   string
		bodies []string
		want   []int
	}{
		// 18:29 UTC on 31 January is 23:59 in Kolkata; 18:30 is midnight.
		{"written", []string{stayAt("a", "IMP", "2025-01-31T18:29:00Z"), stayAt("b", "IMP", "2025-01-31T18:30:00Z"), stayAt("c", "AMB", "2025-02-10T10:00:00Z")}, []int{1, 1, 0}},
		{"moved", []string{stayAt("a", "IMP", "2025-03-02T10:00:00Z")}, []int{0, 1, 1}},
		{"outpatient", []string{stayAt("b", "AMB", "2025-01-31T18:30:00Z"), stayAt("c", "IMP", "2025-02-10T10:00:00Z")}, []int{0, 1, 1}},
	} {
		writeAll(t, st, step.bodies...)
		if got := counts(); !slices.Equal(got, step.want) {
			t.Errorf("%s: discharges by month %v, want %v", step.name, got, step.want)
		}
	}
	if _, err := st.Delete(sysCtx(), "Encounter", "a", store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := counts(); !slices.Equal(got, []int{0, 1, 0}) {
		t.Errorf("deleted: discharges by month %v, want [0 1 0]", got)
	}
}
