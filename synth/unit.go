package synth

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// problem is a chronic condition a person has, with the code chosen for
// them and when it began.
type problem struct {
	key   string
	code  string
	def   *chronic
	onset time.Time
}

// person is one human being: their first registration's demographics,
// health, and the state their measurements drift through.
type person struct {
	unit     int
	d        demo
	problems []*problem
	history  []string // status Z codes acquired during the window
	prior    []string // earlier operations, in words
	allergy  []allergen
	pcp      *prac

	heightCm, weightKg float64
	sbp, dbp, a1c      float64
	creat, hgb         float64
	death              time.Time
}

func (p *person) prob(key string) *problem {
	for _, x := range p.problems {
		if x.key == key {
			return x
		}
	}
	return nil
}

func (p *person) hasHistory(codes ...string) bool {
	for _, c := range codes {
		if slices.Contains(p.history, c) {
			return true
		}
	}
	return false
}

func (p *person) ageAt(t time.Time) int {
	y := t.Year() - p.d.birth.Year()
	if t.YearDay() < p.d.birth.YearDay() {
		y--
	}
	return max(y, 0)
}

// registration is one Patient resource for a person.
type registration struct {
	slot     int
	id, mrn  string
	d        demo
	since    time.Time // registered at
	deceased time.Time
}

func (r *registration) ref() string { return "Patient/" + r.id }

// unitGen generates one person.
type unitGen struct {
	cfg  *Config
	sh   *shared
	unit int
	r    *rand.Rand
	p    *person
	regs []*registration

	out  [2]*batch // [0] the person's batch, [1] the deferred duplicate's
	bufs [2]*bytes.Buffer
	encs [2]*json.Encoder
	seq  int // per-person resource counter, for ids
	// renewed is when each chronic medication was last prescribed.
	renewed map[string]time.Time
	// hostsOverlay: the next person's visit is filed under this person's
	// record, so this person does not die before it.
	hostsOverlay bool
	// overlay is the visit of this person filed under the previous
	// person's record, if any, and that record.
	overlayPlan *plan
	overlayHost *registration
	// stages are the stage groups of the person's cancers, by code.
	stages map[string]stageInfo
}

// Stream numbers for the per-person random generators.
const (
	streamDemo     = 1
	streamTrap     = 2
	streamClinical = 3
)

func unitRand(seed uint64, unit, stream int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(unit)<<4|uint64(stream)))
}

func (g *unitGen) chance(p float64) bool { return g.r.Float64() < p }

func (g *unitGen) oneOf(s ...string) string { return s[g.r.IntN(len(s))] }

func (g *unitGen) between(lo, hi float64) float64 { return lo + g.r.Float64()*(hi-lo) }

// normal returns a normally distributed value.
func (g *unitGen) normal(mean, sd float64) float64 { return mean + g.r.NormFloat64()*sd }

// generateUnit makes everything about person number unit.
func generateUnit(cfg *Config, sh *shared, unit int) *batch {
	g := &unitGen{cfg: cfg, sh: sh, unit: unit, r: unitRand(cfg.Seed, unit, streamClinical)}
	for i := range g.out {
		g.out[i] = &batch{unit: unit}
		g.bufs[i] = &bytes.Buffer{}
		g.encs[i] = json.NewEncoder(g.bufs[i])
		g.encs[i].SetEscapeHTML(false)
	}
	g.makePerson()
	if cfg.PatientsOnly {
		for _, reg := range g.regs {
			g.emitPatient(reg)
		}
	} else {
		_, g.hostsOverlay = overlaid(cfg, unit+1)
		g.makeProblems()
		plans := g.makeTimeline()
		g.overlay(plans)
		g.emit(plans)
	}
	for i, b := range g.out {
		b.buf = g.bufs[i].Bytes()
	}
	if len(g.out[1].recs) > 0 {
		g.out[0].deferred = g.out[1]
	}
	return g.out[0]
}

