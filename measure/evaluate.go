package measure

import (
	"cmp"
	"context"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/custodian-him/custodian"
)

// Options tune an evaluation.
type Options struct {
	// Subject limits the evaluation to one patient (an individual report).
	Subject string
	// Lists keeps the cases behind each population (a subject-list
	// report, and the drill-down of a dashboard).
	Lists bool
	// Expected, if set, gives expected observations for observed/expected
	// (the DRG seam: expected length of stay once DRG weights are loaded).
	Expected Expected
	// Workers is how many goroutines evaluate (default GOMAXPROCS).
	Workers int
	// HideRestricted leaves the cases of restricted patients (see
	// Patient.Restricted) out of the lists, and refuses them as Subject
	// (ENOTFOUND, as the store does): for actors who may not see
	// sensitive records. Counts and scores still include them.
	HideRestricted bool
}

// Result is a measure evaluated over a period.
type Result struct {
	Definition  *Definition
	Period      Period
	Subject     string
	Populations []PopulationResult
	// Score is the proportion (numerator over denominator less
	// exclusions) or, for a continuous variable, the mean observation;
	// HasScore is false when the denominator is empty.
	Score    float64
	HasScore bool
	Observed Observed
	Strata   []StratifierResult
	// Withheld is how many list entries HideRestricted left out.
	Withheld int
	// AsOf is when a Cache evaluated the result (zero from Evaluate).
	AsOf time.Time
}

// PopulationResult is one population's count and (with Options.Lists)
// its cases, sorted by patient and encounter.
type PopulationResult struct {
	Code  string
	Count int
	Cases []CaseRef
}

// CaseRef names a case: its patient id, its encounter id (for
// encounter-based measures), its stratum value under each stratifier (in
// the definition's order) and its observation (continuous variables).
type CaseRef struct {
	Patient, Encounter string
	Strata             []string
	Value              float64
}

// Observed sums a continuous variable's observations, and the expected
// values where Options.Expected knows them.
type Observed struct {
	Count         int
	Sum, Mean     float64
	ExpectedCount int
	ExpectedSum   float64
	// Ratio is observed over expected, over the cases with an expected
	// value (HasRatio false without any).
	Ratio    float64
	HasRatio bool
	obsOfExp float64
}

// StratifierResult is the populations split by one stratifier.
type StratifierResult struct {
	Code, Description string
	Strata            []Stratum
}

// Stratum is one value of a stratifier, with its populations' counts.
type Stratum struct {
	Value       string
	Populations []PopulationResult // counts only
	Score       float64
	HasScore    bool
	Observed    Observed
}

// tally counts one group of cases.
type tally struct {
	counts []int
	obs    Observed
}

func newTally(n int) *tally { return &tally{counts: make([]int, n)} }

func (t *tally) add(member []bool, value float64, observed bool, exp float64, hasExp bool) {
	for i, m := range member {
		if m {
			t.counts[i]++
		}
	}
	if observed {
		t.obs.Count++
		t.obs.Sum += value
		if hasExp {
			t.obs.ExpectedCount++
			t.obs.ExpectedSum += exp
			t.obs.obsOfExp += value
		}
	}
}

func (t *tally) merge(o *tally) {
	for i := range t.counts {
		t.counts[i] += o.counts[i]
	}
	t.obs.Count += o.obs.Count
	t.obs.Sum += o.obs.Sum
	t.obs.ExpectedCount += o.obs.ExpectedCount
	t.obs.ExpectedSum += o.obs.ExpectedSum
	t.obs.obsOfExp += o.obs.obsOfExp
}

// partial is what one worker found.
type partial struct {
	withheld int
	all      *tally
	strata   []map[string]*tally
	lists    [][]CaseRef
}

// Evaluate evaluates def over the record for period. EINVALID if the
// definition lacks an initial population; ENOTFOUND if Options.Subject
// names no patient in the record; EUNAVAILABLE while the record loads.
func Evaluate(ctx context.Context, rec *Record, def *Definition, period Period, opt Options) (*Result, error) {
	if def.population(InitialPopulation) == nil {
		return nil, custodian.Errorf(custodian.EINVALID, "measure %s has no initial population", def.ID)
	}
	if rec.Loading() {
		return nil, custodian.Errorf(custodian.EUNAVAILABLE, "the record is still being read for measures; try again shortly")
	}
	var res *Result
	err := rec.View(func(v *View) error {
		var patients []*Patient
		if opt.Subject != "" {
			p := v.Patient(opt.Subject)
			if p == nil || (opt.HideRestricted && p.Restricted()) {
				return custodian.Errorf(custodian.ENOTFOUND, "Patient/%s is not in the record", opt.Subject)
			}
			patients = []*Patient{p}
		} else {
			patients = make([]*Patient, 0, len(v.r.patients))
			v.Patients(func(p *Patient) bool { patients = append(patients, p); return true })
		}
		parts, err := evaluateAll(ctx, v, def, period, opt, patients)
		if err != nil {
			return err
		}
		res = combine(def, period, opt, parts)
		return nil
	})
	return res, err
}

