package synth

import (
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

const (
	dtLayout   = "2006-01-02T15:04:05-07:00"
	dateLayout = "2006-01-02"
)

func dt(t time.Time) string { return t.In(zone).Format(dtLayout) }

func date(t time.Time) string { return t.Format(dateLayout) }

// encCtx is what the resources of one encounter share.
type encCtx struct {
	c       *plan
	slot    int
	patient string // "Patient/id"
	enc     string // "Encounter/id"
	// last holds the most recent lab values of the encounter, for notes.
	last map[string]float64
	// snaps keeps last as it was on each hospital day (0: admission), so
	// that notes written later quote that day's values.
	snaps map[int]map[string]float64
	// procIDs are the ids of the encounter's Procedures, in c.procs order.
	procIDs []string
	// procEnd are when they ended.
	procEnd []time.Time
	// dsFault is the fault of the discharge summary being written.
	dsFault dsFault
}

func (x *encCtx) snap(d int) {
	if x.snaps == nil {
		x.snaps = map[int]map[string]float64{}
	}
	x.snaps[d] = maps.Clone(x.last)
}

func (x *encCtx) use(d int) {
	if s, ok := x.snaps[d]; ok {
		x.last = s
	}
}

// emit writes the person's resources.
func (g *unitGen) emit(plans []*plan) {
	p := g.p
	// Deaths.
	var deathReg *registration
	var deathPlan *plan
	if !p.death.IsZero() {
		deathReg = g.regs[0]
		for _, c := range plans {
			if c.died {
				deathReg, deathPlan = c.reg, c
			}
		}
		deathReg.deceased = p.death
	}
	for _, reg := range g.regs {
		g.emitPatient(reg)
	}
	if deathReg != nil {
		f := &Fact{Kind: FactDeath, Detail: "outside", Patient: deathReg.ref(), Date: dt(p.death)}
		if deathPlan != nil {
			f.Detail, f.Encounter = "in-hospital", "" // set below, once the encounter has its id
		}
		defer func() {
			if deathPlan != nil {
				f.Encounter = "Encounter/" + deathPlan.encID
			}
			g.fact(deathReg.slot, f)
		}()
	}
	g.emitAllergies()
	g.emitProblemList()
	for _, c := range plans {
		g.emitEncounter(c)
	}
	if c := g.overlayPlan; c != nil {
		g.fact(0, &Fact{Kind: FactOverlay, Patient: g.overlayHost.ref(), Other: g.regs[0].ref(), Encounter: "Encounter/" + c.encID})
	}
	// Readmissions.
	for _, c := range plans {
		if c.index == nil || c.class != 'I' {
			continue
		}
		gap := c.start.Sub(c.index.end)
		if gap > 30*day {
			continue
		}
		kind := "unplanned"
		if c.planned {
			kind = "planned"
		}
		g.fact(c.reg.slot, &Fact{Kind: FactReadmission, Detail: kind, Patient: c.reg.ref(), Other: c.index.reg.ref(),
			Encounter: "Encounter/" + c.encID, Prior: "Encounter/" + c.index.encID, Days: int(gap / day)})
	}
}

func (g *unitGen) emitPatient(reg *registration) {
	d := reg.d
	given := []string{d.given}
	if d.middle != "" {
		given = append(given, d.middle)
	}
	name := HumanName{Use: "official", Family: d.family, Given: given}
	if d.suffix != "" {
		name.Suffix = []string{d.suffix}
	}
	pt := &Patient{ResourceType: "Patient", ID: reg.id, Active: true,
		Identifier:    []Identifier{{Use: "usual", Type: cc(sysV2IDType, "MR", "Medical record number"), System: SystemMRN, Value: reg.mrn}},
		Name:          []HumanName{name},
		Gender:        d.gender(),
		BirthDate:     date(d.birth),
		Address:       []Address{{Use: "home", Type: "both", Line: []string{d.line}, City: d.city, State: d.state, PostalCode: d.zip, Country: "US"}},
		MaritalStatus: cc(sysMarital, d.marital, map[string]string{"M": "Married", "S": "Never Married", "D": "Divorced", "W": "Widowed", "U": "unmarried"}[d.marital]),
		GeneralPract:  []Reference{{Reference: g.p.pcp.ref()}},
		ManagingOrg:   ref("Organization/" + g.sh.hospID),
	}
	if g.cfg.PatientsOnly {
		pt.GeneralPract, pt.ManagingOrg = nil, nil
	}
	if d.ssn != "" {
		pt.Identifier = append(pt.Identifier, Identifier{Use: "official", Type: cc(sysV2IDType, "SS", "Social Security number"), System: SystemSSN, Value: d.ssn})
	}
	pt.Telecom = append(pt.Telecom, ContactPoint{System: "phone", Value: d.phone, Use: "home"})
	if d.mobile != "" {
		pt.Telecom = append(pt.Telecom, ContactPoint{System: "phone", Value: d.mobile, Use: "mobile"})
	}
	if d.email != "" {
		pt.Telecom = append(pt.Telecom, ContactPoint{System: "email", Value: d.email, Use: "home"})
	}
	if !reg.deceased.IsZero() {
		pt.DeceasedDateTime = dt(reg.deceased)
	}
	g.put(reg.slot, "Patient", reg.id, pt)
}

func (g *unitGen) emitAllergies() {
	reg := g.regs[0]
	for _, a := range g.p.allergy {
		id := g.id("alg")
		crit := "low"
		rx := reactions[g.r.IntN(len(reactions))]
		sev := "mild"
		if rx.Code == "39579001" {
			crit, sev = "high", "severe"
		}
		recorded := reg.since
		if recorded.Before(g.cfg.Start.AddDate(0, 0, 1)) {
			recorded = g.cfg.Start.AddDate(-1-g.r.IntN(8), 0, -g.r.IntN(365))
		}
		g.put(0, "AllergyIntolerance", id, &AllergyIntolerance{ResourceType: "AllergyIntolerance", ID: id,
			ClinicalStatus:     cc(sysAllergyClin, "active", "Active"),
			VerificationStatus: cc(sysAllergyVer, "confirmed", "Confirmed"),
			Type:               "allergy", Category: []string{a.category}, Criticality: crit,
			Code:    &CodeableConcept{Coding: []Coding{{System: a.system, Code: a.code, Display: a.display}}, Text: a.display},
			Patient: Reference{Reference: reg.ref()}, RecordedDate: date(recorded),
			Reaction: []AllergyReaction{{Manifestation: []CodeableConcept{{Coding: []Coding{rx}}}, Severity: sev}}})
	}
}

func (g *unitGen) emitProblemList() {
	reg := g.regs[0]
	for _, pr := range g.p.problems {
		id := g.id("prb")
		recorded := pr.onset
		if recorded.Before(reg.since) && reg.since.After(g.cfg.Start) {
			recorded = reg.since
		}
		status := cc(sysConditionClin, "active", "Active")
		if isCancer(pr.key) {
			g.stageCancer(pr, id)
		}
		cat, labels := sensitiveCode(pr.code)
		var meta *Meta
		if cat != "" {
			meta = g.labelled(0, reg.ref(), "", "Condition/"+id, cat, labels)
		}
		g.put(0, "Condition", id, &Condition{ResourceType: "Condition", ID: id, Meta: meta,
			Stage:              g.stageOf(pr.code),
			ClinicalStatus:     status,
			VerificationStatus: cc(sysConditionVer, "confirmed", "Confirmed"),
			Category:           ccs(sysConditionCat, "problem-list-item", "Problem List Item"),
			Code:               icdCC(pr.code),
			Subject:            Reference{Reference: reg.ref()},
			OnsetDateTime:      date(pr.onset), RecordedDate: date(recorded),
			Recorder: ref(g.p.pcp.ref())})
	}
}

// icdCC is a CodeableConcept for an ICD-10-CM code.
func icdCC(code string) *CodeableConcept {
	return &CodeableConcept{Coding: []Coding{{System: SystemICD10CM, Code: code, Display: codeTitle(code)}}, Text: phrase(code, 0)}
}

// pcsCC is a CodeableConcept for an ICD-10-PCS code.
func pcsCC(code string) *CodeableConcept {
	t := procPhrases[code]
	if t == "" {
		t = codeTitle(code)
	}
	return &CodeableConcept{Coding: []Coding{{System: SystemICD10PC, Code: code, Display: codeTitle(code)}}, Text: t}
}

// phrase is the i-th way of writing code in a note (falling back to the
// official title).
func phrase(code string, i int) string {
	ps := phrases[code]
	if len(ps) == 0 {
		if strings.HasPrefix(code, "Z68.") {
			return "BMI " + strings.TrimPrefix(strings.TrimPrefix(codeTitle(code), "Body mass index [BMI] "), "")
		}
		return strings.ToLower(codeTitle(code))
	}
	return ps[i%len(ps)]
}

func (g *unitGen) emitEncounter(c *plan) {
	slot := c.reg.slot
	x := &encCtx{c: c, slot: slot, patient: c.reg.ref(), last: map[string]float64{}}
	c.encID = g.id("enc")
	x.enc = "Encounter/" + c.encID
	enc := &Encounter{ResourceType: "Encounter", ID: c.encID, Status: "finished",
		Identifier:      []Identifier{{System: "https://custodian.example/fhir/visit-number", Value: "V" + mrnTail(c.reg.mrn) + itoa(g.seq)}},
		Subject:         ref(x.patient),
		Period:          &Period{Start: dt(c.start), End: dt(c.end)},
		ServiceProvider: ref("Organization/" + c.dept.orgID),
		ServiceType:     cc(SystemNUCC, c.dept.nucc, c.dept.nuccDisplay),
		Location:        []EncounterLocation{{Location: Reference{Reference: "Location/" + c.dept.locID}, Status: "completed", Period: &Period{Start: dt(c.start), End: dt(c.end)}}},
	}
	g.planFaults(x)
	if !c.omitAttending {
		enc.Participant = []EncounterParticipant{{Type: ccs(sysParticipation, "ATND", "attender"), Individual: ref(c.attending.ref())}}
	}
	switch c.class {
	case 'I':
		enc.Class = Coding{System: sysActCode, Code: "IMP", Display: "inpatient encounter"}
		enc.Type = ccs(SystemSNOMED, "32485007", "Hospital admission (procedure)")
		if c.ep.elective {
			enc.Priority = cc(sysActCode, "EL", "elective")
		} else {
			enc.Priority = cc(sysActCode, "EM", "emergency")
		}
		days := int(math.Round(c.end.Sub(c.start).Hours() / 24))
		enc.Length = &Quantity{Value: &Decimal{V: float64(max(days, 1))}, Unit: "days", System: SystemUCUM, Code: "d"}
		enc.Hospitalization = &Hospitalization{}
		if !c.omitAdmitSource {
			enc.Hospitalization.AdmitSource = cc(sysAdmitSource, c.admitSrc, admitSourceDisplay[c.admitSrc])
		}
		if !c.omitDisposition {
			enc.Hospitalization.DischargeDisposition = cc(sysDischarge, c.dispo, dispoDisplay[c.dispo])
		}
		if c.index != nil {
			enc.Hospitalization.ReAdmission = cc("http://terminology.hl7.org/CodeSystem/v2-0092", "R", "Re-admission")
		}
		enc.Participant = append(enc.Participant, EncounterParticipant{Type: ccs(sysParticipation, "ADM", "admitter"), Individual: ref(c.attending.ref())})
		if c.resident != nil {
			enc.Participant = append(enc.Participant, EncounterParticipant{Type: ccs(sysParticipation, "PART", "Participation"), Individual: ref(c.resident.ref())})
		}
	case 'E':
		enc.Class = Coding{System: sysActCode, Code: "EMER", Display: "emergency"}
		enc.Type = ccs(SystemSNOMED, "50849002", "Emergency room admission (procedure)")
		if c.dispo != "" {
			enc.Hospitalization = &Hospitalization{DischargeDisposition: cc(sysDischarge, c.dispo, dispoDisplay[c.dispo])}
		}
	default:
		enc.Class = Coding{System: sysActCode, Code: "AMB", Display: "ambulatory"}
		if c.office == "wellness" {
			enc.Type = ccs(SystemSNOMED, "185349003", "Encounter for check up (procedure)")
		} else {
			enc.Type = ccs(SystemSNOMED, "185345009", "Encounter for symptom (procedure)")
		}
	}
	if c.complaint != "" || c.ep != nil {
		t := c.complaint
		if t == "" {
			t = c.ep.complaint
		}
		enc.ReasonCode = []CodeableConcept{{Text: t}}
	}
	// Diagnoses.
	for i, right := range c.codes {
		code := right
		if w := c.written[i]; w != "" {
			code = w
		}
		id := g.id("cnd")
		c.condIDs = append(c.condIDs, id)
		use := "DD"
		if i == 0 && c.class == 'I' {
			use = "AD"
		}
		if c.class != 'I' {
			use = "billing"
		}
		enc.Diagnosis = append(enc.Diagnosis, EncounterDiagnosis{Condition: Reference{Reference: "Condition/" + id},
			Use: cc(sysDiagRole, use, map[string]string{"AD": "Admission diagnosis", "DD": "Discharge diagnosis", "billing": "Billing"}[use])})
		clin := cc(sysConditionClin, "resolved", "Resolved")
		abated := dt(c.end)
		if isChronicCode(code) || c.died {
			clin, abated = cc(sysConditionClin, "active", "Active"), ""
		}
		cnc := icdCC(code)
		cnc.Text = phrase(right, 0) // a miscoded diagnosis is still written as the clinician wrote it
		g.put(slot, "Condition", id, &Condition{ResourceType: "Condition", ID: id, Meta: g.sensitive(slot, x, "Condition/"+id, code),
			ClinicalStatus:     clin,
			VerificationStatus: cc(sysConditionVer, "confirmed", "Confirmed"),
			Category:           ccs(sysConditionCat, "encounter-diagnosis", "Encounter Diagnosis"),
			Code:               cnc,
			Subject:            Reference{Reference: x.patient},
			Encounter:          ref(x.enc),
			OnsetDateTime:      dt(c.start), AbatementDateTime: abated,
			RecordedDate: dt(c.end),
			Recorder:     ref(c.attending.ref()),
			Stage:        g.stageOf(code)})
	}
	g.put(slot, "Encounter", c.encID, enc)
	g.recordFaults(x)
	if c.class == 'I' {
		switch {
		case c.admitSrc == "hosp-trans" && !c.omitAdmitSource:
			g.fact(slot, &Fact{Kind: FactTransferIn, Detail: c.admitSrc, Patient: x.patient, Encounter: x.enc})
		}
		switch c.dispo {
		case "other-hcf":
			g.fact(slot, &Fact{Kind: FactTransferOut, Detail: c.dispo, Patient: x.patient, Encounter: x.enc})
		case "aadvice":
			g.fact(slot, &Fact{Kind: FactAgainstAdvice, Detail: c.dispo, Patient: x.patient, Encounter: x.enc})
		}
	}
	if c.class == 'I' {
		poa := make([]DxPOA, len(c.codes))
		for i := range c.codes {
			poa[i] = DxPOA{Code: c.codes[i], POA: c.poa[i]}
		}
		g.fact(slot, &Fact{Kind: FactCoding, Patient: x.patient, Encounter: x.enc, Principal: c.codes[0], Diagnoses: poa, Procedures: slices.Clone(c.procs)})
	}
	g.clinicalContent(x)
}

// isChronicCode says whether a diagnosis stays active after the encounter.
func isChronicCode(code string) bool {
	for i := range chronics {
		if slices.Contains(chronics[i].code, code) {
			return true
		}
	}
	switch code {
	case "I11.0", "I12.9", "I13.0", "E11.22", "E66.9":
		return true
	}
	return code[0] == 'Z' && !strings.HasPrefix(code, "Z0") && !strings.HasPrefix(code, "Z1") && !strings.HasPrefix(code, "Z3")
}

func mrnTail(m string) string { return m[len(m)-4:] }

var admitSourceDisplay = map[string]string{
	"hosp-trans": "Transferred from other hospital", "emd": "From accident/emergency department", "outp": "From outpatient department",
	"gp": "General Practitioner referral", "mp": "Medical Practitioner/physician referral", "nursing": "From nursing home", "other": "Other",
}

var dispoDisplay = map[string]string{
	"home": "Home", "alt-home": "Alternative home", "other-hcf": "Other healthcare facility", "hosp": "Hospice", "long": "Long-term care",
	"aadvice": "Left against advice", "exp": "Expired", "psy": "Psychiatric hospital", "rehab": "Rehabilitation", "snf": "Skilled nursing facility", "oth": "Other",
}