// makePerson sets the demographics, including the traps and duplicates.
func (g *unitGen) makePerson() {
	cfg := g.cfg
	asOf := cfg.End
	id := identityOf(cfg, g.unit)
	p := &person{unit: g.unit, d: id.d}
	g.p = p
	tr := id.tr
	if id.trap != "" {
		g.out[0].facts = append(g.out[0].facts, &Fact{Kind: FactNotDuplicate, Detail: id.trap,
			Patient: "Patient/" + patientID(cfg.Seed, g.unit-1, 0), Other: "Patient/" + patientID(cfg.Seed, g.unit, 0)})
	}
	if p.ageAt(asOf) < 18 {
		p.d.marital = "U"
	}
	reg := &registration{slot: 0, id: patientID(cfg.Seed, g.unit, 0), mrn: mrn(cfg.Seed, g.unit, 0), d: p.d, since: cfg.Start}
	if p.d.birth.After(cfg.Start) {
		reg.since = time.Date(p.d.birth.Year(), p.d.birth.Month(), p.d.birth.Day(), 8, 0, 0, 0, zone)
	}
	g.regs = append(g.regs, reg)
	if tr.Float64() < cfg.DuplicateRate {
		dd, vars := duplicateOf(tr, p.d, asOf)
		span := cfg.End.Sub(cfg.Start)
		since := cfg.Start.Add(time.Duration(float64(span) * (0.1 + 0.75*tr.Float64()))).Truncate(time.Hour)
		if since.Before(reg.since) {
			since = reg.since.Add(24 * time.Hour)
		}
		dup := &registration{slot: 1, id: patientID(cfg.Seed, g.unit, 1), mrn: mrn(cfg.Seed, g.unit, 1), d: dd, since: since}
		g.regs = append(g.regs, dup)
		// The duplicate's resources are written some way further on, as a
		// later registration would be.
		g.out[1].after = min(g.unit+1+tr.IntN(400), max(cfg.Patients-1, g.unit))
		g.out[1].facts = append(g.out[1].facts, &Fact{Kind: FactDuplicate, Patient: reg.ref(), Other: dup.ref(), Variations: vars})
	}
	// Body size and the values measurements drift from.
	age := p.ageAt(cfg.Start)
	g.bodySize(age)
	p.sbp, p.dbp = g.normal(118, 9), g.normal(75, 6)
	p.a1c = g.normal(5.3, 0.25)
	p.creat = g.normal(0.85, 0.12)
	if p.d.sex == 'M' {
		p.creat += 0.15
		p.hgb = g.normal(15, 0.9)
	} else {
		p.hgb = g.normal(13.4, 0.8)
	}
	if age < 12 {
		p.creat = 0.2 + 0.04*float64(age)
	}
	// Allergies.
	if g.chance(.18) {
		n := 1 + g.r.IntN(2)
		for range n {
			a := allergens[g.r.IntN(len(allergens))]
			if !slices.Contains(p.allergy, a) {
				p.allergy = append(p.allergy, a)
			}
		}
	}
	// A primary care physician.
	fam := g.sh.depts["family"]
	if age < 18 {
		fam = g.sh.depts["pediatrics"]
	}
	p.pcp = fam.staff[g.r.IntN(len(fam.staff))]
}

// bodySize sets height and weight for age.
func (g *unitGen) bodySize(age int) {
	p := g.p
	switch {
	case age < 2:
		p.heightCm, p.weightKg = 55+float64(age)*25+g.normal(0, 3), 4.5+float64(age)*6+g.normal(0, 0.8)
	case age < 18:
		p.heightCm = 85 + float64(age-2)*6.2 + g.normal(0, 6)
		p.weightKg = 12 + float64(age-2)*3.4 + g.normal(0, 4)
	default:
		if p.d.sex == 'M' {
			p.heightCm = g.normal(176, 7)
		} else {
			p.heightCm = g.normal(162, 6.5)
		}
		bmi := math.Max(17, g.normal(28.5, 5.5))
		p.weightKg = bmi * p.heightCm * p.heightCm / 10000
	}
	p.weightKg = math.Max(p.weightKg, 2.5)
}

