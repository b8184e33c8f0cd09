package synth

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// clinicalContent writes what happened in an encounter: measurements,
// imaging, procedures, consents, medications and notes.
func (g *unitGen) clinicalContent(x *encCtx) {
	c := x.c
	ep := c.ep
	switch c.class {
	case 'O':
		g.vitals(x, c.start.Add(5*time.Minute), nil, true)
		g.officeLabs(x)
		if c.office == "mammo" {
			g.imagingStudy(x, "mammo", c.start.Add(10*time.Minute), false)
		}
	case 'E':
		g.vitals(x, c.start.Add(10*time.Minute), ep, false)
		at := c.start.Add(40 * time.Minute)
		for _, pn := range ep.panels {
			g.panel(x, pn, at, ep, 0)
		}
		if ep.imaging != "" {
			g.imagingStudy(x, g.imagingKey(c), c.start.Add(70*time.Minute), ep.impression != "")
		}
	case 'I':
		g.stay(x)
		return
	}
	g.officeMeds(x)
	g.procedures(x, nil)
	g.officeNote(x)
}

// stay writes an inpatient stay's content and its notes, with the
// injected deficiencies.
func (g *unitGen) stay(x *encCtx) {
	c, ep := x.c, x.c.ep
	days := int(c.end.Sub(time.Date(c.start.Year(), c.start.Month(), c.start.Day(), 0, 0, 0, 0, zone)) / day)
	g.vitals(x, c.start.Add(20*time.Minute), ep, false)
	g.implausible(x, c.start.Add(25*time.Minute))
	at := c.start.Add(45 * time.Minute)
	panels := append([]string{}, ep.panels...)
	for _, pn := range panels {
		g.panel(x, pn, at, ep, 0)
	}
	x.snap(0)
	if ep.imaging != "" && c.ed == nil {
		g.imagingStudy(x, g.imagingKey(c), c.start.Add(2*time.Hour), ep.impression != "")
	} else if c.ed != nil && ep.imaging != "" {
		// The ED took the films; a repeat chest film on day 2 for some.
		if ep.imaging == "cxr" && days > 2 && g.chance(.3) {
			g.imagingStudy(x, "cxr", c.start.Add(30*time.Hour), ep.impression != "")
		}
	}
	for d := 1; d <= days; d++ {
		t := time.Date(c.start.Year(), c.start.Month(), c.start.Day()+d, 6, g.r.IntN(50), 0, 0, zone)
		if !t.Before(c.end) {
			break
		}
		g.vitals(x, t, ep, false, d)
		if d <= 3 && g.chance(.7) {
			g.panel(x, "bmp", t.Add(15*time.Minute), ep, d)
			g.panel(x, "cbc", t.Add(15*time.Minute), ep, d)
		}
		x.snap(d)
	}
	g.inpatientMeds(x)
	procIDs := g.procedures(x, nil)
	if g.inpatientNotes(x, days, procIDs) {
		g.claim(x)
	}
}

func (g *unitGen) imagingKey(c *plan) string {
	k := c.ep.imaging
	if c.ep.key == "hipfx" {
		if strings.HasSuffix(c.codes[0], "1A") {
			return "xrhipR"
		}
		return "xrhipL"
	}
	return k
}