func evaluateAll(ctx context.Context, v *View, def *Definition, period Period, opt Options, patients []*Patient) ([]*partial, error) {
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(patients)/1024+1))
	parts := make([]*partial, workers)
	var wg sync.WaitGroup
	chunk := (len(patients) + workers - 1) / workers
	for w := range workers {
		lo, hi := w*chunk, min(len(patients), (w+1)*chunk)
		parts[w] = newPartial(def)
		wg.Go(func() {
			ev := evaluator{def: def, period: period, opt: opt, view: v, out: parts[w], idx: indexOf(def)}
			for i, p := range patients[max(lo, 0):max(hi, lo)] {
				if i%4096 == 0 && ctx.Err() != nil {
					return
				}
				ev.patient(p)
			}
		})
	}
	wg.Wait()
	return parts, ctx.Err()
}

func newPartial(def *Definition) *partial {
	p := &partial{all: newTally(len(def.Populations)), lists: make([][]CaseRef, len(def.Populations))}
	for range def.Stratifiers {
		p.strata = append(p.strata, map[string]*tally{})
	}
	return p
}

// evaluator evaluates cases into one partial.
type evaluator struct {
	def    *Definition
	period Period
	opt    Options
	view   *View
	out    *partial
	hidden bool // the current patient's cases are left out of lists
	idx    popIndex
	member []bool
	c      Case
}

func (ev *evaluator) patient(p *Patient) {
	// one Case, reused: criteria must not keep it
	ev.c = Case{Patient: p, Period: ev.period, View: ev.view}
	ev.hidden = ev.opt.Lists && ev.opt.HideRestricted && p.Restricted()
	if ev.def.Basis == BasisEncounter {
		for _, e := range p.Encounters {
			if e.Known {
				ev.c.Encounter = e
				ev.evalCase(&ev.c)
			}
		}
		return
	}
	ev.evalCase(&ev.c)
}

// popIndex holds the position of each population code in a definition
// (-1 when absent).
type popIndex struct{ ip, den, dex, num, mp, mpx int }

func indexOf(def *Definition) popIndex {
	at := func(code string) int {
		return slices.IndexFunc(def.Populations, func(p Population) bool { return p.Code == code })
	}
	return popIndex{at(InitialPopulation), at(Denominator), at(DenominatorExclusion), at(Numerator), at(MeasurePopulation), at(MeasurePopulationExclusion)}
}

// evalCase decides the case's populations, following the FHIR rules: the
// denominator is within the initial population (and is it when the
// measure has none), exclusions within the denominator, and the numerator
// within the denominator less exclusions; for continuous variables the
// measure population less its exclusions is observed.
func (ev *evaluator) evalCase(c *Case) {
	def, x := ev.def, ev.idx
	if ev.member == nil {
		ev.member = make([]bool, len(def.Populations))
	}
	m := ev.member
	clear(m)
	if !def.Populations[x.ip].Criteria.Match(c) {
		return
	}
	m[x.ip] = true
	test := func(i int, within bool) bool {
		if i < 0 {
			return within
		}
		m[i] = within && def.Populations[i].Criteria.Match(c)
		return m[i]
	}
	inDen := test(x.den, true)
	excluded := x.dex >= 0 && test(x.dex, inDen)
	if x.num >= 0 {
		test(x.num, inDen && !excluded)
	}
	inMP := test(x.mp, true)
	mpExcluded := x.mpx >= 0 && test(x.mpx, inMP)
	var value, exp float64
	var observed, hasExp bool
	if def.Scoring == ContinuousVariable && def.Observation != nil && inMP && !mpExcluded {
		value, observed = def.Observation(c)
		if observed && ev.opt.Expected != nil {
			exp, hasExp = ev.opt.Expected.Expected(c)
		}
	}
	ev.out.all.add(m, value, observed, exp, hasExp)
	var strata []string
	for i, s := range def.Stratifiers {
		val := s.Value(c)
		t := ev.out.strata[i][val]
		if t == nil {
			t = newTally(len(m))
			ev.out.strata[i][val] = t
		}
		t.add(m, value, observed, exp, hasExp)
		if ev.opt.Lists {
			strata = append(strata, val)
		}
	}
	if ev.opt.Lists {
		ref := CaseRef{Patient: c.Patient.ID, Strata: strata, Value: value}
		if c.Encounter != nil {
			ref.Encounter = c.Encounter.ID
		}
		for i, ok := range m {
			switch {
			case !ok:
			case ev.hidden:
				ev.out.withheld++
			default:
				ev.out.lists[i] = append(ev.out.lists[i], ref)
			}
		}
	}
}

