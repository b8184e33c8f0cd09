package measure_test

import (
	"context"
	"testing"
	"time"

	"github.com/custodian-him/custodian/measure"
	"github.com/custodian-him/custodian/store"
)

// stay stores an inpatient stay (and its patient) discharged in March 2024.
func stay(t *testing.T, rec *measure.Record, id string) {
	t.Helper()
	if err := rec.Put("Patient", id, 1, []byte(`{"resourceType":"Patient","id":"`+id+`","birthDate":"1950-01-01","gender":"male"}`)); err != nil {
		t.Fatal(err)
	}
	if err := rec.Put("Encounter", id+"-e", 1, []byte(`{"resourceType":"Encounter","id":"`+id+`-e","status":"finished","class":{"code":"IMP"},
		"subject":{"reference":"Patient/`+id+`"},"period":{"start":"2024-03-01","end":"2024-03-04"}}`)); err != nil {
		t.Fatal(err)
	}
}

func TestCacheKeepsUntilTheRecordChanges(t *testing.T) {
	def := measure.Find(measure.Builtins(), "length-of-stay")
	period, _ := measure.ParsePeriod("2024-01-01/2024-12-31")
	other, _ := measure.ParsePeriod("2024-01-01/2024-06-30")
	ctx := context.Background()
	tests := []struct {
		name  string
		stale time.Duration
		// wantAfter is the count answered right after a second stay is
		// written: 1 when the kept result may still be answered.
		wantAfter int
	}{
		{"evaluated again at once", -1, 2},
		{"kept while a fresh one is evaluated", time.Hour, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := measure.NewRecord()
			stay(t, rec, "p1")
			c := &measure.Cache{Record: rec, Stale: tc.stale}
			a, err := c.Evaluate(ctx, def, period, measure.Options{})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := c.Evaluate(ctx, def, period, measure.Options{})
			if a != b || a.AsOf.IsZero() {
				t.Fatalf("the second view evaluated again (or AsOf unset: %v)", a.AsOf)
			}
			if o, _ := c.Evaluate(ctx, def, other, measure.Options{}); o == a {
				t.Fatal("another period answered with the same result")
			}
			if l, _ := c.Evaluate(ctx, def, period, measure.Options{Lists: true}); l == a || len(l.Cases(measure.InitialPopulation)) != 1 {
				t.Fatal("a result with lists answered by one without")
			}
			// A write seen by the record's watcher.
			rec.Watcher()(ctx, []*store.Resource{{Type: "Patient", ID: "p2", VersionID: 1,
				Body: []byte(`{"resourceType":"Patient","id":"p2","birthDate":"1960-01-01","gender":"female"}`)}})
			stay(t, rec, "p2")
			got, err := c.Evaluate(ctx, def, period, measure.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if n := got.Count(measure.InitialPopulation); n != tc.wantAfter {
				t.Fatalf("after a change: %d stays, want %d", n, tc.wantAfter)
			}
			// Either way the fresh result comes.
			deadline := time.Now().Add(5 * time.Second)
			for got.Count(measure.InitialPopulation) != 2 {
				if time.Now().After(deadline) {
					t.Fatal("the fresh result never came")
				}
				time.Sleep(5 * time.Millisecond)
				got, _ = c.Evaluate(ctx, def, period, measure.Options{})
			}
		})
	}
}

func TestCacheDropsLeastRecentlyUsed(t *testing.T) {
	rec := measure.NewRecord()
	stay(t, rec, "p1")
	defs := measure.Builtins()
	period, _ := measure.ParsePeriod("2024-01-01/2024-12-31")
	c := &measure.Cache{Record: rec, Max: 2}
	ctx := context.Background()
	first, _ := c.Evaluate(ctx, defs[0], period, measure.Options{})
	c.Evaluate(ctx, defs[1], period, measure.Options{})
	c.Evaluate(ctx, defs[2], period, measure.Options{})
	if again, _ := c.Evaluate(ctx, defs[0], period, measure.Options{}); again == first {
		t.Error("the least recently used result was kept past Max")
	}
}

func TestEncounterClasses(t *testing.T) {
	rec := measure.NewRecord()
	stay(t, rec, "p1")
	put := func(id, class, meta string) {
		t.Helper()
		if err := rec.Put("Encounter", id, 1, []byte(`{"resourceType":"Encounter",`+meta+`"id":"`+id+`","status":"finished","class":{"code":"`+class+`"},"subject":{"reference":"Patient/p1"}}`)); err != nil {
			t.Fatal(err)
		}
	}
	put("a1", "AMB", "")
	put("a2", "AMB", `"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}]},`)
	for _, tc := range []struct {
		sensitive bool
		want      map[string]int64
	}{
		{false, map[string]int64{"IMP": 1, "AMB": 1}},
		{true, map[string]int64{"IMP": 1, "AMB": 2}},
	} {
		got, err := rec.EncounterClasses(tc.sensitive)
		if err != nil || len(got) != len(tc.want) || got["IMP"] != tc.want["IMP"] || got["AMB"] != tc.want["AMB"] {
			t.Errorf("sensitive %v: %v, %v; want %v", tc.sensitive, got, err, tc.want)
		}
	}
	put("a3", "AMB", "") // kept counts follow the record
	if got, _ := rec.EncounterClasses(false); got["AMB"] != 2 {
		t.Errorf("after a new encounter: %v", got)
	}
	loading := measure.NewRecord()
	loading.MarkLoading()
	if _, err := loading.EncounterClasses(true); err == nil {
		t.Error("counts while the record is being read")
	}
}