// vitals writes one set of vital signs. day (optional) is the hospital
// day, over which the abnormal signs resolve.
func (g *unitGen) vitals(x *encCtx, at time.Time, ep *episode, office bool, day ...int) {
	p := g.p
	age := p.ageAt(at)
	sick := 1.0
	if len(day) > 0 {
		sick = math.Max(0, 1-0.35*float64(day[0]))
	}
	flag := func(b bool) bool { return ep != nil && b && g.r.Float64() < sick+0.05 }
	hr := g.normal(76, 8)
	rr := g.between(13, 18)
	switch {
	case age < 2:
		hr, rr = g.between(110, 150), g.between(28, 40)
	case age < 12:
		hr, rr = g.between(80, 115), g.between(18, 26)
	}
	if ep != nil && flag(ep.tachy) {
		hr = g.between(102, 128)
	}
	temp := g.between(36.4, 37.2)
	if ep != nil && flag(ep.fever) {
		temp = g.between(38.1, 39.4)
	}
	spo2 := math.Round(g.between(95.5, 99.4))
	if ep != nil && flag(ep.hypoxia) {
		spo2 = math.Round(g.between(86, 92))
		rr = g.between(22, 28)
	}
	sbp, dbp := p.sbp+g.normal(0, 6), p.dbp+g.normal(0, 4)
	if ep != nil && flag(ep.hypotension) {
		sbp, dbp = g.between(78, 92), g.between(42, 56)
	}
	if age < 12 {
		sbp, dbp = g.between(90, 110), g.between(50, 70)
	}
	g.obs(x, "hr", hr, at, "vital-signs")
	g.obs(x, "rr", rr, at, "vital-signs")
	g.obs(x, "temp", temp, at, "vital-signs")
	g.obs(x, "spo2", spo2, at, "vital-signs")
	if age >= 3 {
		g.bp(x, sbp, dbp, at)
	}
	x.last["hr"], x.last["rr"], x.last["temp"], x.last["spo2"], x.last["sbp"], x.last["dbp"] = hr, rr, temp, spo2, sbp, dbp
	if office || len(day) == 0 {
		// Weight drifts a little; children grow.
		if age < 18 {
			g.bodySizeGrow(at)
		} else {
			p.weightKg = math.Max(35, p.weightKg+g.normal(0, 0.6))
		}
		g.obs(x, "weight", p.weightKg, at, "vital-signs")
		if office {
			g.obs(x, "height", p.heightCm, at, "vital-signs")
			if age >= 2 {
				g.obs(x, "bmi", p.weightKg/(p.heightCm*p.heightCm/10000), at, "vital-signs")
			}
		}
	}
}

func (g *unitGen) bodySizeGrow(at time.Time) {
	p := g.p
	age := float64(p.ageAt(at))
	target := 85 + (age-2)*6.2
	if age < 2 {
		target = 55 + age*25
	}
	if p.heightCm < target {
		p.heightCm += (target - p.heightCm) * 0.3
		p.weightKg *= 1.04
	}
}

// obs writes one Observation and returns its id.
func (g *unitGen) obs(x *encCtx, key string, v float64, at time.Time, category string) string {
	l := labs[key]
	id := g.id("obs")
	v = roundTo(v, l.places)
	o := &Observation{ResourceType: "Observation", ID: id, Status: "final",
		Category:          ccs(sysObsCategory, category, categoryDisplay[category]),
		Code:              CodeableConcept{Coding: []Coding{{System: SystemLOINC, Code: l.loinc, Display: l.display}}, Text: l.display},
		Subject:           ref(x.patient),
		Encounter:         ref(x.enc),
		EffectiveDateTime: dt(at),
		Issued:            dt(at.Add(time.Duration(5+g.r.IntN(120)) * time.Minute)),
		ValueQuantity:     &Quantity{Value: &Decimal{V: v, Places: l.places}, Unit: l.unit, System: SystemUCUM, Code: l.ucum},
	}
	if l.lo != 0 || l.hi != 0 {
		rr := ReferenceRange{}
		if l.lo != 0 {
			rr.Low = &Quantity{Value: &Decimal{V: l.lo, Places: l.places}, Unit: l.unit, System: SystemUCUM, Code: l.ucum}
		}
		if l.hi != 0 {
			rr.High = &Quantity{Value: &Decimal{V: l.hi, Places: l.places}, Unit: l.unit, System: SystemUCUM, Code: l.ucum}
		}
		o.ReferenceRange = []ReferenceRange{rr}
		o.Interpretation = []CodeableConcept{*interp(v, l)}
	}
	g.put(x.slot, "Observation", id, o)
	return id
}

func interp(v float64, l lab) *CodeableConcept {
	switch {
	case l.hi != 0 && v > l.hi:
		return cc(sysInterpretation, "H", "High")
	case l.lo != 0 && v < l.lo:
		return cc(sysInterpretation, "L", "Low")
	}
	return cc(sysInterpretation, "N", "Normal")
}

