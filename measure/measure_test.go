package measure_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/custodian-him/custodian/store"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/measure"
	"github.com/custodian-him/custodian/synth"
)

var periods = []string{"2022-10-01/2025-09-30", "2023-01-01/2023-12-31", "2024-04-01/2024-06-30"}

func reference(x *refIndex, id, from, to string) []refCase {
	switch id {
	case "readmission-30day":
		return x.readmission(from, to)
	case "mortality-inpatient":
		return x.mortality(from, to, nil)
	case "mortality-ami":
		return x.mortality(from, to, measure.AMI)
	case "mortality-heart-failure":
		return x.mortality(from, to, measure.HeartFailure)
	case "mortality-pneumonia":
		return x.mortality(from, to, measure.Pneumonia)
	case "mortality-stroke":
		return x.mortality(from, to, measure.Stroke)
	case "length-of-stay":
		return x.los(from, to)
	case "hospital-acquired-conditions":
		return x.hac(from, to)
	case "diabetes-hba1c-poor-control":
		return x.diabetes(from, to)
	case "hypertension-controlled":
		return x.hypertension(from, to)
	}
	return nil
}

func keys(cases []measure.CaseRef) []string {
	out := make([]string, 0, len(cases))
	for _, c := range cases {
		k := c.Patient
		if c.Encounter != "" {
			k += "|" + c.Encounter
		}
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func refKeys(cases []refCase, pop string) []string {
	out := []string{}
	for _, c := range cases {
		if c.pops[pop] {
			out = append(out, c.key)
		}
	}
	sort.Strings(out)
	return out
}

func diff(want, got []string) string {
	var missing, extra []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	return fmt.Sprintf("missing %d %.3v, extra %d %.3v", len(missing), missing, len(extra), extra)
}

// TestBuiltinsAgreeWithIndependentComputation evaluates every built-in
// measure on a generated hospital stored in a real store, through the
// record built by the watcher and the one loaded by a scan, and compares
// every population (its cases, not only its count) and the month, sex and
// age-band strata with a plain computation over the raw resources.
func TestBuiltinsAgreeWithIndependentComputation(t *testing.T) {
	f := getFixture(t)
	x := newRefIndex(f.raw)
	ctx := context.Background()
	nonEmpty, denominators := map[string]int{}, map[string]int{}
	for _, def := range measure.Builtins() {
		for _, ps := range periods {
			period, err := measure.ParsePeriod(ps)
			if err != nil {
				t.Fatal(err)
			}
			from, to, _ := strings.Cut(ps, "/")
			want := reference(x, def.ID, from, to)
			for name, rec := range map[string]*measure.Record{"watched": f.watched, "loaded": f.loaded} {
				res, err := measure.Evaluate(ctx, rec, def, period, measure.Options{Lists: true})
				if err != nil {
					t.Fatal(err)
				}
				for _, pop := range res.Populations {
					w, g := refKeys(want, pop.Code), keys(pop.Cases)
					if !slices.Equal(w, g) {
						t.Errorf("%s %s (%s record) %s: want %d, got %d: %s", def.ID, ps, name, pop.Code, len(w), len(g), diff(w, g))
					}
					if pop.Count != len(pop.Cases) {
						t.Errorf("%s %s %s: count %d but %d cases", def.ID, ps, pop.Code, pop.Count, len(pop.Cases))
					}
					if pop.Code == measure.Numerator || pop.Code == measure.MeasurePopulation {
						nonEmpty[def.ID] += pop.Count
					}
					if pop.Code == measure.Denominator {
						denominators[def.ID] += pop.Count
					}
				}
				checkStrata(t, def, ps, res, want)
				if def.Scoring == measure.ContinuousVariable {
					sum := 0.0
					for _, c := range want {
						sum += c.value
					}
					if res.Observed.Count != len(want) || res.Observed.Sum != sum {
						t.Errorf("%s %s: observed %d stays, %v days; want %d, %v", def.ID, ps, res.Observed.Count, res.Observed.Sum, len(want), sum)
					}
				}
			}
		}
	}
	// The data must exercise every measure, or agreement proves little;
	// deaths from one condition are too rare in a small hospital for the
	// condition-specific mortality numerators (their denominators must
	// still be there, and overall mortality has its deaths).
	for _, def := range measure.Builtins() {
		if def.Scoring == measure.Proportion && denominators[def.ID] == 0 {
			t.Errorf("%s: empty denominator in every period", def.ID)
		}
		if strings.HasPrefix(def.ID, "mortality-") && def.ID != "mortality-inpatient" {
			t.Logf("%s: %d deaths over the periods", def.ID, nonEmpty[def.ID])
			continue
		}
		if nonEmpty[def.ID] == 0 {
			t.Errorf("%s: no numerator (or measure population) case in any period: the fixture does not exercise it", def.ID)
		}
	}
}

func checkStrata(t *testing.T, def *measure.Definition, ps string, res *measure.Result, want []refCase) {
	t.Helper()
	for _, s := range res.Strata {
		switch s.Code {
		case "month", "sex", "age-band":
		default:
			continue
		}
		wantCounts := map[string]map[string]int{}
		for _, c := range want {
			v := c.strata[s.Code]
			if wantCounts[v] == nil {
				wantCounts[v] = map[string]int{}
			}
			for pop, in := range c.pops {
				if in {
					wantCounts[v][pop]++
				}
			}
		}
		got := map[string]map[string]int{}
		for _, st := range s.Strata {
			got[st.Value] = map[string]int{}
			for _, p := range st.Populations {
				if p.Count > 0 {
					got[st.Value][p.Code] = p.Count
				}
			}
		}
		if fmt.Sprint(wantCounts) != fmt.Sprint(got) {
			t.Errorf("%s %s stratifier %s:\nwant %v\n got %v", def.ID, ps, s.Code, wantCounts, got)
		}
	}
}

// TestReadmissionsMatchGroundTruth checks the readmission measure against
// what the generator injected: every index stay of an unplanned
// readmission (same registration, index in the denominator) is in the
// numerator, and every stay followed only by a planned one is not.
func TestReadmissionsMatchGroundTruth(t *testing.T) {
	f := getFixture(t)
	def := measure.Find(measure.Builtins(), "readmission-30day")
	period, _ := measure.ParsePeriod("2022-10-01/2025-09-30")
	res, err := measure.Evaluate(context.Background(), f.loaded, def, period, measure.Options{Lists: true})
	if err != nil {
		t.Fatal(err)
	}
	inNum, inDen := map[string]bool{}, map[string]bool{}
	for _, c := range res.Cases(measure.Numerator) {
		inNum["Encounter/"+c.Encounter] = true
	}
	for _, c := range res.Cases(measure.Denominator) {
		inDen["Encounter/"+c.Encounter] = true
	}
	for _, c := range res.Cases(measure.DenominatorExclusion) {
		delete(inDen, "Encounter/"+c.Encounter)
	}
	unplanned := map[string]bool{}
	planned := map[string]bool{}
	for _, fact := range f.facts {
		if fact.Kind != synth.FactReadmission || fact.Patient != fact.Other || !inDen[fact.Prior] {
			continue
		}
		if fact.Detail == "unplanned" {
			unplanned[fact.Prior] = true
		} else {
			planned[fact.Prior] = true
		}
	}
	if len(unplanned) == 0 || len(planned) == 0 {
		t.Fatalf("the fixture has %d unplanned and %d planned readmissions: too few to test", len(unplanned), len(planned))
	}
	for enc := range unplanned {
		if !inNum[enc] {
			t.Errorf("%s was followed by an unplanned readmission but is not in the numerator", enc)
		}
	}
	for enc := range planned {
		if inNum[enc] && !unplanned[enc] {
			t.Errorf("%s was followed only by a planned readmission but is in the numerator", enc)
		}
	}
	t.Logf("ground truth: %d unplanned and %d planned readmissions; numerator %d of %d", len(unplanned), len(planned), res.Count(measure.Numerator), res.Count(measure.Denominator))
}

// TestInHospitalDeathsMatchGroundTruth checks the overall mortality
// numerator against the deaths the generator injected in hospital.
func TestInHospitalDeathsMatchGroundTruth(t *testing.T) {
	f := getFixture(t)
	def := measure.Find(measure.Builtins(), "mortality-inpatient")
	period, _ := measure.ParsePeriod("2022-10-01/2025-09-30")
	res, err := measure.Evaluate(context.Background(), f.loaded, def, period, measure.Options{Lists: true})
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, fact := range f.facts {
		if fact.Kind == synth.FactDeath && fact.Detail == "in-hospital" {
			want = append(want, strings.TrimPrefix(fact.Encounter, "Encounter/"))
		}
	}
	for _, c := range res.Cases(measure.Numerator) {
		got = append(got, c.Encounter)
	}
	sort.Strings(want)
	sort.Strings(got)
	if len(want) == 0 || !slices.Equal(want, got) {
		t.Errorf("in-hospital deaths: %s", diff(want, got))
	}
}

// TestReportsAreValidFHIR renders each report type and the Measure
// resources and validates them against the R4 definitions.
func TestReportsAreValidFHIR(t *testing.T) {
	f := getFixture(t)
	period, _ := measure.ParsePeriod("2023-01-01/2023-12-31")
	defs := fhir.R4()
	var subject string
	for _, e := range f.raw["Encounter"] {
		subject = idOf(str(e, "subject", "reference"))
		break
	}
	for _, def := range measure.Builtins() {
		if issues := defs.Validate(roundTrip(t, def.MeasureResource())); len(issues) > 0 {
			t.Errorf("Measure %s: %v", def.ID, issues)
		}
		for _, rt := range []string{measure.ReportSummary, measure.ReportSubjectList, measure.ReportIndividual} {
			opt := measure.Options{Lists: rt == measure.ReportSubjectList}
			if rt == measure.ReportIndividual {
				opt.Subject = subject
			}
			res, err := measure.Evaluate(context.Background(), f.loaded, def, period, opt)
			if err != nil {
				t.Fatal(err)
			}
			mr, err := res.MeasureReport(rt, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			if issues := defs.Validate(roundTrip(t, mr)); len(issues) > 0 {
				t.Errorf("MeasureReport %s %s: %v", def.ID, rt, issues)
			}
			if rt == measure.ReportSubjectList {
				if c, _ := mr["contained"].([]any); len(c) != len(res.Populations) {
					t.Errorf("%s subject-list: %d contained lists for %d populations", def.ID, len(c), len(res.Populations))
				}
			}
		}
	}
}

// roundTrip gives v as the store would read it (JSON numbers as written).
func roundTrip(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	m, err := store.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

type twoDays struct{}

func (twoDays) Expected(c *measure.Case) (float64, bool) { return 2, c.Encounter.Claim != nil }

// TestObservedOverExpected checks the DRG seam: with expected lengths of
// stay (here two days for every coded stay) the length-of-stay result
// carries observed over expected, and without them it does not.
func TestObservedOverExpected(t *testing.T) {
	f := getFixture(t)
	def := measure.Find(measure.Builtins(), "length-of-stay")
	period, _ := measure.ParsePeriod("2022-10-01/2025-09-30")
	plain, err := measure.Evaluate(context.Background(), f.loaded, def, period, measure.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Observed.HasRatio {
		t.Error("observed/expected without expected values")
	}
	res, err := measure.Evaluate(context.Background(), f.loaded, def, period, measure.Options{Expected: twoDays{}, Lists: true})
	if err != nil {
		t.Fatal(err)
	}
	coded, observed := 0, 0.0
	for _, c := range res.Cases(measure.MeasurePopulation) {
		if _, ok := f.claims[c.Encounter]; ok {
			coded++
			observed += c.Value
		}
	}
	if coded == 0 || res.Observed.ExpectedCount != coded || res.Observed.ExpectedSum != 2*float64(coded) {
		t.Fatalf("expected: %d stays, %v days; want %d, %v", res.Observed.ExpectedCount, res.Observed.ExpectedSum, coded, 2*float64(coded))
	}
	if want := observed / (2 * float64(coded)); !res.Observed.HasRatio || res.Observed.Ratio != want {
		t.Errorf("ratio %v, want %v", res.Observed.Ratio, want)
	}
	mr, _ := res.MeasureReport(measure.ReportSummary, time.Now())
	if _, ok := mr["extension"]; !ok {
		t.Error("the MeasureReport does not carry observed/expected")
	}
}
