package chart_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian/chart"
	"github.com/custodian-him/custodian/codeset"
	"github.com/custodian-him/custodian/synth"
)

// synthAsOf is the generator's default end date, the data's "as of".
var synthAsOf = time.Date(2025, 9, 30, 0, 0, 0, 0, time.FixedZone("-0500", -5*3600))

func generate(t testing.TB, patients int, seed uint64) *synth.Collector {
	t.Helper()
	var c synth.Collector
	if _, err := synth.Generate(context.Background(), synth.Config{Patients: patients, Seed: seed}, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

// encounterKinds are the kinds a stay has at most one of: they are named
// by the encounter alone (the truth may also name the note concerned).
var encounterKinds = map[string]bool{
	synth.DefMissingDischargeSummary: true, synth.DefLateDischargeSummary: true, synth.DefMissingHP: true, synth.DefLateHP: true,
	synth.DefMissingAttending: true, synth.DefMissingAdmitSource: true, synth.DefMissingDisposition: true,
}

// truthKey and foundKey name a deficiency the same way on both sides:
// kind, encounter, and the day, resource or stated diagnosis concerned.
func truthKey(f *synth.Fact) string {
	switch {
	case f.Detail == synth.DefMissingProgressNote:
		return f.Detail + "|" + f.Encounter + "|" + f.Date
	case encounterKinds[f.Detail]:
		return f.Detail + "|" + f.Encounter
	case f.Detail == synth.DefDxNotCoded:
		return f.Detail + "|" + f.Encounter + "|" + f.Resource + "|" + f.Text
	}
	return f.Detail + "|" + f.Encounter + "|" + f.Resource
}

func foundKey(d *chart.Deficiency) string {
	switch {
	case d.Kind == chart.KindMissingProgressNote:
		return d.Kind + "|" + d.Encounter + "|" + d.Date
	case encounterKinds[d.Kind]:
		return d.Kind + "|" + d.Encounter
	case d.Kind == chart.KindDxNotCoded:
		return d.Kind + "|" + d.Encounter + "|" + d.Focus + "|" + d.Key[strings.LastIndexByte(d.Key, '|')+1:]
	}
	return d.Kind + "|" + d.Encounter + "|" + d.Focus
}

// score compares what was found with the ground truth, per kind, and
// fails the test below 100% precision or recall.
func score(t *testing.T, facts []synth.Fact, found []*chart.Deficiency) {
	t.Helper()
	want := map[string]bool{}
	kinds := map[string]bool{}
	for i := range facts {
		if f := &facts[i]; f.Kind == synth.FactDeficiency {
			want[truthKey(f)] = true
			kinds[f.Detail] = true
		}
	}
	got := map[string]*chart.Deficiency{}
	for _, d := range found {
		got[foundKey(d)] = d
		kinds[d.Kind] = true
	}
	type tally struct{ tp, fp, fn int }
	per := map[string]*tally{}
	for k := range kinds {
		per[k] = &tally{}
	}
	kindOf := func(key string) string { return key[:indexByte(key, '|')] }
	for k := range want {
		if got[k] != nil {
			per[kindOf(k)].tp++
		} else {
			per[kindOf(k)].fn++
			t.Errorf("missed %s", k)
		}
	}
	for k, d := range got {
		if !want[k] {
			per[kindOf(k)].fp++
			t.Errorf("invented %s: %s", k, d.Evidence)
		}
	}
	names := make([]string, 0, len(per))
	for k := range per {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		s := per[k]
		t.Logf("%-28s injected %3d  found %3d  precision %s  recall %s", k, s.tp+s.fn, s.tp+s.fp, pct(s.tp, s.tp+s.fp), pct(s.tp, s.tp+s.fn))
	}
}

func indexByte(s string, c byte) int {
	for i := range len(s) {
		if s[i] == c {
			return i
		}
	}
	return len(s)
}

func pct(a, b int) string {
	if b == 0 {
		return "  n/a"
	}
	return fmt.Sprintf("%5.1f%%", 100*float64(a)/float64(b))
}

// TestEvaluateFindsInjectedDeficiencies runs the default rules in memory,
// with the code sets judging codes by the date of service, over a
// generated hospital: every injected deficiency of every kind is found,
// and nothing else (the generator meets every other rule).
func TestEvaluateFindsInjectedDeficiencies(t *testing.T) {
	c := generate(t, 3000, 11)
	codes, err := codeset.Load()
	if err != nil {
		t.Fatal(err)
	}
	rs := chart.DefaultRules()
	ix := chart.NewIndex(rs)
	for i := range c.Types {
		ix.Add(c.Types[i], c.IDs[i], c.Bodies[i])
	}
	var found []*chart.Deficiency
	for _, ref := range ix.Encounters() {
		found = append(found, ix.Evaluate(rs, ref, synthAsOf, codes)...)
	}
	score(t, c.Facts, found)
	// Every kind the generator injects is in this sample, so each is
	// scored: a kind with no case would pass without testing anything.
	seen := map[string]bool{}
	for _, f := range c.Facts {
		if f.Kind == synth.FactDeficiency {
			seen[f.Detail] = true
		}
	}
	for _, k := range []string{synth.DefMissingDischargeSummary, synth.DefLateDischargeSummary, synth.DefMissingHP, synth.DefLateHP,
		synth.DefMissingProgressNote, synth.DefMissingOperativeNote, synth.DefMissingConsent, synth.DefUnsigned, synth.DefMissingCosignature,
		synth.DefLateOperativeNote, synth.DefLateConsent, synth.DefMissingAttending, synth.DefMissingAdmitSource, synth.DefMissingDisposition,
		synth.DefDatesOutOfOrder, synth.DefImplausibleValue, synth.DefCodeSexConflict, synth.DefCodeAgeConflict, synth.DefCodeInvalidForDate,
		synth.DefDxNotDocumented, synth.DefDxNotCoded, synth.DefUnsignedAmendment} {
		if !seen[k] {
			t.Errorf("no %s injected in the sample", k)
		}
	}
}