var categoryDisplay = map[string]string{"vital-signs": "Vital Signs", "laboratory": "Laboratory", "imaging": "Imaging"}

func roundTo(v float64, places int) float64 {
	f := math.Pow(10, float64(places))
	return math.Round(v*f) / f
}

// bp writes a blood pressure panel with its two components.
func (g *unitGen) bp(x *encCtx, sbp, dbp float64, at time.Time) {
	id := g.id("obs")
	s, d := labs["sbp"], labs["dbp"]
	comp := func(l lab, v float64) ObsComponent {
		v = math.Round(v)
		return ObsComponent{Code: CodeableConcept{Coding: []Coding{{System: SystemLOINC, Code: l.loinc, Display: l.display}}},
			ValueQuantity:  &Quantity{Value: &Decimal{V: v}, Unit: l.unit, System: SystemUCUM, Code: l.ucum},
			Interpretation: []CodeableConcept{*interp(v, l)}}
	}
	g.put(x.slot, "Observation", id, &Observation{ResourceType: "Observation", ID: id, Status: "final",
		Category:          ccs(sysObsCategory, "vital-signs", "Vital Signs"),
		Code:              CodeableConcept{Coding: []Coding{{System: SystemLOINC, Code: "85354-9", Display: "Blood pressure panel with all children optional"}}, Text: "Blood pressure"},
		Subject:           ref(x.patient),
		Encounter:         ref(x.enc),
		EffectiveDateTime: dt(at),
		Component:         []ObsComponent{comp(s, sbp), comp(d, dbp)},
	})
}

// labValue draws a value for test key given the episode's signs; day is
// the hospital day (0 on admission), over which values recover.
func (g *unitGen) labValue(key string, ep *episode, day int) float64 {
	p := g.p
	sick := 1.0
	if day > 0 {
		sick = math.Max(0, 1-0.3*float64(day))
	}
	age := p.ageAt(g.cfg.End)
	switch key {
	case "na":
		if ep != nil && ep.key == "chf" && g.chance(.25) {
			return g.between(127, 134)
		}
		return g.between(136, 143)
	case "k":
		k := g.between(3.6, 4.7)
		if has(p, "ckd") {
			k += 0.4
		}
		return k
	case "bun":
		b := g.between(9, 19)
		if has(p, "ckd") {
			b *= 2.2
		}
		if ep != nil && ep.aki {
			b *= 1 + 1.5*sick
		}
		return b
	case "creat":
		cr := p.creat * g.between(0.94, 1.06)
		if ep != nil && ep.aki {
			cr *= 1 + 1.4*sick
		}
		return cr
	case "egfr":
		return 0 // computed from creatinine by the panel
	case "glucose":
		gl := 28.7*p.a1c - 46.7 + g.normal(0, 14)
		if ep != nil && (ep.key == "dka") {
			gl = g.between(320, 620) * (0.4 + 0.6*sick)
		}
		return math.Max(gl, 60)
	case "a1c":
		if has(p, "dm2") || has(p, "dm1") {
			p.a1c = math.Min(13.5, math.Max(5.8, p.a1c+g.normal(-0.12, 0.45)))
		} else {
			p.a1c = math.Min(6.3, math.Max(4.6, p.a1c+g.normal(0, 0.08)))
		}
		return p.a1c
	case "hgb":
		h := p.hgb + g.normal(0, 0.4)
		if ep != nil && ep.anemia {
			h = g.between(6.8, 9.6)
		}
		return h
	case "wbc":
		if (ep != nil && ep.leukocytosis) && g.r.Float64() < sick+0.1 {
			return g.between(12.5, 21)
		}
		return g.between(4.8, 9.8)
	case "plt":
		return g.between(160, 380)
	case "trop":
		if ep != nil && ep.troponin {
			return g.between(0.6, 18) * (0.5 + sick)
		}
		return g.between(0, 0.03)
	case "bnp":
		switch {
		case (ep != nil && ep.bnp):
			return g.between(1800, 12000)
		case has(p, "chf"):
			return g.between(300, 900)
		}
		return g.between(15, 110)
	case "lactate":
		if ep != nil && ep.key == "sepsis" {
			return g.between(2.4, 5.6) * (0.4 + 0.6*sick)
		}
		return g.between(0.7, 1.8)
	case "chol":
		if has(p, "hld") || has(p, "cad") {
			return g.between(150, 240)
		}
		return g.between(140, 210)
	case "ldl":
		if has(p, "hld") {
			return g.between(70, 170)
		}
		return g.between(60, 125)
	case "hdl":
		return g.between(34, 72)
	case "trig":
		return g.between(70, 260)
	case "tsh":
		if has(p, "hypothyroid") {
			return g.between(0.5, 7.5)
		}
		return g.between(0.6, 3.4)
	case "psa":
		if has(p, "prostateca") {
			return g.between(5, 22)
		}
		if age > 60 {
			return g.between(0.5, 4.5)
		}
		return g.between(0.2, 2.5)
	}
	panic("synth: no value model for " + key)
}

