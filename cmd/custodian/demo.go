package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/synth"
)

// demoBatch is how many resources the demo loader writes at a time.
const demoBatch = 1000

// loadDemo fills an empty store with a generated hospital of n patients
// (seed 1, so every demo is the same hospital). A store that already holds
// patients is left alone.
func loadDemo(ctx context.Context, st *store.Store, n int, out io.Writer) error {
	ctx = custodian.NewContextWithActor(ctx, &custodian.Actor{ID: "demo-loader", Kind: "system"})
	q := &store.Query{Types: []string{"Patient"}, Count: 0, CountTotal: true}
	page, err := st.Search(ctx, q)
	if err != nil {
		return err
	}
	if page.Total > 0 {
		return nil
	}
	fmt.Fprintf(out, "First start with --demo: generating a synthetic hospital of %d patients and loading it…\n", n)
	start := time.Now()
	l := &demoLoader{ctx: ctx, st: st}
	sum, err := synth.Generate(ctx, synth.Config{Patients: n, Seed: 1}, l)
	if err == nil {
		err = l.flush()
	}
	if err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	fmt.Fprintf(out, "Loaded %d resources (%d rejected) for %d patients in %s.\n", l.loaded, l.rejected, sum.Patients, time.Since(start).Round(time.Millisecond))
	return nil
}

// demoLoader is a synth.Writer that stores what the generator makes.
type demoLoader struct {
	ctx              context.Context
	st               *store.Store
	batch            []map[string]any
	loaded, rejected int
}

func (l *demoLoader) Resource(_, _ string, body []byte) error {
	res, err := store.Decode(body) // Decode copies: body is reused after this call
	if err != nil {
		return err
	}
	l.batch = append(l.batch, res)
	if len(l.batch) >= demoBatch {
		return l.flush()
	}
	return nil
}

func (l *demoLoader) Fact(*synth.Fact) error { return nil }

func (l *demoLoader) flush() error {
	if len(l.batch) == 0 {
		return nil
	}
	results, err := l.st.PutBatch(l.ctx, l.batch)
	if err != nil {
		return err
	}
	for _, r := range results {
		if r.Err != nil {
			l.rejected++
		} else {
			l.loaded++
		}
	}
	l.batch = l.batch[:0]
	return nil
}
