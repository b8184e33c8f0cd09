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