// panel writes a laboratory panel: its Observations and a
// DiagnosticReport.
func (g *unitGen) panel(x *encCtx, key string, at time.Time, ep *episode, day int) {
	pn := panels[key]
	age := g.p.ageAt(at)
	var results []Reference
	var creat float64
	for _, t := range pn.tests {
		v := g.labValue(t, ep, day)
		if t == "creat" {
			creat = v
		}
		if t == "egfr" {
			if age < 18 || creat == 0 {
				continue
			}
			v = ckdEPI(creat, age, g.p.d.sex == 'F')
		}
		id := g.obs(x, t, v, at, "laboratory")
		x.last[t] = roundTo(v, labs[t].places)
		results = append(results, Reference{Reference: "Observation/" + id})
	}
	id := g.id("dr")
	g.put(x.slot, "DiagnosticReport", id, &DiagnosticReport{ResourceType: "DiagnosticReport", ID: id, Status: "final",
		Category:          ccs(sysV2Service, "LAB", "Laboratory"),
		Code:              CodeableConcept{Coding: []Coding{{System: SystemLOINC, Code: pn.loinc, Display: pn.display}}, Text: pn.display},
		Subject:           ref(x.patient),
		Encounter:         ref(x.enc),
		EffectiveDateTime: dt(at),
		Issued:            dt(at.Add(time.Duration(40+g.r.IntN(120)) * time.Minute)),
		Performer:         []Reference{{Reference: "Organization/" + g.sh.hospID, Display: hospitalName + " Laboratory"}},
		Result:            results,
	})
}

// ckdEPI is the 2021 CKD-EPI creatinine equation (mL/min/1.73 m2).
func ckdEPI(scr float64, age int, female bool) float64 {
	k, a, f := 0.9, -0.302, 1.0
	if female {
		k, a, f = 0.7, -0.241, 1.012
	}
	return 142 * math.Pow(math.Min(scr/k, 1), a) * math.Pow(math.Max(scr/k, 1), -1.200) * math.Pow(0.9938, float64(age)) * f
}

// officeLabs orders the tests an office visit's conditions call for.
func (g *unitGen) officeLabs(x *encCtx) {
	c, p := x.c, g.p
	at := c.start.Add(30 * time.Minute)
	age := p.ageAt(at)
	if c.office != "chronic" && c.office != "wellness" {
		return
	}
	if has(p, "dm2") || has(p, "dm1") {
		g.panel(x, "a1c", at, nil, 0)
	} else if c.office == "wellness" && age >= 35 && g.chance(.4) {
		g.panel(x, "a1c", at, nil, 0)
	}
	if (has(p, "htn") || has(p, "ckd") || has(p, "dm2") || has(p, "chf")) && g.chance(.6) {
		g.panel(x, "bmp", at, nil, 0)
	}
	if (c.office == "wellness" && age >= 20 && g.chance(.5)) || (has(p, "hld") && g.chance(.4)) {
		g.panel(x, "lipid", at, nil, 0)
	}
	if has(p, "hypothyroid") && g.chance(.5) {
		g.panel(x, "tsh", at, nil, 0)
	}
	if has(p, "chf") && g.chance(.3) {
		g.panel(x, "bnp", at, nil, 0)
	}
	if p.d.sex == 'M' && age >= 55 && age <= 70 && c.office == "wellness" && g.chance(.5) || has(p, "prostateca") && g.chance(.5) {
		g.panel(x, "psa", at, nil, 0)
	}
	if c.office == "wellness" && g.chance(.3) {
		g.panel(x, "cbc", at, nil, 0)
	}
}

