package mpi

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
)

// Class is what to do with a scored pair.
type Class int

// The three outcomes of Fellegi-Sunter matching.
const (
	NonMatch Class = iota // below the review threshold, or plainly different people
	Review                // a person decides (also: a likely match with conflicting evidence)
	AutoLink              // the same person, linked automatically
)

func (c Class) String() string {
	switch c {
	case AutoLink:
		return "link"
	case Review:
		return "review"
	}
	return "non-match"
}

// FieldModel holds one compared field's agreement levels with their m
// probability (among pairs of records of the same person) and u
// probability (among pairs of different people).
type FieldModel struct {
	Name   string
	Levels []string
	M, U   []float64
}

// Model is a fitted Fellegi-Sunter model with its decision thresholds.
type Model struct {
	Fields [numFields]FieldModel
	// Lambda is the probability that two records drawn at random are of
	// the same person: the prior every match probability starts from.
	// EM estimates the share of matches among the blocked pairs; Lambda
	// is that share times the blocked pairs over all pairs.
	Lambda float64
	// LinkThreshold and ReviewThreshold are match probabilities: at or
	// above LinkThreshold (with no conflict) a pair is linked
	// automatically, at or above ReviewThreshold it goes to review.
	LinkThreshold, ReviewThreshold float64
	// Iterations is how many EM rounds the fit took.
	Iterations int

	weights    [numFields][]float64 // log2(m/u) per level
	priorOdds  float64              // log2(Lambda / (1-Lambda))
	logU0Given float64
	logU0Fam   float64
	logM0Given float64
	logM0Fam   float64
	logU0Mid   float64
}

// Default thresholds (match probabilities).
const (
	DefaultLinkThreshold   = 0.99
	DefaultReviewThreshold = 0.5
)

const (
	minProb  = 1e-4 // floor of m and u: no level is impossible
	minU     = 1e-9 // floor of u for exact agreement on identifiers
	emRounds = 200
)

// prepare computes the weights from M and U.
func (m *Model) prepare() {
	for f := range m.Fields {
		fm := &m.Fields[f]
		m.weights[f] = make([]float64, len(fm.M))
		for l := range fm.M {
			m.weights[f][l] = math.Log2(fm.M[l] / fm.U[l])
		}
	}
	m.priorOdds = math.Log2(m.Lambda / (1 - m.Lambda))
	m.logU0Given, m.logM0Given = math.Log2(m.Fields[fGiven].U[0]), math.Log2(m.Fields[fGiven].M[0])
	m.logU0Fam, m.logM0Fam = math.Log2(m.Fields[fFamily].U[0]), math.Log2(m.Fields[fFamily].M[0])
	m.logU0Mid = math.Log2(m.Fields[fMiddle].U[0])
}

// patternWeight is the sum of the level weights of v, without the prior
// and without term-frequency adjustment.
func (m *Model) patternWeight(v vector) float64 {
	w := 0.0
	for f := 0; f < numFields; f++ {
		if l := v.level(f); l != null {
			w += m.weights[f][l]
		}
	}
	return w
}

// population counts the values of the term-frequency adjusted fields,
// and of SSNs (an identifier two people share is weak evidence).
type population struct {
	given, family, middle, ssn map[string]int32
	nGiven, nFam, nMiddle      int
}

func newPopulation() *population {
	return &population{given: map[string]int32{}, family: map[string]int32{}, middle: map[string]int32{}, ssn: map[string]int32{}}
}

func (p *population) add(e *entry, delta int32) {
	if e.ssn != "" {
		p.ssn[e.ssn] += delta
		if p.ssn[e.ssn] <= 0 {
			delete(p.ssn, e.ssn)
		}
	}
	if e.first != "" {
		p.given[e.first] += delta
		p.nGiven += int(delta)
	}
	if e.family != "" {
		p.family[e.family] += delta
		p.nFam += int(delta)
	}
	if len(e.middle) > 1 {
		p.middle[e.middle] += delta
		p.nMiddle += int(delta)
	}
}

// minTFPopulation is the fewest values a term frequency is taken from;
// below it the frequencies say more about chance than about names.
const minTFPopulation = 1000

// tf is the probability that a random other record has value v, given
// that one record has it: (count-1)/(n-1), at least 1/(n-1); 0 (no
// adjustment) in a small population.
func tf(counts map[string]int32, n int, v string) float64 {
	if n < minTFPopulation {
		return 0
	}
	c := float64(counts[v]) - 1
	if c < 1 {
		c = 1
	}
	return c / float64(n-1)
}