func combine(def *Definition, period Period, opt Options, parts []*partial) *Result {
	all := newTally(len(def.Populations))
	strata := make([]map[string]*tally, len(def.Stratifiers))
	for i := range strata {
		strata[i] = map[string]*tally{}
	}
	lists := make([][]CaseRef, len(def.Populations))
	withheld := 0
	for _, p := range parts {
		withheld += p.withheld
		all.merge(p.all)
		for i, m := range p.strata {
			for val, t := range m {
				if strata[i][val] == nil {
					strata[i][val] = newTally(len(def.Populations))
				}
				strata[i][val].merge(t)
			}
		}
		for i := range lists {
			lists[i] = append(lists[i], p.lists[i]...)
		}
	}
	res := &Result{Definition: def, Period: period, Subject: opt.Subject, Withheld: withheld}
	for i, pop := range def.Populations {
		pr := PopulationResult{Code: pop.Code, Count: all.counts[i]}
		if opt.Lists {
			pr.Cases = lists[i]
			slices.SortFunc(pr.Cases, func(a, b CaseRef) int {
				return cmp.Or(cmp.Compare(a.Patient, b.Patient), cmp.Compare(a.Encounter, b.Encounter))
			})
			if pr.Cases == nil {
				pr.Cases = []CaseRef{}
			}
		}
		res.Populations = append(res.Populations, pr)
	}
	res.Score, res.HasScore, res.Observed = score(def, all)
	for i, s := range def.Stratifiers {
		sr := StratifierResult{Code: s.Code, Description: s.Description}
		for val, t := range strata[i] {
			st := Stratum{Value: val}
			for j, pop := range def.Populations {
				st.Populations = append(st.Populations, PopulationResult{Code: pop.Code, Count: t.counts[j]})
			}
			st.Score, st.HasScore, st.Observed = score(def, t)
			sr.Strata = append(sr.Strata, st)
		}
		slices.SortFunc(sr.Strata, func(a, b Stratum) int { return cmp.Compare(a.Value, b.Value) })
		res.Strata = append(res.Strata, sr)
	}
	return res
}

// score works out the measure score of a tally.
func score(def *Definition, t *tally) (float64, bool, Observed) {
	count := func(code string) int {
		for i, p := range def.Populations {
			if p.Code == code {
				return t.counts[i]
			}
		}
		return -1
	}
	obs := t.obs
	if obs.Count > 0 {
		obs.Mean = obs.Sum / float64(obs.Count)
	}
	if obs.ExpectedSum > 0 {
		obs.Ratio, obs.HasRatio = obs.obsOfExp/obs.ExpectedSum, true
	}
	switch def.Scoring {
	case ContinuousVariable:
		return obs.Mean, obs.Count > 0, obs
	default:
		den := count(Denominator)
		if den < 0 {
			den = count(InitialPopulation)
		}
		if ex := count(DenominatorExclusion); ex > 0 {
			den -= ex
		}
		if den <= 0 {
			return 0, false, obs
		}
		return float64(count(Numerator)) / float64(den), true, obs
	}
}

// Count returns the count of population code in the result (-1 if the
// measure has no such population).
func (r *Result) Count(code string) int {
	for _, p := range r.Populations {
		if p.Code == code {
			return p.Count
		}
	}
	return -1
}

// Cases returns the cases of population code (with Options.Lists).
func (r *Result) Cases(code string) []CaseRef {
	for _, p := range r.Populations {
		if p.Code == code {
			return p.Cases
		}
	}
	return nil
}