// imagingStudy writes an ImagingStudy and its radiology report.
func (g *unitGen) imagingStudy(x *encCtx, key string, at time.Time, abnormal bool) {
	im := imagings[key]
	id := g.id("img")
	uid := "2.25." + fmt.Sprint(mix64(uint64(g.unit)<<20|uint64(g.seq))) + fmt.Sprint(mix64(g.cfg.Seed)%1_000_000)
	series := ImagingSeries{UID: uid + ".1", Number: 1, Modality: Coding{System: SystemDICOM, Code: im.modality, Display: im.modalityDisplay},
		Description: im.description, BodySite: &Coding{System: SystemSNOMED, Code: im.bodySite, Display: im.bodySiteDisplay}, Started: dt(at)}
	sop := map[string]string{"DX": "1.2.840.10008.5.1.4.1.1.1.1", "CT": "1.2.840.10008.5.1.4.1.1.2", "US": "1.2.840.10008.5.1.4.1.1.6.1", "MG": "1.2.840.10008.5.1.4.1.1.1.2"}[im.modality]
	n := 2
	switch im.modality {
	case "CT":
		n = 120 + g.r.IntN(200)
	case "US":
		n = 20 + g.r.IntN(30)
	case "MG":
		n = 4
	}
	series.NumberOfInstances = n
	for i := 1; i <= min(n, 2); i++ {
		series.Instance = append(series.Instance, ImagingInstance{UID: fmt.Sprintf("%s.1.%d", uid, i), Number: i,
			SopClass: Coding{System: "urn:ietf:rfc:3986", Code: "urn:oid:" + sop}})
	}
	radiologist := g.staff("radiology")
	g.put(x.slot, "ImagingStudy", id, &ImagingStudy{ResourceType: "ImagingStudy", ID: id,
		Identifier:        []Identifier{{System: "urn:dicom:uid", Value: "urn:oid:" + uid}},
		Status:            "available",
		Modality:          []Coding{series.Modality},
		Subject:           Reference{Reference: x.patient},
		Encounter:         ref(x.enc),
		Started:           dt(at),
		Referrer:          ref(x.c.attending.ref()),
		Interpreter:       []Reference{{Reference: radiologist.ref()}},
		NumberOfSeries:    1,
		NumberOfInstances: n,
		ProcedureCode:     []CodeableConcept{*pcsCC(im.pcs)},
		Location:          ref("Location/" + g.sh.depts["radiology"].locID),
		Description:       im.description,
		Series:            []ImagingSeries{series},
	})
	impression := im.normal
	if abnormal {
		impression = x.c.ep.impression
	}
	report := fmt.Sprintf("EXAM: %s\nINDICATION: %s\nTECHNIQUE: Standard protocol.\nFINDINGS: %s\nIMPRESSION: %s\nInterpreted by %s.\n",
		strings.ToUpper(im.description), indication(x.c), impression, impression, radiologist.name)
	drID := g.id("dr")
	g.put(x.slot, "DiagnosticReport", drID, &DiagnosticReport{ResourceType: "DiagnosticReport", ID: drID, Status: "final",
		Category:          ccs(sysV2Service, "RAD", "Radiology"),
		Code:              CodeableConcept{Coding: []Coding{{System: SystemLOINC, Code: "18748-4", Display: "Diagnostic imaging study"}}, Text: im.description},
		Subject:           ref(x.patient),
		Encounter:         ref(x.enc),
		EffectiveDateTime: dt(at),
		Issued:            dt(at.Add(time.Duration(30+g.r.IntN(180)) * time.Minute)),
		ResultsInterp:     []Reference{{Reference: radiologist.ref()}},
		ImagingStudy:      []Reference{{Reference: "ImagingStudy/" + id}},
		Conclusion:        impression,
		PresentedForm: []Attachment{
			{ContentType: "text/plain", Language: "en-US", Data: b64(report), Size: len(report), Title: "Radiology report"},
			{ContentType: "application/dicom", URL: "https://pacs.custodian.example/wado-rs/studies/" + uid, Title: "Images (DICOMweb)"},
		},
	})
}