// tfAdjust is the change in weight when an exact agreement on a name is
// judged by that name's own frequency rather than the average u.
func (m *Model) tfAdjust(v vector, a *entry, p *population) float64 {
	adj := 0.0
	if p == nil {
		return 0
	}
	if v.level(fGiven) == 0 && a.first != "" {
		if t := tf(p.given, p.nGiven, a.first); t > 0 {
			adj += m.logU0Given - math.Log2(t)
		}
	}
	if v.level(fFamily) == 0 && a.family != "" {
		if t := tf(p.family, p.nFam, a.family); t > 0 {
			adj += m.logU0Fam - math.Log2(t)
		}
	}
	if v.level(fMiddle) == 0 && a.middle != "" {
		if t := tf(p.middle, p.nMiddle, a.middle); t > 0 {
			adj += m.logU0Mid - math.Log2(t)
		}
	}
	return adj
}

// conflict reports evidence that tells look-alike people apart. A pair
// with a conflict is never linked automatically: twins, a junior and a
// senior, namesakes who share an address go to review at most.
//
// Hard conflicts: a different sex or SSN, a birth date more than a year
// away and not one typo from the other, a first name that is neither the
// same, a nickname, one typo away nor alike, different generational
// suffixes. Soft conflicts, which an agreeing SSN together with the same
// phone or street outweighs (an SSN alone is shared by chance, by mistake
// or within families more often than its rarity suggests): a birth date
// only partly the same or within a year, a first name that is only alike
// (or an initial, or the other's middle name), middle names that differ
// by more than one typo, a family name more than one typo away (a
// marriage, or another person with the same first name and birthday)
// with neither SSN nor phone agreeing.
//
// Two exceptions, both judged against the population p. An SSN that no
// third record has, agreeing with the same first name (or a nickname or
// one typo) and birth date (or one keying error), outweighs the soft
// conflicts: a married name with a new address is still one person,
// and two people who share an identifier by mistake do not also share a
// first name and birthday. And a short first name one keying error from
// the other (Ivy and Iby) is a typo, not a second person, when one of the
// two spellings is rare (twoNames decides).
func conflict(v vector, a, b *entry, p *population) bool {
	birth, given := v.level(fBirth), v.level(fGiven)
	// Birth dates in different years a generation apart (a junior and a
	// senior) are a hard conflict; within a year of each other (two
	// errors, such as a transposition and a mistyped year) a soft one.
	farBirth := birth == 3 && (a.year-b.year > 1 || b.year-a.year > 1)
	if farBirth || given == 4 || v.level(fSex) == 1 || v.level(fSSN) == 2 {
		return true
	}
	if a.suffix != b.suffix && a.suffix != "" && b.suffix != "" {
		return true
	}
	if v.level(fSSN) == 0 && (v.level(fPhone) == 0 || v.level(fStreet) == 0) {
		return false
	}
	if v.level(fSSN) == 0 && p != nil && p.ssn[a.ssn] <= 2 && given <= 2 && birth <= 1 {
		return false
	}
	if birth >= 2 && birth != null {
		return true
	}
	if given == 3 && !typoName(a, b, p) {
		return true
	}
	if a.middle != "" && b.middle != "" && a.middle[0] != b.middle[0] {
		return true // middle names that do not even share an initial
	}
	if len(a.middle) > 1 && len(b.middle) > 1 && !withinOneEdit(a.middle, b.middle) && JaroWinkler(a.middle, b.middle) < 0.92 {
		return true
	}
	if l := v.level(fFamily); l != null && l >= 2 && v.level(fPhone) != 0 {
		return true
	}
	return false
}

// typoName reports first names at least two letters long, one keying
// error apart, of which one spelling is rare in p: a mistyped name (Raj
// and Rj, Mia and Mai), where two names both in common use (Ava and Eva)
// may be two people.
func typoName(a, b *entry, p *population) bool {
	if p == nil || p.nGiven < minTFPopulation || min(len(a.first), len(b.first)) < 2 || !withinOneEdit(a.first, b.first) {
		return false
	}
	return !commonName(a.first, p) || !commonName(b.first, p)
}

// commonName reports whether first is a name of its own in p rather than
// a misspelling (see nameShare).
func commonName(first string, p *population) bool {
	return p.given[first] >= int32(max(5, p.nGiven/nameShare))
}

// A spelling counts as a name of its own rather than a typo when at
// least one in nameShare records has it (and at least 5 do): mistyped
// names are each rare, real names are not.
const nameShare = 20000

