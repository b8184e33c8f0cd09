package synth

import (
	"slices"
	"strings"
	"time"
)

// Record faults the generator injects for chart review to find (issue
// 11), beyond missing and late documents: required encounter data left
// out, codes that conflict with the patient's sex or age or that were not
// yet valid on the date of service, implausible results, dates out of
// order, diagnoses in the discharge summary that are not coded (and the
// reverse), late operative notes and consents, and unsigned amendments.
// Each is a FactDeficiency; the record has no other deficiency.

// codeFault is a code conflict injected on diagnosis i of a plan.
type codeFault struct {
	i    int
	kind string
}

// Injection rates (per stay unless said otherwise).
const (
	rateOmitField      = .006 // each of attending, admission source, disposition (home discharges)
	rateEarlyCode      = .04  // per stay coded E66.9 before FY2025: the FY2025 class code instead
	rateAgeCode        = .01  // per adult wellness visit: the child examination code
	rateSexCode        = .008 // per chronic-care visit at 45 or over: a code for the other sex
	rateImplausible    = .01
	rateSignedEarly    = .006 // a progress note's signature time before it was written
	rateProcAfterStay  = .01  // per surgical procedure: its date typed past the discharge
	rateLateOpNote     = .03  // per surgical procedure
	rateLateConsent    = .02  // per surgical procedure
	rateNotDocumented  = .015
	rateNotCoded       = .015
	rateAmended        = .015
	fy2025FirstDay     = "2024-10-01"
	earlyCodeLastStart = "2024-09-29" // discharges up to this day are safely in FY2024
)

// planFaults decides the code and encounter-data faults of encounter x,
// before its Conditions and Encounter are written.
func (g *unitGen) planFaults(x *encCtx) {
	c := x.c
	switch c.class {
	case 'I':
		c.omitAttending = g.chance(rateOmitField)
		c.omitAdmitSource = g.chance(rateOmitField)
		c.omitDisposition = c.dispo == "home" && g.chance(rateOmitField)
		last, _ := time.ParseInLocation(time.DateOnly, earlyCodeLastStart, zone)
		if i := slices.Index(c.codes, "E66.9"); i >= 0 && c.end.Before(last) && g.chance(rateEarlyCode) {
			// Obesity classes 1-3 (E66.811-E66.813) became codes on
			// 2024-10-01; a coder used one too early.
			bmi := g.p.weightKg / (g.p.heightCm * g.p.heightCm / 10000)
			w := "E66.811"
			switch {
			case bmi >= 40:
				w = "E66.813"
			case bmi >= 35:
				w = "E66.812"
			}
			c.written = map[int]string{i: w}
			c.codeFaults = append(c.codeFaults, codeFault{i, DefCodeInvalidForDate})
		}
	case 'O':
		age := g.p.ageAt(c.start)
		switch {
		case c.office == "wellness" && age >= 18 && g.chance(rateAgeCode):
			c.codes[0] = "Z00.129" // routine child health examination
			c.codeFaults = append(c.codeFaults, codeFault{0, DefCodeAgeConflict})
		case c.office == "chronic" && age >= 45 && g.chance(rateSexCode):
			code := "N40.0" // benign prostatic hyperplasia, on a woman's record
			if g.p.d.sex == 'M' {
				code = "N95.1" // menopausal symptoms, on a man's record
			}
			if !slices.Contains(c.codes, code) {
				c.codes = append(c.codes, code)
				c.codeFaults = append(c.codeFaults, codeFault{len(c.codes) - 1, DefCodeSexConflict})
			}
		}
	}
}