func indication(c *plan) string {
	if c.complaint != "" {
		return c.complaint
	}
	if c.ep != nil {
		return c.ep.complaint
	}
	return "evaluation"
}

// procedures writes the encounter's procedures, each surgical one with
// its consent unless a missing consent is injected, and returns their ids.
func (g *unitGen) procedures(x *encCtx, _ []string) []string {
	c := x.c
	var ids []string
	for i, code := range c.procs {
		id := g.id("prc")
		ids = append(ids, id)
		x.procIDs = append(x.procIDs, id)
		afterStay := c.class == 'I' && surgical[code] && g.chance(rateProcAfterStay)
		if afterStay {
			// The day was keyed wrong: the record puts the operation a
			// few days after the discharge (its notes and consent follow).
			c.procAt[i] = c.procAt[i].AddDate(0, 0, int(c.end.Sub(c.procAt[i])/day)+1+g.r.IntN(3))
		}
		at := c.procAt[i]
		end := at.Add(time.Duration(25+g.r.IntN(90)) * time.Minute)
		x.procEnd = append(x.procEnd, end)
		cat := cc(SystemSNOMED, "387713003", "Surgical procedure")
		if !surgical[code] {
			cat = cc(SystemSNOMED, "277132007", "Therapeutic procedure")
		}
		performer := c.attending
		g.put(x.slot, "Procedure", id, &Procedure{ResourceType: "Procedure", ID: id, Status: "completed",
			Category:        cat,
			Code:            pcsCC(code),
			Subject:         Reference{Reference: x.patient},
			Encounter:       ref(x.enc),
			PerformedPeriod: &Period{Start: dt(at), End: dt(end)},
			Performer:       []ProcPerformer{{Actor: Reference{Reference: performer.ref()}}},
			Location:        ref("Location/" + c.dept.locID),
			ReasonReference: []Reference{{Reference: "Condition/" + c.condIDs[0]}},
		})
		if afterStay {
			g.deficiency(x, DefDatesOutOfOrder, "Procedure/"+id, "")
		}
		if !surgical[code] {
			continue
		}
		if c.class == 'I' && g.chance(.02) {
			g.deficiency(x, DefMissingConsent, "Procedure/"+id, "")
			continue
		}
		signed := at.Add(-time.Duration(30+g.r.IntN(90)) * time.Minute)
		if signed.Before(c.start) {
			signed = c.start.Add(5 * time.Minute)
		}
		if c.class == 'I' && !afterStay && g.chance(rateLateConsent) {
			signed = at.Add(time.Duration(15+g.r.IntN(75)) * time.Minute)
			g.deficiency(x, DefLateConsent, "Procedure/"+id, dt(signed))
		}
		until := c.end
		if !until.After(signed) {
			until = signed.Add(day)
		}
		cid := g.id("cns")
		g.put(x.slot, "Consent", cid, &Consent{ResourceType: "Consent", ID: cid, Status: "active",
			Scope:        *cc(sysConsentScope, "treatment", "Treatment"),
			Category:     []CodeableConcept{*cc(SystemLOINC, "59284-0", "Patient Consent")},
			Patient:      ref(x.patient),
			DateTime:     dt(signed),
			Performer:    []Reference{{Reference: x.patient}},
			Organization: []Reference{{Reference: "Organization/" + g.sh.hospID}},
			Policy:       []ConsentPolicy{{URI: "https://custodian.example/policy/informed-consent-procedure"}},
			Provision: &ConsentProvision{Type: "permit", Period: &Period{Start: dt(signed), End: dt(until)},
				Code: []CodeableConcept{*pcsCC(code)},
				Data: []ConsentData{{Meaning: "related", Reference: Reference{Reference: "Procedure/" + id}}}},
		})
	}
	return ids
}

