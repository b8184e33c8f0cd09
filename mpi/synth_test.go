package mpi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/custodian-him/custodian/mpi"
	"github.com/custodian-him/custodian/synth"
)

// patientsOnly is a synth.Writer that keeps the Patients (as Records) and
// the duplicate and look-alike facts, and drops the clinical data.
type patientsOnly struct {
	t     testing.TB
	recs  []mpi.Record
	facts []synth.Fact
}

func (w *patientsOnly) Resource(typ, id string, body []byte) error {
	if typ != "Patient" {
		return nil
	}
	r, err := mpi.PatientRecord(body)
	if err != nil {
		return err
	}
	w.recs = append(w.recs, r)
	return nil
}

func (w *patientsOnly) Fact(f *synth.Fact) error {
	if f.Kind == synth.FactDuplicate || f.Kind == synth.FactNotDuplicate {
		w.facts = append(w.facts, *f)
	}
	return nil
}

// TestSynthDuplicatesAndTraps deduplicates generated registrations: the
// injected duplicates must be found (F1), and no look-alike pair of
// different people (twins, junior/senior, namesakes) may be linked
// automatically.
func TestSynthDuplicatesAndTraps(t *testing.T) {
	w := &patientsOnly{t: t}
	cfg := synth.Config{Patients: 3000, Seed: 7, DuplicateRate: 0.08, TrapRate: 0.08}
	if _, err := synth.Generate(context.Background(), cfg, w); err != nil {
		t.Fatal(err)
	}
	id := func(ref string) string { return strings.TrimPrefix(ref, "Patient/") }
	truth := map[[2]string]bool{}
	traps := map[[2]string]string{}
	variations := map[[2]string][]string{}
	for _, f := range w.facts {
		k := pairKey(id(f.Patient), id(f.Other))
		if f.Kind == synth.FactDuplicate {
			truth[k] = true
			variations[k] = f.Variations
		} else {
			traps[k] = f.Detail
		}
	}
	res, err := mpi.Dedupe(context.Background(), w.recs, mpi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	blocked := 0
	for _, p := range mpi.CandidateIDs(res) {
		if truth[pairKey(p[0], p[1])] {
			blocked++
		}
	}
	var all, auto score
	wrongAuto, trapAuto := 0, map[string]int{}
	trapReview, trapNon := map[string]int{}, map[string]int{}
	found := map[[2]string]bool{}
	for _, p := range res.Pairs {
		k := pairKey(p.A, p.B)
		if p.Class == mpi.NonMatch {
			if kind, ok := traps[k]; ok {
				trapNon[kind]++
			}
			continue // plainly different people
		}
		if truth[k] {
			all.tp++
			found[k] = true
		} else {
			all.fp++
		}
		if truth[k] && p.Class != mpi.AutoLink {
			t.Logf("duplicate not linked automatically: %v p=%.4f %v", variations[k], p.Probability, p.Class)
		}
		if p.Class == mpi.AutoLink {
			if truth[k] {
				auto.tp++
			} else {
				auto.fp++
				wrongAuto++
				if kind, ok := traps[k]; ok {
					trapAuto[kind]++
				}
				t.Logf("automatic link of different people: %s %s p=%.4f", p.A, p.B, p.Probability)
			}
		}
		if kind, ok := traps[k]; ok && p.Class == mpi.Review {
			trapReview[kind]++
		}
	}
	all.fn = len(truth) - all.tp
	auto.fn = len(truth) - auto.tp
	missed := map[string]int{}
	for k := range truth {
		if !found[k] {
			for _, v := range variations[k] {
				missed[v]++
			}
		}
	}
	t.Logf("%d registrations, %d duplicate pairs, %d look-alike pairs; %d candidates, blocking recall %.4f",
		len(w.recs), len(truth), len(traps), res.Candidates, float64(blocked)/float64(len(truth)))
	t.Logf("link or review: precision %.4f recall %.4f F1 %.4f; automatic links: precision %.4f recall %.4f F1 %.4f",
		all.precision(), all.recall(), all.f1(), auto.precision(), auto.recall(), auto.f1())
	for _, f := range res.Model.Fields {
		t.Logf("%-14s m %.4f", f.Name, f.M)
		t.Logf("%-14s u %.6f", "", f.U)
	}
	t.Logf("lambda %g, %d rounds", res.Model.Lambda, res.Model.Iterations)
	t.Logf("look-alikes sent to review: %v, judged different people: %v; missed duplicates by variation: %v", trapReview, trapNon, missed)
	if wrongAuto > 0 {
		t.Errorf("%d automatic links between different people (look-alikes among them: %v), want 0", wrongAuto, trapAuto)
	}
	// A duplicate is found when it is linked automatically; look-alikes
	// with mixed evidence belong in review, so the review band is judged
	// by its recall only.
	if auto.f1() < 0.98 {
		t.Errorf("F1 of automatic links %.4f, want >= 0.98", auto.f1())
	}
	if all.recall() < 0.98 {
		t.Errorf("recall of link or review %.4f, want >= 0.98", all.recall())
	}
}
