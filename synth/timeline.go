package synth

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// plan is one encounter the generator will write.
type plan struct {
	class     byte     // 'I' inpatient, 'E' emergency, 'O' office
	ep        *episode // inpatient and emergency episodes
	office    string   // office visit kind: wellness, chronic, acute, prenatal, mammo, colonoscopy
	start     time.Time
	end       time.Time
	reg       *registration
	codes     []string // diagnoses, principal (or first-listed) first
	poa       []string
	procs     []string
	procAt    []time.Time
	dept      *dept
	attending *prac
	resident  *prac
	admitSrc  string
	dispo     string
	died      bool
	index     *plan // for a readmission, the stay it follows
	planned   bool
	ed        *plan // the emergency visit that led to an admission
	complaint string
	med       string
	encID     string
	condIDs   []string
	// Injected faults (see faults.go): required encounter data left out,
	// the code written on a diagnosis's Condition when it differs from
	// the right one (written), and code conflicts to record.
	omitAttending, omitAdmitSource, omitDisposition bool
	written                                         map[int]string
	codeFaults                                      []codeFault
}

const day = 24 * time.Hour

var pciEpisode = &episode{key: "pci", class: 'I', dept: "cardiology", los: [2]int{1, 2}, mort: .005, readmit: .05, elective: true,
	panels: []string{"bmp", "cbc"}, complaint: "planned staged coronary intervention",
	symptoms: []string{"exertional chest pressure"}, meds: []string{"aspirin", "clopidogrel", "heparin"},
	plan: "Staged PCI of the residual coronary stenosis.",
	pick: func(g *unitGen) ([]string, []string) {
		return []string{"I25.10"}, []string{"4A023N7", "B2111ZZ", "027034Z"}
	}}