func (g *unitGen) deficiency(x *encCtx, kind, resource, date string) {
	g.fact(x.slot, &Fact{Kind: FactDeficiency, Detail: kind, Patient: x.patient, Encounter: x.enc, Resource: resource, Date: date})
}

// prescribe writes a MedicationRequest.
func (g *unitGen) prescribe(x *encCtx, key, category, status string, at time.Time, reason string) {
	m, ok := meds[key]
	if !ok {
		panic("synth: no medication " + key)
	}
	if g.penicillinAllergic() && slices.Contains([]string{"amoxicillin", "amoxclav", "cephalexin"}, key) {
		m = meds["azithromycin"]
	}
	id := g.id("med")
	mr := &MedicationRequest{ResourceType: "MedicationRequest", ID: id, Status: status, Intent: "order",
		Category:          ccs(sysMedReqCategory, category, map[string]string{"inpatient": "Inpatient", "outpatient": "Outpatient", "discharge": "Discharge", "community": "Community"}[category]),
		MedicationCC:      &CodeableConcept{Coding: []Coding{{System: SystemRxNorm, Code: m.rxnorm, Display: m.display}}, Text: m.display},
		Subject:           Reference{Reference: x.patient},
		Encounter:         ref(x.enc),
		AuthoredOn:        dt(at),
		Requester:         ref(x.c.attending.ref()),
		DosageInstruction: []Dosage{{Sequence: 1, Text: m.sig}},
	}
	if reason != "" {
		mr.ReasonReference = []Reference{{Reference: reason}}
	}
	g.put(x.slot, "MedicationRequest", id, mr)
}

func (g *unitGen) penicillinAllergic() bool {
	for _, a := range g.p.allergy {
		if a.code == "7980" || a.code == "70618" {
			return true
		}
	}
	return false
}

// chronicMeds are the medications of the conditions active at t.
func (g *unitGen) chronicMeds(t time.Time) []string {
	var out []string
	for _, pr := range g.p.problems {
		if pr.onset.After(t) {
			continue
		}
		for _, m := range pr.def.meds {
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out
}

func (g *unitGen) inpatientMeds(x *encCtx) {
	c := x.c
	reason := "Condition/" + c.condIDs[0]
	for _, m := range c.ep.meds {
		g.prescribe(x, m, "inpatient", "completed", c.start.Add(time.Duration(60+g.r.IntN(120))*time.Minute), reason)
	}
	if c.died {
		return
	}
	status := "active"
	if !g.p.death.IsZero() {
		status = "stopped"
	}
	for _, m := range g.chronicMeds(c.end) {
		g.prescribe(x, m, "discharge", status, c.end.Add(-time.Hour), "")
	}
}

func (g *unitGen) officeMeds(x *encCtx) {
	c := x.c
	if c.med != "" {
		g.prescribe(x, c.med, "outpatient", "completed", c.end.Add(-5*time.Minute), "Condition/"+c.condIDs[0])
	}
	if c.class != 'O' || (c.office != "chronic" && c.office != "wellness") {
		return
	}
	status := "active"
	switch {
	case !g.p.death.IsZero():
		status = "stopped"
	case c.start.Before(g.cfg.End.AddDate(-1, 0, 0)):
		status = "completed"
	}
	for _, m := range g.chronicMeds(c.start) {
		// Renewed about once a year, not at every visit.
		if last, ok := g.renewed[m]; ok && c.start.Sub(last) < 300*day {
			continue
		}
		if g.renewed == nil {
			g.renewed = map[string]time.Time{}
		}
		g.renewed[m] = c.start
		g.prescribe(x, m, "outpatient", status, c.end.Add(-5*time.Minute), "")
	}
}