// twoNames reports first names one typo apart that are both common in the
// population, with no SSN agreeing: two names (Louis and Luis, twins at
// one address), not one name mistyped, which would be rare.
func twoNames(v vector, a, b *entry, p *population) bool {
	if v.level(fGiven) != 2 || v.level(fSSN) == 0 || p == nil || p.nGiven < minTFPopulation {
		return false
	}
	return commonName(a.first, p) && commonName(b.first, p)
}

// uncorroboratedFactor is how much surer the model must be to link a pair
// automatically when nothing but demographics agree (no SSN, phone,
// address or email): names, sex and birth date are what namesakes born on
// the same day share, and in a large index there are such pairs. A middle
// name is demographics too (weighed in the score by how common it is): a
// handful of middle names are shared by a large part of the population.
const uncorroboratedFactor = 256

// corroborated reports whether an identifier, a phone, the address or an
// email address agrees. (Email is no evidence of its own
// — a family shares one, and one made of a name is shared by namesakes —
// but two namesakes born on the same day who also share an email address
// are rare.)
func corroborated(v vector, a, b *entry) bool {
	if v.level(fSSN) == 0 || v.level(fPhone) == 0 || (a.email != "" && a.email == b.email) {
		return true
	}
	street, number := v.level(fStreet), v.level(fNumber)
	if street == 0 && number != 1 {
		return true
	}
	return number == 0 && (street <= 1 || v.level(fLocality) <= 1)
}

// score returns the match weight (log2 odds) and probability of a pair.
func (m *Model) score(v vector, a, b *entry, p *population) (weight, prob float64) {
	weight = m.priorOdds + m.patternWeight(v) + m.tfAdjust(v, a, p)
	return weight, 1 / (1 + math.Exp2(-weight))
}

// classify turns a probability into a class.
func (m *Model) classify(prob float64, v vector, a, b *entry, p *population) Class {
	switch {
	case prob >= m.LinkThreshold && !conflict(v, a, b, p) && !twoNames(v, a, b, p) &&
		(corroborated(v, a, b) || prob >= 1-(1-m.LinkThreshold)/uncorroboratedFactor):
		return AutoLink
	case prob >= m.ReviewThreshold && !plainlyDifferent(v, a, b) && !(prob < m.LinkThreshold && conflict(v, a, b, p) && uncorroborated(v, a, b)):
		return Review
	}
	return NonMatch
}

// uncorroborated reports a pair on which nothing but demographics agree
// (corroborated fails, and no SSN agrees even with a typo). With a
// conflict as well — the same first name and birthday but another family
// name and home, the same name but another birth date — and a probability
// short of the link threshold, such a pair is what chance makes in a
// large index (at a million records, tens of thousands of such pairs
// against a few dozen duplicates) and no candidate for review.
func uncorroborated(v vector, a, b *entry) bool {
	ssn := v.level(fSSN)
	return ssn != 0 && ssn != 1 && !corroborated(v, a, b)
}

// plainlyDifferent reports a pair whose first names differ outright
// (not a nickname, typo, initial or alike), whose sex differs or whose
// birth dates are more than a year apart, and whose SSNs do not agree: a spouse, or a parent and
// child, however much else (address, phone, family name) the household
// shares. Such a pair is no candidate at all. Other conflicts are mixed
// evidence that a person decides: twins (another first name, and often
// another SSN, but one birth date, address and family name), a junior
// and a senior (one name, births decades apart), a keying error in the
// sex or the SSN.
func plainlyDifferent(v vector, a, b *entry) bool {
	if ssn := v.level(fSSN); v.level(fGiven) != 4 || ssn == 0 || ssn == 1 {
		return false // an agreeing SSN makes the rest keying errors to look at
	}
	farBirth := v.level(fBirth) == 3 && (a.year-b.year > 1 || b.year-a.year > 1)
	return farBirth || v.level(fSex) == 1
}

// exactKey is the value whose equality makes level 0 of field f, for
// estimating u of exact agreement from value frequencies.
func exactKeys(f int, e *entry, out []string) []string {
	switch f {
	case fGiven:
		return append(out, e.first)
	case fFamily:
		return append(out, e.family)
	case fBirth:
		return append(out, e.dob)
	case fSex:
		if e.sex != 0 {
			return append(out, string(e.sex))
		}
	case fNumber:
		return append(out, e.number)
	case fStreet:
		return append(out, e.streetKey)
	case fLocality:
		if e.postcode != "" && e.city != "" {
			return append(out, e.postcode+"|"+e.city)
		}
	case fPhone:
		return append(out, e.phones...)
	case fSSN:
		return append(out, e.ssn)
	case fMiddle:
		if len(e.middle) > 1 {
			return append(out, e.middle)
		}
	}
	return out
}

