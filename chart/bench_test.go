package chart_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/custodian-him/custodian/chart"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/synth"
)

// indexWriter indexes generated resources as they are made, so a large
// hospital never sits in memory as JSON.
type indexWriter struct{ ix *chart.Index }

func (w indexWriter) Resource(typ, id string, body []byte) error {
	w.ix.Add(typ, id, body)
	return nil
}
func (w indexWriter) Fact(*synth.Fact) error { return nil }

// BenchmarkFullReview evaluates every encounter of a generated hospital
// (CHART_BENCH_PATIENTS people, default 13,000: about 100,000 encounters).
// One op is one full review.
func BenchmarkFullReview(b *testing.B) {
	n := 13000
	if s := os.Getenv("CHART_BENCH_PATIENTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	rs := chart.DefaultRules()
	ix := chart.NewIndex(rs)
	if _, err := synth.Generate(context.Background(), synth.Config{Patients: n, Seed: 1}, indexWriter{ix}); err != nil {
		b.Fatal(err)
	}
	refs := ix.Encounters()
	b.ResetTimer()
	found := 0
	for range b.N {
		found = 0
		for _, ref := range refs {
			found += len(ix.Evaluate(rs, ref, synthAsOf, nil))
		}
	}
	b.ReportMetric(float64(len(refs)), "encounters")
	b.ReportMetric(float64(found), "deficiencies")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(refs)), "µs/encounter")
}

// BenchmarkWatcher measures what the watcher adds to a write: indexing
// the new version and queueing its encounter (op: one note version), and
// then evaluating that encounter (no Task change to write).
func BenchmarkWatcher(b *testing.B) {
	c := generate(b, 200, 5)
	bodies, _ := inpatientRecords(c)
	st := openStore(b)
	put(b, st, bodies)
	rv := chart.NewReviewer(st)
	rv.Now = func() time.Time { return synthAsOf }
	if err := rv.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	if _, err := rv.Review(context.Background(), time.Time{}, synthAsOf); err != nil {
		b.Fatal(err)
	}
	var notes []*store.Resource
	for i, typ := range c.Types {
		if typ == "DocumentReference" {
			r, err := st.Read(sysCtx(), typ, c.IDs[i])
			if err == nil {
				notes = append(notes, r)
			}
		}
	}
	w := rv.Watcher()
	b.Run("watch", func(b *testing.B) {
		for i := range b.N {
			w(sysCtx(), []*store.Resource{notes[i%len(notes)]})
		}
	})
	b.Run("watch+evaluate", func(b *testing.B) {
		for i := range b.N {
			w(sysCtx(), []*store.Resource{notes[i%len(notes)]})
			if _, err := rv.Sync(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
