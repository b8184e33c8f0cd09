package chart_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/chart"
	"github.com/custodian-him/custodian/codeset"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/synth"
)

// openStore returns a real store on a fresh database.
func openStore(t testing.TB) *store.Store {
	t.Helper()
	reg, err := search.NewR4(fhir.R4())
	if err != nil {
		t.Fatal(err)
	}
	db := sqldbtest.Open(t)
	if err := db.RegisterParams(context.Background(), reg.Indexed()); err != nil {
		t.Fatal(err)
	}
	return store.New(db, fhir.R4(), reg)
}

func sysCtx() context.Context {
	return custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
}

// put stores resources (compact JSON) in batches.
func put(t testing.TB, st *store.Store, bodies [][]byte) {
	t.Helper()
	for i := 0; i < len(bodies); i += 500 {
		var batch []map[string]any
		for _, b := range bodies[i:min(i+500, len(bodies))] {
			m, err := store.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			batch = append(batch, m)
		}
		res, err := st.PutBatch(sysCtx(), batch)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
	}
}

// inpatientRecords keeps, of a generated hospital, what the chart rules
// read about inpatient stays (the practitioners' roles, the patients, the
// stays and their diagnoses, procedures, consents, notes and vital signs)
// and the facts about them.
func inpatientRecords(c *synth.Collector) (bodies [][]byte, facts []synth.Fact) {
	stays := map[string]bool{}
	for i, typ := range c.Types {
		if typ == "Encounter" && strings.Contains(string(c.Bodies[i]), `"code":"IMP"`) {
			stays["Encounter/"+c.IDs[i]] = true
		}
	}
	procs := map[string]bool{}
	var ref struct {
		Encounter *struct{ Reference string } `json:"encounter"`
		Context   *struct {
			Encounter []struct{ Reference string } `json:"encounter"`
		} `json:"context"`
		Provision *struct {
			Data []struct{ Reference struct{ Reference string } } `json:"data"`
		} `json:"provision"`
	}
	for i, typ := range c.Types {
		keep := false
		switch typ {
		case "PractitionerRole", "Patient":
			keep = true
		case "Encounter":
			keep = stays["Encounter/"+c.IDs[i]]
		case "Condition", "Procedure", "Observation", "DocumentReference", "Consent":
			ref.Encounter, ref.Context, ref.Provision = nil, nil, nil
			json.Unmarshal(c.Bodies[i], &ref)
			switch {
			case ref.Encounter != nil:
				keep = stays[ref.Encounter.Reference]
			case ref.Context != nil && len(ref.Context.Encounter) > 0:
				keep = stays[ref.Context.Encounter[0].Reference]
			case ref.Provision != nil && len(ref.Provision.Data) > 0:
				keep = procs[ref.Provision.Data[0].Reference.Reference]
			}
			if typ == "Procedure" && keep {
				procs["Procedure/"+c.IDs[i]] = true
			}
			if typ == "Observation" && keep && !strings.Contains(string(c.Bodies[i]), "vital-signs") {
				keep = false // laboratory results are many and add nothing the vital signs do not
			}
		}
		if keep {
			bodies = append(bodies, c.Bodies[i])
		}
	}
	for _, f := range c.Facts {
		if f.Kind == synth.FactDeficiency && stays[f.Encounter] {
			facts = append(facts, f)
		}
	}
	return bodies, facts
}

// TestReviewThroughStore loads generated stays into a real store, reviews
// them, and scores the Tasks written against the ground truth.
func TestReviewThroughStore(t *testing.T) {
	c := generate(t, 500, 5)
	bodies, facts := inpatientRecords(c)
	st := openStore(t)
	start := time.Now()
	put(t, st, bodies)
	t.Logf("loaded %d resources in %s", len(bodies), time.Since(start).Round(time.Millisecond))

	rv := chart.NewReviewer(st)
	rv.Now = func() time.Time { return synthAsOf }
	codes, err := codeset.Load()
	if err != nil {
		t.Fatal(err)
	}
	rv.Codes = codes // as serve wires it: codes judged by the date of service
	if err := rv.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	sum, err := rv.Review(context.Background(), time.Time{}, synthAsOf)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("review: %+v", sum)
	if sum.Created == 0 || sum.Updated+sum.Closed+sum.Reopened != 0 {
		t.Errorf("first review: %+v, want only creations", sum)
	}
	// The Tasks in the store are the deficiencies found.
	tasks := storedTasks(t, st)
	var found []*chart.Deficiency
	for _, tk := range tasks {
		found = append(found, tk)
	}
	score(t, facts, found)

	// The queues and reports agree with the review.
	q := rv.Queue(chart.QueueFilter{})
	if len(q) != sum.Open {
		t.Errorf("queue has %d items, review found %d open", len(q), sum.Open)
	}
	open, delinquent := 0, 0
	for _, x := range rv.Tallies() {
		open += x.Open
		delinquent += x.Delinquent
		for _, it := range rv.ClinicianList(x.Owner) {
			if x.Owner != "" && it.Owner != x.Owner {
				t.Errorf("%s's list has %s's item %s", x.Owner, it.Owner, it.Key)
			}
		}
	}
	if open != sum.Open || delinquent == 0 {
		t.Errorf("tallies: %d open, %d delinquent; review found %d open", open, delinquent, sum.Open)
	}
	for i := 1; i < len(q); i++ {
		if q[i].Since.Before(q[i-1].Since) {
			t.Errorf("queue not oldest first at %d", i)
		}
	}
	months := rv.Delinquency(synthAsOf.AddDate(-3, 0, 0), synthAsOf.AddDate(0, 0, -1), nil)
	discharges := 0
	for _, m := range months {
		discharges += m.Discharges
	}
	if len(months) < 36 || discharges != sum.Encounters || months[len(months)-2].Delinquent == 0 {
		t.Errorf("delinquency: %d months, %d discharges (review: %d stays), last months %+v %+v", len(months), discharges, sum.Encounters, months[len(months)-2], months[len(months)-1])
	}

	// A second review changes nothing.
	sum, err = rv.Review(context.Background(), time.Time{}, synthAsOf)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Created+sum.Updated+sum.Closed+sum.Reopened != 0 {
		t.Errorf("second review changed Tasks: %+v", sum)
	}
}

// storedTasks reads back every chart Task from the store.
func storedTasks(t testing.TB, st *store.Store) map[string]*chart.Deficiency {
	t.Helper()
	out := map[string]*chart.Deficiency{}
	cursor := ""
	for {
		p, err := st.Search(sysCtx(), &store.Query{Types: []string{"Task"}, Count: 500, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Resources {
			d, status, ok := chart.TaskDeficiency(r.Body)
			if !ok {
				t.Fatalf("Task %s is not a chart deficiency", r.ID)
			}
			if status == chart.StatusCancelled || (status == chart.StatusCompleted && !strings.HasPrefix(d.Kind, "late-")) {
				continue
			}
			out[d.Key] = d
		}
		if p.Next == "" {
			return out
		}
		cursor = p.Next
	}
}

func custodianCode(err error) string { return custodian.ErrorCode(err) }
