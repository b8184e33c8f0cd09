package main

import (
	"context"
	"log/slog"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/synth"
)

// generated is a hospital the generator made, stored in an app's store.
type generated struct {
	app    *app
	col    synth.Collector
	stored []map[string]any // the resources stored, in the generator's order
}

// storeGenerated generates patients synthetic patients (the seed fixes
// them), opens the app on dir and stores, as the system actor, the
// resources whose type keep accepts (every one when keep is nil). The
// caller closes the app.
func storeGenerated(t *testing.T, dir string, patients int, seed uint64, keep func(typ string) bool) *generated {
	t.Helper()
	ctx := context.Background()
	g := &generated{}
	if _, err := synth.Generate(ctx, synth.Config{Patients: patients, Seed: seed}, &g.col); err != nil {
		t.Fatal(err)
	}
	a, err := openApp(ctx, dir, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	g.app = a
	for i, typ := range g.col.Types {
		if keep != nil && !keep(typ) {
			continue
		}
		m, err := store.Decode(g.col.Bodies[i])
		if err != nil {
			t.Fatal(err)
		}
		g.stored = append(g.stored, m)
	}
	sys := custodian.NewContextWithActor(ctx, custodian.SystemActor())
	for i := 0; i < len(g.stored); i += 500 {
		if _, err := a.store.PutBatch(sys, g.stored[i:min(i+500, len(g.stored))]); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

// except accepts every type but those named.
func except(types ...string) func(string) bool {
	return func(typ string) bool {
		for _, x := range types {
			if x == typ {
				return false
			}
		}
		return true
	}
}

// only accepts the types named.
func only(types ...string) func(string) bool {
	skip := except(types...)
	return func(typ string) bool { return !skip(typ) }
}