// estimateU estimates u: exact agreement from value frequencies (the
// chance two random records share a value), the other levels from the
// comparison of random pairs.
func estimateU(es []entry, samples int, seed uint64) [numFields][]float64 {
	var u [numFields][]float64
	// Random pairs.
	var counts [numFields][]float64
	for f := range counts {
		counts[f] = make([]float64, len(fieldInfo[f].levels))
	}
	n := len(es)
	if n >= 2 {
		total := n * (n - 1) / 2
		workers := runtime.GOMAXPROCS(0)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				var local [numFields][]float64
				for f := range local {
					local[f] = make([]float64, len(fieldInfo[f].levels))
				}
				add := func(i, j int) {
					v := compare(&es[i], &es[j])
					for f := 0; f < numFields; f++ {
						if l := v.level(f); l != null {
							local[f][l]++
						}
					}
				}
				if total <= samples {
					for i := w; i < n; i += workers {
						for j := i + 1; j < n; j++ {
							add(i, j)
						}
					}
				} else {
					r := rand.New(rand.NewPCG(seed, uint64(w)))
					for k := w; k < samples; k += workers {
						i, j := r.IntN(n), r.IntN(n)
						if i != j {
							add(i, j)
						}
					}
				}
				mu.Lock()
				for f := range local {
					for l := range local[f] {
						counts[f][l] += local[f][l]
					}
				}
				mu.Unlock()
			}(w)
		}
		wg.Wait()
	}
	// Exact agreement from value frequencies, one field per worker.
	u0s := make([]float64, numFields)
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for f := 0; f < numFields; f++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			u0s[f] = exactU(es, f)
		}()
	}
	wg.Wait()
	for f := 0; f < numFields; f++ {
		u0 := u0s[f]
		levels := len(fieldInfo[f].levels)
		u[f] = make([]float64, levels)
		u[f][0] = u0
		rest := 0.0
		for l := 1; l < levels; l++ {
			rest += counts[f][l] + 0.5
		}
		for l := 1; l < levels; l++ {
			u[f][l] = max((1-u0)*(counts[f][l]+0.5)/rest, minU)
		}
	}
	return u
}

// exactU is the chance that two random records agree exactly on field f:
// the sum over its values of c(c-1), over n(n-1).
func exactU(es []entry, f int) float64 {
	vals := map[string]int{}
	nn := 0
	var keys []string
	for i := range es {
		keys = exactKeys(f, &es[i], keys[:0])
		for _, k := range keys {
			if k != "" {
				vals[k]++
				nn++
			}
		}
	}
	if nn <= 1 {
		return minU
	}
	s := 0.0
	for _, c := range vals {
		s += float64(c) * float64(c-1)
	}
	return max(s/(float64(nn)*float64(nn-1)), minU)
}

// maxDifferent caps m of the "different" level of the fields that tell
// people apart. It is the one piece of prior knowledge the fit uses (no
// labels): one person's records rarely carry two plainly different
// birth dates, sexes, SSNs, first or middle names. Without it EM may take a
// cluster of look-alike different people (twins, a household) for the
// matches, since they agree on everything else.
var maxDifferent = map[int]float64{fGiven: 0.05, fBirth: 0.05, fSex: 0.02, fSSN: 0.02, fMiddle: 0.05}