// recordFaults writes the facts of the faults planFaults injected, once
// the Conditions have their ids.
func (g *unitGen) recordFaults(x *encCtx) {
	c := x.c
	for _, f := range c.codeFaults {
		fact := &Fact{Kind: FactDeficiency, Detail: f.kind, Patient: x.patient, Encounter: x.enc, Resource: "Condition/" + c.condIDs[f.i]}
		if w := c.written[f.i]; w != "" {
			fact.Text = w
		}
		g.fact(x.slot, fact)
	}
	if c.omitAttending {
		g.deficiency(x, DefMissingAttending, "", "")
	}
	if c.omitAdmitSource {
		g.deficiency(x, DefMissingAdmitSource, "", "")
	}
	if c.omitDisposition {
		g.deficiency(x, DefMissingDisposition, "", "")
	}
}

// implausible sometimes charts a vital sign no body has: a temperature
// typed in Fahrenheit into the Celsius field, or an oxygen saturation
// with a digit dropped.
func (g *unitGen) implausible(x *encCtx, at time.Time) {
	if !g.chance(rateImplausible) {
		return
	}
	var id string
	if g.chance(.5) {
		id = g.obs(x, "temp", g.between(98, 101.5), at, "vital-signs")
	} else {
		id = g.obs(x, "spo2", float64(9), at, "vital-signs")
	}
	g.deficiency(x, DefImplausibleValue, "Observation/"+id, "")
}

// uncodedTerms are diagnoses a discharge summary may state that the
// generator never codes on its own, with the ICD-10-CM prefix that would
// code each and the word a physician query names it by.
var uncodedTerms = []struct{ text, prefix, term string }{
	{"hypokalemia", "E87.6", "hypokalemia"},
	{"hyponatremia", "E87.1", "hyponatremia"},
	{"moderate protein-calorie malnutrition", "E44", "malnutrition"},
	{"metabolic encephalopathy", "G93.4", "encephalopathy"},
	{"pressure ulcer of the sacrum, stage 2", "L89", "pressure ulcer"},
}

// dsFault is what is wrong with a stay's discharge summary, if anything.
type dsFault struct {
	omit  int    // index of the diagnosis the summary leaves out (0: none)
	extra int    // 1 + index into uncodedTerms of a diagnosis stated but not coded (0: none)
	amend bool   // the signed summary is amended, and the amendment not signed
	text  string // the omitted diagnosis's words, to check they appear nowhere
}

// planSummaryFault draws the discharge summary's fault.
func (g *unitGen) planSummaryFault(c *plan) dsFault {
	var f dsFault
	switch y := g.r.Float64(); {
	case y < rateNotDocumented && len(c.codes) > 1:
		f.omit = 1 + g.r.IntN(len(c.codes)-1)
	case y < rateNotDocumented+rateNotCoded:
		var cands []int
		for i, t := range uncodedTerms {
			if !slices.ContainsFunc(c.codes, func(code string) bool { return strings.HasPrefix(code, t.prefix) }) {
				cands = append(cands, i)
			}
		}
		if len(cands) > 0 {
			f.extra = 1 + cands[g.r.IntN(len(cands))]
		}
	case y < rateNotDocumented+rateNotCoded+rateAmended:
		f.amend = true
	}
	return f
}