// makeProblems gives the person their chronic conditions.
func (g *unitGen) makeProblems() {
	p := g.p
	age := p.ageAt(g.cfg.End)
	bandIx := 0
	switch {
	case age >= 65:
		bandIx = 3
	case age >= 40:
		bandIx = 2
	case age >= 18:
		bandIx = 1
	}
	for i := range chronics {
		c := &chronics[i]
		if age < c.minAge || (c.sex != 0 && c.sex != p.d.sex) {
			continue
		}
		prev := c.prev[bandIx]
		if c.key == "hypothyroid" && p.d.sex == 'M' {
			prev *= 0.3
		}
		if !g.chance(prev) {
			continue
		}
		switch {
		case c.key == "dm2" && has(p, "dm1"), c.key == "exsmoker" && has(p, "smoker"):
			continue
		}
		code := c.code[0]
		if len(c.code) > 1 {
			code = c.code[g.r.IntN(len(c.code))]
			if c.key == "dm2" && g.chance(.7) {
				code = "E11.9"
			}
		}
		// Most conditions were known before the window; some are new.
		onset := g.cfg.Start.AddDate(-1-g.r.IntN(12), 0, -g.r.IntN(365))
		if g.chance(.12) {
			onset = g.timeIn(g.cfg.Start, g.cfg.End.AddDate(0, -2, 0))
		}
		minOnset := p.d.birth.AddDate(c.minAge, 0, 0)
		if onset.Before(minOnset) {
			onset = minOnset
		}
		onset = time.Date(onset.Year(), onset.Month(), onset.Day(), 0, 0, 0, 0, zone)
		p.problems = append(p.problems, &problem{key: c.key, code: code, def: c, onset: onset})
	}
	if has(p, "copd") && !has(p, "smoker") && !has(p, "exsmoker") && age >= 25 {
		c := chronicByKey("exsmoker")
		p.problems = append(p.problems, &problem{key: c.key, code: c.code[0], def: c, onset: p.prob("copd").onset})
	}
	// Measurements follow the conditions.
	if has(p, "htn") {
		p.sbp, p.dbp = g.normal(146, 10), g.normal(90, 7)
	}
	if has(p, "dm2") || has(p, "dm1") {
		p.a1c = math.Max(6.2, g.normal(8.1, 1.3))
	}
	if pr := p.prob("ckd"); pr != nil {
		switch pr.code {
		case "N18.31":
			p.creat = g.between(1.3, 1.6)
		case "N18.32":
			p.creat = g.between(1.7, 2.2)
		default:
			p.creat = g.between(2.5, 3.6)
		}
		if p.d.sex == 'F' {
			p.creat *= 0.8
		}
	}
	if has(p, "anemia") {
		p.hgb -= 2.5
	}
}

func chronicByKey(k string) *chronic {
	for i := range chronics {
		if chronics[i].key == k {
			return &chronics[i]
		}
	}
	panic("synth: no chronic condition " + k)
}

// timeIn is a random time in [a, b).
func (g *unitGen) timeIn(a, b time.Time) time.Time {
	if !b.After(a) {
		return a
	}
	return a.Add(time.Duration(g.r.Int64N(int64(b.Sub(a)))))
}

// poisson draws a Poisson-distributed count with mean lambda.
func (g *unitGen) poisson(lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= g.r.Float64()
		if p < l {
			return k
		}
		k++
	}
}

func (g *unitGen) id(kind string) string {
	g.seq++
	return g.regs[0].id + "-" + kind + itoa(g.seq)
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(b[i:])
}

// put encodes resource v into the batch of registration slot.
func (g *unitGen) put(slot int, typ, id string, v any) {
	buf := g.bufs[slot]
	start := buf.Len()
	if err := g.encs[slot].Encode(v); err != nil {
		panic(err) // the generator's own types always encode
	}
	g.out[slot].recs = append(g.out[slot].recs, rec{typ: typ, id: id, start: start, end: buf.Len() - 1})
}

func (g *unitGen) fact(slot int, f *Fact) { g.out[slot].facts = append(g.out[slot].facts, f) }