// fitEM estimates m and the match share lambda by expectation
// maximisation over the comparison vectors of the candidate pairs (with
// their counts), u held fixed. No labels are used.
func fitEM(patterns map[vector]int, u [numFields][]float64) (m [numFields][]float64, lambda float64, rounds int) {
	for f := range m {
		levels := len(u[f])
		m[f] = make([]float64, levels)
		m[f][0] = 0.8
		rest := 0.0
		for l := 1; l < levels; l++ {
			rest += math.Exp2(-float64(l))
		}
		for l := 1; l < levels; l++ {
			m[f][l] = 0.2 * math.Exp2(-float64(l)) / rest
		}
	}
	lambda = 0.1
	type pat struct {
		v vector
		n float64
	}
	pats := make([]pat, 0, len(patterns))
	for v, n := range patterns {
		pats = append(pats, pat{v, float64(n)})
	}
	logU := func(v vector) float64 {
		s := 0.0
		for f := 0; f < numFields; f++ {
			if l := v.level(f); l != null {
				s += math.Log(u[f][l])
			}
		}
		return s
	}
	lu := make([]float64, len(pats))
	for i, p := range pats {
		lu[i] = logU(p.v)
	}
	var num [numFields][]float64
	var den [numFields]float64
	for f := range num {
		num[f] = make([]float64, len(u[f]))
	}
	for rounds = 1; rounds <= emRounds; rounds++ {
		for f := range num {
			clear(num[f])
			den[f] = 0
		}
		matches, total := 0.0, 0.0
		for i, p := range pats {
			lm := 0.0
			for f := 0; f < numFields; f++ {
				if l := p.v.level(f); l != null {
					lm += math.Log(m[f][l])
				}
			}
			// Posterior probability that the pattern is a match.
			x := math.Log(lambda) + lm - math.Log(1-lambda) - lu[i]
			g := 1 / (1 + math.Exp(-x))
			gw := g * p.n
			matches += gw
			total += p.n
			for f := 0; f < numFields; f++ {
				if l := p.v.level(f); l != null {
					num[f][l] += gw
					den[f] += gw
				}
			}
		}
		change := 0.0
		for f := range m {
			if den[f] == 0 {
				continue
			}
			old := append([]float64(nil), m[f]...)
			for l := range m[f] {
				m[f][l] = max(num[f][l]/den[f], minProb)
			}
			capDifferent(m[f], maxDifferent[f])
			for l := range m[f] {
				change = max(change, math.Abs(m[f][l]-old[l]))
			}
		}
		nl := min(max(matches/total, 1e-6), 1-1e-6)
		change = max(change, math.Abs(nl-lambda))
		lambda = nl
		if change < 1e-7 {
			break
		}
	}
	return m, lambda, rounds
}

// capDifferent lowers the last level of m to at most c (if c > 0) and
// scales the other levels up to keep the sum at 1.
func capDifferent(m []float64, c float64) {
	last := len(m) - 1
	if c <= 0 || m[last] <= c {
		return
	}
	scale := (1 - c) / (1 - m[last])
	for l := range last {
		m[l] *= scale
	}
	m[last] = c
}

// newModel builds a model from its probabilities.
func newModel(m, u [numFields][]float64, lambda float64) *Model {
	mod := &Model{Lambda: lambda, LinkThreshold: DefaultLinkThreshold, ReviewThreshold: DefaultReviewThreshold}
	for f := range mod.Fields {
		mod.Fields[f] = FieldModel{Name: fieldInfo[f].name, Levels: fieldInfo[f].levels, M: m[f], U: u[f]}
	}
	mod.prepare()
	return mod
}

// DefaultModel is a model for when there are too few records to fit one
// (a new index): m and u set by hand from what registration data
// typically shows — names and birth dates agree for the same person
// most of the time and by chance rarely; identifiers and phones agree by
// chance almost never — with a prior for an index of about 100,000
// people. Fit a model to the data as soon as there is enough of it.
func DefaultModel() *Model {
	var m, u [numFields][]float64
	m[fGiven], u[fGiven] = []float64{0.85, 0.05, 0.05, 0.02, 0.03}, []float64{0.01, 0.001, 0.001, 0.01, 0.978}
	m[fFamily], u[fFamily] = []float64{0.88, 0.05, 0.02, 0.05}, []float64{0.003, 0.001, 0.004, 0.992}
	m[fBirth], u[fBirth] = []float64{0.9, 0.06, 0.01, 0.03}, []float64{0.00005, 0.001, 0.001, 0.99795}
	m[fSex], u[fSex] = []float64{0.98, 0.02}, []float64{0.5, 0.5}
	m[fNumber], u[fNumber] = []float64{0.8, 0.2}, []float64{0.001, 0.999}
	m[fStreet], u[fStreet] = []float64{0.75, 0.05, 0.03, 0.17}, []float64{0.002, 0.003, 0.05, 0.945}
	m[fLocality], u[fLocality] = []float64{0.8, 0.03, 0.03, 0.1, 0.04}, []float64{0.005, 0.005, 0.1, 0.8, 0.09}
	m[fPhone], u[fPhone] = []float64{0.75, 0.01, 0.24}, []float64{0.00001, 0.0001, 0.99989}
	m[fSSN], u[fSSN] = []float64{0.97, 0.01, 0.02}, []float64{0.00001, 0.0001, 0.99989}
	m[fMiddle], u[fMiddle] = []float64{0.85, 0.05, 0.05, 0.05}, []float64{0.02, 0.005, 0.02, 0.955}
	return newModel(m, u, 1e-6)
}