// words lower-cases s and keeps letters and digits, one space between
// words and one at each end, so that phrases compare on word boundaries.
func words(s string) string {
	var b strings.Builder
	b.WriteByte(' ')
	space := true
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127 {
			b.WriteRune(r)
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

// Security labels (meta.security).
const (
	sysActCodeLabels   = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	sysConfidentiality = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
)

var (
	labelRestricted = Coding{System: sysConfidentiality, Code: "R", Display: "restricted"}
	labelSUD        = Coding{System: sysActCodeLabels, Code: "ETH", Display: "substance abuse information sensitivity"}
	labelPart2      = Coding{System: sysActCodeLabels, Code: "42CFRPart2", Display: "42 CFR Part2"}
	labelHIV        = Coding{System: sysActCodeLabels, Code: "HIV", Display: "HIV/AIDS information sensitivity"}
	labelPsychNote  = Coding{System: sysActCodeLabels, Code: "PSYTHPN", Display: "psychotherapy note information sensitivity"}
)

// sensitiveCode is the category and labels of a diagnosis code that is
// sensitive, if it is.
func sensitiveCode(code string) (string, []Coding) {
	switch {
	case strings.HasPrefix(code, "F10"), strings.HasPrefix(code, "F11"):
		return SensitiveSubstanceUse, []Coding{labelSUD, labelRestricted}
	case code == "B20":
		return SensitiveHIV, []Coding{labelHIV, labelRestricted}
	}
	return "", nil
}

// labelled returns the Meta of resource ref carrying labels and records
// the fact.
func (g *unitGen) labelled(slot int, patient, encounter, ref, category string, labels []Coding) *Meta {
	var text []string
	for _, l := range labels {
		text = append(text, l.System+"|"+l.Code)
	}
	g.fact(slot, &Fact{Kind: FactSensitive, Detail: category, Patient: patient, Encounter: encounter, Resource: ref, Text: strings.Join(text, " ")})
	return &Meta{Security: labels}
}

// sensitive labels a Condition of encounter x coded code, if sensitive.
func (g *unitGen) sensitive(slot int, x *encCtx, ref, code string) *Meta {
	cat, labels := sensitiveCode(code)
	if cat == "" {
		return nil
	}
	return g.labelled(slot, x.patient, x.enc, ref, cat, labels)
}

// stageInfo is the AJCC stage group of one of a person's cancers.
type stageInfo struct {
	group, obsID string
}

var stageCodes = map[string][2]string{
	"I": {"258215001", "Stage 1"}, "II": {"258219007", "Stage 2"}, "III": {"258224005", "Stage 3"}, "IV": {"258228008", "Stage 4"},
}

func stageCC(group string) *CodeableConcept {
	c := stageCodes[group]
	return &CodeableConcept{Coding: []Coding{{System: SystemSNOMED, Code: c[0], Display: c[1] + " (qualifier value)"}}, Text: "Stage " + group}
}

// stageOf is Condition.stage for a diagnosis coded code: the person's
// stage when it is one of their cancers.
func (g *unitGen) stageOf(code string) []ConditionStage {
	s, ok := g.stages[code]
	if !ok {
		return nil
	}
	return []ConditionStage{{Summary: stageCC(s.group), Assessment: []Reference{{Reference: "Observation/" + s.obsID}}}}
}

// stageCancer stages a cancer on the problem list: an AJCC stage group
// drawn from a typical distribution at diagnosis, kept as an Observation
// (LOINC 21908-9, clinical stage group) that the Condition's stage cites.
func (g *unitGen) stageCancer(pr *problem, condID string) {
	group := "I"
	switch x := g.r.Float64(); {
	case x < .35:
	case x < .65:
		group = "II"
	case x < .85:
		group = "III"
	default:
		group = "IV"
	}
	reg := g.regs[0]
	obsID := g.id("obs")
	g.put(0, "Observation", obsID, &Observation{ResourceType: "Observation", ID: obsID, Status: "final",
		Category:          ccs(sysObsCategory, "exam", "Exam"),
		Code:              CodeableConcept{Coding: []Coding{{System: SystemLOINC, Code: "21908-9", Display: "Stage group.clinical Cancer"}}, Text: "Clinical stage group"},
		Subject:           ref(reg.ref()),
		Focus:             []Reference{{Reference: "Condition/" + condID}},
		EffectiveDateTime: date(pr.onset),
		ValueCC:           stageCC(group),
	})
	if g.stages == nil {
		g.stages = map[string]stageInfo{}
	}
	g.stages[pr.code] = stageInfo{group: group, obsID: obsID}
	g.fact(0, &Fact{Kind: FactStage, Detail: group, Patient: reg.ref(), Resource: "Condition/" + condID, Other: "Observation/" + obsID, Text: pr.code})
}

// isCancer says whether a chronic condition is a cancer to stage.
func isCancer(key string) bool {
	switch key {
	case "prostateca", "breastca", "lungca", "colonca":
		return true
	}
	return false
}