// makeTimeline plans every encounter of the person over the window.
func (g *unitGen) makeTimeline() []*plan {
	cfg, p := g.cfg, g.p
	start := g.regs[0].since
	lastIn := cfg.End.Add(-12 * day) // inpatient stays end 10 days before End, so their notes are in
	lastOffice := cfg.End.Add(-2 * day)
	years := cfg.End.Sub(start).Hours() / (24 * 365.25)
	mid := start.Add(cfg.End.Sub(start) / 2)
	age := p.ageAt(mid)
	var cands []*plan
	for _, list := range [][]*episode{episodes, edVisits} {
		for _, ep := range list {
			n := g.poisson(ep.rate(p, age) * years)
			for range n {
				last := cfg.End.Add(-2 * day)
				if ep.class == 'I' {
					last = lastIn
				}
				cands = append(cands, &plan{class: ep.class, ep: ep, start: g.timeIn(start, last)})
			}
		}
	}
	// Office visits.
	for y := start; y.Before(cfg.End); y = y.AddDate(1, 0, 0) {
		if g.chance(.65) {
			cands = append(cands, &plan{class: 'O', office: "wellness", start: g.timeIn(y, minTime(y.AddDate(1, 0, 0), lastOffice))})
		}
		if p.d.sex == 'F' && p.ageAt(y) >= 40 && g.chance(.5) {
			cands = append(cands, &plan{class: 'O', office: "mammo", start: g.timeIn(y, minTime(y.AddDate(1, 0, 0), lastOffice))})
		}
	}
	nChronic := 0
	for _, pr := range p.problems {
		if pr.def.meds != nil {
			nChronic++
		}
	}
	if nChronic > 0 {
		for range g.poisson(years * math.Min(4, 0.8+0.6*float64(nChronic))) {
			cands = append(cands, &plan{class: 'O', office: "chronic", start: g.timeIn(start, lastOffice)})
		}
	}
	for range g.poisson(years * band(age, .6, .35, .3, .3)) {
		cands = append(cands, &plan{class: 'O', office: "acute", start: g.timeIn(start, lastOffice)})
	}
	if age >= 45 && age < 76 && g.chance(.08*years) {
		cands = append(cands, &plan{class: 'O', office: "colonoscopy", start: g.timeIn(start, lastOffice)})
	}
	// Out-of-hospital death.
	var outsideDeath time.Time
	hazard := band(age, .0002, .0006, .004, .02)
	if age >= 80 {
		hazard = .06
	}
	if g.chance(1-math.Exp(-hazard*years)) && !g.hostsOverlay {
		outsideDeath = g.timeIn(start.Add(30*day), cfg.End.Add(-day)).Truncate(time.Minute)
	}
	sortPlans(cands)

	var plans []*plan
	busy := time.Time{}
	for i := 0; i < len(cands); i++ {
		c := cands[i]
		if c.start.Before(busy) || c.start.Before(start) {
			continue
		}
		if !outsideDeath.IsZero() && !c.start.Before(outsideDeath.Add(-2*day)) {
			break
		}
		switch c.class {
		case 'I':
			if !g.planStay(c, lastIn) || c.start.Before(busy) {
				continue
			}
			if c.ed != nil && c.ed.start.Before(busy) {
				c.ed, c.admitSrc = nil, "gp" // came straight to the floor
			}
			if c.ed != nil {
				plans = append(plans, c.ed)
			}
			plans = append(plans, c)
			busy = c.end.Add(day)
			if c.died {
				outsideDeath = time.Time{}
				p.death = c.end
				goto done
			}
			if next := g.readmission(c, lastIn); next != nil {
				cands = append(cands, next)
				sortPlans(cands[i+1:])
			}
		case 'E':
			g.planED(c)
			plans = append(plans, c)
			busy = c.end
		default:
			g.planOffice(c)
			plans = append(plans, c)
			busy = c.end
			if c.office == "prenatal" {
				continue
			}
		}
	}
	if !outsideDeath.IsZero() {
		p.death = outsideDeath
	}
done:
	// Prenatal visits before each delivery.
	var extra []*plan
	for _, c := range plans {
		if c.ep != nil && c.ep.key == "delivery" {
			for _, weeks := range []int{12, 6, 2} {
				t := c.start.Add(-time.Duration(weeks)*7*day - time.Duration(g.r.IntN(4))*day)
				if t.After(start) {
					v := &plan{class: 'O', office: "prenatal", start: t}
					g.planOffice(v)
					if !overlaps(plans, v) {
						extra = append(extra, v)
					}
				}
			}
		}
	}
	plans = append(plans, extra...)
	sortPlans(plans)
	return g.assignRegistrations(plans)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func sortPlans(ps []*plan) {
	slices.SortStableFunc(ps, func(a, b *plan) int { return a.start.Compare(b.start) })
}

// planStay fills in an inpatient stay; false if it cannot fit before last.
func (g *unitGen) planStay(c *plan, last time.Time) bool {
	ep := c.ep
	c.dept = g.sh.depts[ep.dept]
	if ep.dept == "medicine" && g.p.ageAt(c.start) < 18 {
		c.dept = g.sh.depts["pediatrics"]
	}
	los := ep.los[0] + g.r.IntN(ep.los[1]-ep.los[0]+1)
	day0 := time.Date(c.start.Year(), c.start.Month(), c.start.Day(), 0, 0, 0, 0, zone)
	if ep.elective {
		c.start = day0.Add(time.Duration(6*60+g.r.IntN(90)) * time.Minute)
		c.admitSrc = "mp"
		if ep.key == "delivery" {
			c.start = day0.Add(time.Duration(g.r.IntN(24*60)) * time.Minute)
			c.admitSrc = "other"
		}
	} else {
		arrive := c.start.Truncate(time.Minute)
		c.start = arrive.Add(time.Duration(150+g.r.IntN(300)) * time.Minute)
		switch x := g.r.Float64(); {
		case x < .8:
			c.admitSrc = "emd"
			c.ed = &plan{class: 'E', ep: ep, start: arrive, end: c.start, dept: g.sh.depts["emergency"]}
			c.ed.attending = g.staff("emergency")
		case x < .9:
			c.admitSrc = "gp"
		case x < .96:
			c.admitSrc = "hosp-trans"
		default:
			c.admitSrc = "nursing"
		}
	}
	dis := time.Date(c.start.Year(), c.start.Month(), c.start.Day()+los, 0, 0, 0, 0, zone).
		Add(time.Duration(10*60+g.r.IntN(6*60)) * time.Minute)
	if dis.After(last) || c.start.Before(g.regs[0].since) {
		return false
	}
	c.end = dis
	c.attending = g.staff(c.dept.key)
	if len(c.dept.trainees) > 0 && g.chance(.6) {
		c.resident = c.dept.trainees[g.r.IntN(len(c.dept.trainees))]
	}
	codes, procs := ep.pick(g)
	c.codes = codes
	for i := range codes {
		c.poa = append(c.poa, poaFor(codes[i], "Y"))
	}
	// Complications present on admission.
	addDx := func(code, poa string) {
		if !slices.Contains(c.codes, code) {
			c.codes = append(c.codes, code)
			c.poa = append(c.poa, poa)
		}
	}
	switch ep.key {
	case "copd", "pneumonia", "covid":
		if g.chance(.2) {
			addDx("J96.01", "Y")
		}
	case "chf":
		if g.chance(.1) {
			addDx("E87.6", "Y")
		}
	}
	if (ep.key == "pneumonia" || ep.key == "chf") && g.chance(.08) {
		addDx("E87.1", "Y")
	}
	// Hospital-acquired conditions, not present on admission.
	if los >= 3 && g.chance(.04) {
		addDx("N39.0", "N")
	}
	if los >= 4 && g.chance(.01) {
		addDx("I82.401", "N")
	}
	g.addComorbidities(c)
	c.procs = procs
	for i, pc := range procs {
		at := c.start.Add(time.Duration(3*60+g.r.IntN(20*60)) * time.Minute)
		if ep.elective {
			at = c.start.Add(time.Duration(100+g.r.IntN(60)) * time.Minute)
		}
		if i > 0 {
			at = c.procAt[i-1].Add(time.Duration(20+g.r.IntN(40)) * time.Minute)
		}
		if ep.key == "delivery" {
			at = c.start.Add(time.Duration(4*60+g.r.IntN(10*60)) * time.Minute)
		}
		if !at.Before(c.end.Add(-2 * time.Hour)) {
			at = c.start.Add(90 * time.Minute)
		}
		_ = pc
		c.procAt = append(c.procAt, at)
	}
	// Outcome.
	age := g.p.ageAt(c.start)
	mort := ep.mort
	if age >= 80 {
		mort *= 1.6
	} else if age < 50 {
		mort *= 0.3
	}
	if slices.Contains(c.codes, "R65.21") {
		mort = .3
	}
	if g.hostsOverlay {
		mort = 0
	}
	switch x := g.r.Float64(); {
	case x < mort:
		c.died = true
		c.dispo = "exp"
		// Death comes during the stay; the stay ends then.
		c.end = c.start.Add(time.Duration(float64(c.end.Sub(c.start)) * (0.3 + 0.7*g.r.Float64()))).Truncate(time.Minute)
		if len(c.procAt) > 0 && !c.end.After(c.procAt[len(c.procAt)-1].Add(3*time.Hour)) {
			c.end = c.procAt[len(c.procAt)-1].Add(3 * time.Hour)
		}
		if g.chance(.5) {
			c.codes = append(c.codes, "Z66")
			c.poa = append(c.poa, "")
		}
	case x < mort+.015:
		c.dispo = "aadvice"
	case x < mort+.035:
		c.dispo = "other-hcf"
	default:
		c.dispo = "home"
		switch {
		case ep.key == "hipfx" || ep.key == "stroke":
			c.dispo = g.oneOf("snf", "snf", "rehab", "home")
		case age >= 75 && g.chance(.25):
			c.dispo = g.oneOf("snf", "snf", "long", "hosp")
		case (ep.key == "tka" || ep.key == "tha") && g.chance(.15):
			c.dispo = "rehab"
		}
	}
	// After the stay: status codes for later encounters.
	for _, pc := range c.procs {
		switch pc {
		case "027034Z":
			g.p.addHistory("Z95.5", "coronary stent")
		case "0SRC0J9":
			g.p.addHistory("Z96.651", "right total knee arthroplasty")
		case "0SRD0J9":
			g.p.addHistory("Z96.652", "left total knee arthroplasty")
		case "0SR9019":
			g.p.addHistory("Z96.641", "right total hip arthroplasty")
		case "0SRB019":
			g.p.addHistory("Z96.642", "left total hip arthroplasty")
		case "0DTJ4ZZ":
			g.p.prior = append(g.p.prior, "appendectomy")
		case "0FT44ZZ":
			g.p.prior = append(g.p.prior, "cholecystectomy")
		case "10D00Z1":
			g.p.prior = append(g.p.prior, "cesarean section")
		}
	}
	if ep.key == "stroke" && !c.died {
		g.p.addHistory("Z86.73", "")
	}
	if ep.key == "ami" && !c.died && !slices.Contains(c.procs, "027034Z") && !has(g.p, "cad") {
		g.p.problems = append(g.p.problems, &problem{key: "cad", code: "I25.10", def: chronicByKey("cad"), onset: c.start})
	}
	if c.ed != nil {
		c.ed.codes = []string{c.codes[0]}
		c.ed.poa = []string{""}
		if ep.key == "delivery" || ep.key == "hipfx" || slices.Contains([]string{"I11.0", "I13.0", "U07.1"}, c.codes[0]) {
			c.ed.codes = c.codes[:2]
			c.ed.poa = []string{"", ""}
		}
	}
	return true
}

func (p *person) addHistory(code, surgery string) {
	if !slices.Contains(p.history, code) {
		p.history = append(p.history, code)
	}
	if surgery != "" {
		p.prior = append(p.prior, surgery)
	}
}

// poaFor is the POA indicator reported for code: none for Z codes and
// external causes.
func poaFor(code, poa string) string {
	switch code[0] {
	case 'Z', 'V', 'W', 'X', 'Y':
		return ""
	}
	return poa
}

func (g *unitGen) staff(dept string) *prac {
	d := g.sh.depts[dept]
	return d.staff[g.r.IntN(len(d.staff))]
}

// addComorbidities codes the person's chronic conditions on stay c, with
// the ICD-10-CM combination rules (hypertension with heart failure or
// CKD, diabetes with CKD).
func (g *unitGen) addComorbidities(c *plan) {
	p := g.p
	add := func(code string) {
		if code != "" && !slices.Contains(c.codes, code) {
			c.codes = append(c.codes, code)
			c.poa = append(c.poa, poaFor(code, "Y"))
		}
	}
	for _, code := range g.chronicCodes(c.start, c.codes) {
		add(code)
	}
	age := p.ageAt(c.start)
	if age >= 20 && c.ep != nil && c.ep.key != "delivery" {
		bmi := p.weightKg / (p.heightCm * p.heightCm / 10000)
		if bmi >= 30 {
			add("E66.9")
			add(bmiCode(bmi))
		}
	}
	for _, h := range p.history {
		add(h)
	}
}

// chronicCodes returns the codes of the conditions active at t, given
// the diagnoses already coded.
func (g *unitGen) chronicCodes(t time.Time, coded []string) []string {
	p := g.p
	active := func(k string) *problem {
		pr := p.prob(k)
		if pr == nil || pr.onset.After(t) {
			return nil
		}
		return pr
	}
	in := func(codes ...string) bool {
		for _, c := range codes {
			if slices.Contains(coded, c) {
				return true
			}
		}
		return false
	}
	var out []string
	htn, chf, ckd := active("htn"), active("chf"), active("ckd")
	acuteHF := in("I50.23", "I50.33")
	switch {
	case in("I11.0", "I13.0"):
		if ckd != nil && in("I13.0") {
			out = append(out, ckd.code)
		}
	case htn != nil && chf != nil && ckd != nil:
		out = append(out, "I13.0")
		if !acuteHF {
			out = append(out, chf.code)
		}
		out = append(out, ckd.code)
	case htn != nil && chf != nil:
		out = append(out, "I11.0")
		if !acuteHF {
			out = append(out, chf.code)
		}
	case htn != nil && ckd != nil:
		out = append(out, "I12.9", ckd.code)
	default:
		if htn != nil {
			out = append(out, "I10")
		}
		if chf != nil && !acuteHF {
			out = append(out, chf.code)
		}
		if ckd != nil {
			out = append(out, ckd.code)
		}
	}
	for _, pr := range p.problems {
		if pr.onset.After(t) {
			continue
		}
		switch pr.key {
		case "htn", "chf", "ckd":
			continue
		case "dm2":
			if in("E11.10") {
				continue
			}
			if ckd != nil {
				out = append(out, "E11.22")
			} else {
				out = append(out, pr.code)
			}
		case "dm1":
			if in("E10.10") {
				continue
			}
			out = append(out, pr.code)
		case "copd":
			if in("J44.1") {
				continue
			}
			out = append(out, pr.code)
		case "asthma":
			if in("J45.901") {
				continue
			}
			out = append(out, pr.code)
		case "oaknee", "oahip":
			if in("M17.11", "M17.12", "M16.11", "M16.12") {
				continue
			}
			if slices.Contains(p.history, map[string]string{"M17.11": "Z96.651", "M17.12": "Z96.652", "M16.11": "Z96.641", "M16.12": "Z96.642"}[pr.code]) {
				continue
			}
			out = append(out, pr.code)
		case "anemia":
			if in("D62") {
				continue
			}
			out = append(out, pr.code)
		case "cad":
			if in("I21.4", "I21.09", "I21.19", "I25.10") {
				continue
			}
			out = append(out, pr.code)
		default:
			out = append(out, pr.code)
		}
		if pr.def.ltc != "" && !(pr.key == "dm2" && has(p, "dm1")) {
			out = append(out, pr.def.ltc)
		}
	}
	return out
}

func bmiCode(bmi float64) string {
	switch {
	case bmi < 40:
		return fmt.Sprintf("Z68.3%d", int(bmi)-30)
	case bmi < 45:
		return "Z68.41"
	case bmi < 50:
		return "Z68.42"
	case bmi < 60:
		return "Z68.43"
	case bmi < 70:
		return "Z68.44"
	}
	return "Z68.45"
}

// readmission may plan a stay within 30 days of discharge from c.
func (g *unitGen) readmission(c *plan, last time.Time) *plan {
	if c.dispo == "exp" {
		return nil
	}
	if c.ep.key == "ami" && !slices.Contains(c.procs, "027034Z") && g.chance(.3) {
		t := c.end.Add(time.Duration(7+g.r.IntN(15)) * day)
		return &plan{class: 'I', ep: pciEpisode, start: t, index: c, planned: true}
	}
	// The episode rates are the published 30-day rates; some planned
	// readmissions are lost to the window's end or to a death first, so
	// they are drawn a little more often.
	if !g.chance(c.ep.readmit * 1.25) {
		return nil
	}
	days := 1 + min(29, int(g.r.ExpFloat64()*9))
	t := c.end.Add(time.Duration(days)*day + time.Duration(g.r.IntN(12*60))*time.Minute)
	ep := c.ep
	if ep.elective || !g.chance(.55) || ep.rate(g.p, g.p.ageAt(t)) == 0 {
		cands := []string{"pneumonia", "sepsis", "uti", "aki", "gibleed"}
		if has(g.p, "chf") {
			cands = append(cands, "chf", "chf")
		}
		if has(g.p, "copd") {
			cands = append(cands, "copd")
		}
		key := g.oneOf(cands...)
		for _, e := range episodes {
			if e.key == key {
				ep = e
			}
		}
	}
	return &plan{class: 'I', ep: ep, start: t, index: c}
}

// planED fills in a treat-and-release emergency visit.
func (g *unitGen) planED(c *plan) {
	c.dept = g.sh.depts["emergency"]
	c.attending = g.staff("emergency")
	c.start = c.start.Truncate(time.Minute)
	c.end = c.start.Add(time.Duration(90+g.r.IntN(300)) * time.Minute)
	codes, _ := c.ep.pick(g)
	c.codes = codes
	c.dispo = "home"
	for _, code := range g.chronicCodes(c.start, codes) {
		if len(c.codes) < 4 && !slices.Contains(c.codes, code) && code[0] != 'Z' {
			c.codes = append(c.codes, code)
		}
	}
	if len(c.ep.meds) > 0 {
		c.med = c.ep.meds[0]
	}
}

// planOffice fills in an office visit.
func (g *unitGen) planOffice(c *plan) {
	p := g.p
	age := p.ageAt(c.start)
	c.dept = g.sh.depts["family"]
	if age < 18 {
		c.dept = g.sh.depts["pediatrics"]
	}
	c.attending = p.pcp
	day0 := time.Date(c.start.Year(), c.start.Month(), c.start.Day(), 0, 0, 0, 0, zone)
	c.start = day0.Add(time.Duration(8*60+15*g.r.IntN(36)) * time.Minute)
	c.end = c.start.Add(time.Duration(20+5*g.r.IntN(6)) * time.Minute)
	switch c.office {
	case "wellness":
		if age >= 18 {
			c.codes = []string{"Z00.00"}
		} else {
			c.codes = []string{"Z00.129"}
		}
		c.complaint = "annual physical"
	case "mammo":
		c.codes = []string{"Z12.31"}
		c.dept = g.sh.depts["radiology"]
		c.attending = g.staff("radiology")
		c.complaint = "screening mammogram"
	case "colonoscopy":
		c.codes = []string{"Z12.11"}
		c.procs = []string{"0DJD8ZZ"}
		c.procAt = []time.Time{c.start.Add(15 * time.Minute)}
		c.end = c.start.Add(90 * time.Minute)
		c.dept = g.sh.depts["gi"]
		c.attending = g.staff("gi")
		c.complaint = "screening colonoscopy"
	case "prenatal":
		c.codes = []string{"Z34.83"}
		c.dept = g.sh.depts["obgyn"]
		c.attending = g.staff("obgyn")
		c.complaint = "routine prenatal visit"
	case "acute":
		for tries := 0; tries < 10; tries++ {
			a := acuteOffice[g.r.IntN(len(acuteOffice))]
			if age >= a.minAge && age <= a.maxAge {
				c.codes = []string{a.code}
				c.complaint = a.complaint
				c.med = a.med
				break
			}
		}
		if c.codes == nil {
			c.codes, c.complaint = []string{"J06.9"}, "cough and congestion"
		}
	default: // chronic follow-up
		c.complaint = "follow-up of chronic conditions"
	}
	for _, code := range g.chronicCodes(c.start, c.codes) {
		if c.office == "mammo" || c.office == "colonoscopy" || c.office == "prenatal" {
			break
		}
		if !slices.Contains(c.codes, code) {
			c.codes = append(c.codes, code)
		}
	}
	if c.office == "chronic" && len(c.codes) == 0 {
		c.office, c.codes, c.complaint = "acute", []string{"J06.9"}, "cough and congestion"
	}
}

// assignRegistrations decides which registration each encounter was
// recorded under: after a duplicate registration, some encounters go to
// the new record.
func (g *unitGen) assignRegistrations(plans []*plan) []*plan {
	var dup *registration
	if len(g.regs) > 1 {
		dup = g.regs[1]
	}
	first := true
	for _, c := range plans {
		c.reg = g.regs[0]
		if dup == nil || c.start.Before(dup.since) {
			continue
		}
		if c.class == 'I' && c.ed != nil {
			continue // takes its emergency visit's registration, below
		}
		if first || g.chance(.3) {
			c.reg = dup
			first = false
		}
	}
	for _, c := range plans {
		if c.class == 'I' && c.ed != nil {
			c.reg = c.ed.reg
		}
	}
	if dup != nil && first {
		// Registered for a visit that had no other encounter: a walk-in.
		v := &plan{class: 'O', office: "acute", start: dup.since}
		g.planOffice(v)
		if (g.p.death.IsZero() || v.end.Before(g.p.death)) && !overlaps(plans, v) {
			v.reg = dup
			plans = append(plans, v)
			sortPlans(plans)
		}
	}
	return plans
}

// overlaps says whether v overlaps any encounter of plans.
func overlaps(plans []*plan, v *plan) bool {
	for _, c := range plans {
		if v.start.Before(c.end) && c.start.Before(v.end) {
			return true
		}
	}
	return false
}
