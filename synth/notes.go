package synth

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Note types (LOINC).
var noteTypes = map[string]string{
	"34117-2": "History and physical note",
	"11506-3": "Progress note",
	"11504-8": "Surgical operation note",
	"28570-0": "Procedure note",
	"18842-5": "Discharge summary",
	"11488-4": "Consult note",
	"34111-5": "Emergency department note",
}

// noteText builds a note's text and records the identifiers planted in
// it, with their byte offsets.
type noteText struct {
	strings.Builder
	ids     []*Fact
	related []Reference // resources the note documents (the procedure of an operative note)
	meta    *Meta       // security labels of a sensitive note
}

func (n *noteText) f(format string, a ...any) { fmt.Fprintf(n, format, a...) }

// plant writes identifier s of kind and records where it is.
func (n *noteText) plant(kind, s string) {
	start := n.Len()
	n.WriteString(s)
	n.ids = append(n.ids, &Fact{Kind: FactIdentifier, Detail: kind, Text: s, Span: []int{start, n.Len()}})
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// header writes the opening lines, sometimes with planted identifiers.
func (g *unitGen) header(n *noteText, x *encCtx, title string) {
	n.f("%s\n%s\n", title, hospitalName)
	if g.chance(.06) {
		reg := x.c.reg
		n.WriteString("Patient: ")
		n.plant("name", reg.d.given+" "+reg.d.family)
		n.WriteString("   MRN: ")
		n.plant("mrn", reg.mrn)
		n.WriteString("   DOB: ")
		n.plant("date", reg.d.birth.Format("01/02/2006"))
		n.WriteString("\n")
	}
	n.WriteString("\n")
}

// aged writes "a 67-year-old woman", recording ages over 89 (which HIPAA
// Safe Harbor treats as identifying).
func (g *unitGen) aged(n *noteText, at time.Time) {
	age := g.p.ageAt(at)
	noun := map[byte]string{'M': "man", 'F': "woman"}[g.p.d.sex]
	switch {
	case age < 1:
		months := int(at.Sub(g.p.d.birth).Hours() / 24 / 30)
		n.f("a %d-month-old %s", max(months, 1), map[byte]string{'M': "boy", 'F': "girl"}[g.p.d.sex])
		return
	case age < 18:
		noun = map[byte]string{'M': "boy", 'F': "girl"}[g.p.d.sex]
	}
	art := "a"
	if age == 8 || age == 11 || age == 18 || (age >= 80 && age < 90) {
		art = "an"
	}
	n.WriteString(art + " ")
	if age > 89 {
		n.plant("age", fmt.Sprint(age))
	} else {
		n.f("%d", age)
	}
	n.f("-year-old %s", noun)
}

// maybeContact sometimes plants a phone number or SSN in the note.
func (g *unitGen) maybeContact(n *noteText, x *encCtx) {
	switch x := g.r.Float64(); {
	case x < .03:
		n.WriteString("Patient's daughter can be reached at ")
		n.plant("phone", randomPhone(g.r))
		n.WriteString(" for updates.\n")
	case x < .05:
		n.WriteString("Callback number confirmed: ")
		n.plant("phone", g.p.d.phone)
		n.WriteString(".\n")
	case x < .06 && g.p.d.ssn != "":
		n.WriteString("Insurance verification: SSN ")
		n.plant("ssn", g.p.d.ssn)
		n.WriteString(" on file.\n")
	}
}

func listPhrases(codes []string, variant int) string {
	var out []string
	for _, c := range codes {
		out = append(out, phrase(c, variant))
	}
	return strings.Join(out, ", ")
}

// historyCodes are the chronic and status codes among the diagnoses.
func historyCodes(codes []string) []string {
	var out []string
	for _, c := range codes[1:] {
		if isChronicCode(c) {
			out = append(out, c)
		}
	}
	return out
}

var rosSymptoms = []string{"chest pain", "shortness of breath", "fever", "chills", "nausea", "vomiting", "abdominal pain",
	"headache", "dysuria", "palpitations", "cough", "leg swelling", "syncope", "focal weakness", "melena", "hematuria"}

// negatives returns symptoms the patient denies: none of the episode's.
func (g *unitGen) negatives(ep *episode, codes []string) []string {
	var out []string
	for _, s := range rosSymptoms {
		if ep != nil && slices.ContainsFunc(ep.symptoms, func(x string) bool { return strings.Contains(x, s) || strings.Contains(s, x) }) {
			continue
		}
		if slices.ContainsFunc(codes, func(c string) bool { return strings.Contains(strings.ToLower(phrase(c, 0)), s) }) {
			continue
		}
		if g.chance(.35) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		out = []string{"fever"}
		if ep != nil && slices.Contains(ep.symptoms, "fever") {
			out = []string{"hematuria"}
		}
	}
	return out
}

func orList(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

func andList(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

func (g *unitGen) pronoun() string {
	if g.p.d.sex == 'F' {
		return "She"
	}
	return "He"
}

func (g *unitGen) medList(n *noteText, t time.Time) {
	ms := g.chronicMeds(t)
	if len(ms) == 0 {
		n.WriteString("MEDICATIONS: None.\n")
		return
	}
	n.WriteString("MEDICATIONS:\n")
	for _, m := range ms {
		n.f("- %s: %s\n", meds[m].display, meds[m].sig)
	}
}

func (g *unitGen) allergyLine(n *noteText) {
	if len(g.p.allergy) == 0 {
		n.WriteString("ALLERGIES: NKDA.\n")
		return
	}
	var a []string
	for _, x := range g.p.allergy {
		a = append(a, x.display)
	}
	n.f("ALLERGIES: %s.\n", strings.Join(a, ", "))
}

func (g *unitGen) socialLine(n *noteText, t time.Time) {
	switch {
	case g.p.prob("smoker") != nil && !g.p.prob("smoker").onset.After(t):
		n.WriteString("SOCIAL HISTORY: Current smoker, about one pack per day.\n")
	case g.p.prob("exsmoker") != nil:
		n.f("SOCIAL HISTORY: Former smoker, quit %d years ago.\n", 2+g.r.IntN(25))
	case g.p.ageAt(t) >= 14:
		n.WriteString("SOCIAL HISTORY: Never smoker. Occasional alcohol.\n")
	}
}

func (g *unitGen) vitalsLine(n *noteText, x *encCtx) {
	l := x.last
	n.f("Vitals: T %.1f C, HR %.0f, BP %.0f/%.0f, RR %.0f, SpO2 %.0f%%.\n", l["temp"], l["hr"], l["sbp"], l["dbp"], l["rr"], l["spo2"])
}

func (g *unitGen) labsLine(n *noteText, x *encCtx) {
	var parts []string
	for _, k := range []string{"na", "k", "creat", "glucose", "wbc", "hgb", "trop", "bnp", "lactate", "a1c"} {
		if v, ok := x.last[k]; ok {
			name := map[string]string{"na": "Na", "k": "K", "creat": "Cr", "glucose": "glucose", "wbc": "WBC", "hgb": "Hgb", "trop": "troponin I", "bnp": "NT-proBNP", "lactate": "lactate", "a1c": "HbA1c"}[k]
			parts = append(parts, fmt.Sprintf("%s %s", name, trimNum(v, labs[k].places)))
		}
	}
	if len(parts) > 0 {
		n.f("Labs: %s.\n", strings.Join(parts, ", "))
	}
}

func trimNum(v float64, places int) string { return fmt.Sprintf("%.*f", places, v) }

// docRef writes a note as a DocumentReference. signer nil means unsigned.
func (g *unitGen) docRef(x *encCtx, loinc string, n *noteText, created, signed time.Time, author, signer *prac) string {
	return g.docRefAs(x, loinc, n, created, signed, author, signer, "current", "")
}

// docRefAs writes a note with status (current or superseded), replacing
// note replaces ("" if none), and returns its id.
func (g *unitGen) docRefAs(x *encCtx, loinc string, n *noteText, created, signed time.Time, author, signer *prac, status, replaces string) string {
	id := g.id("doc")
	text := n.String()
	d := &DocumentReference{ResourceType: "DocumentReference", ID: id, Status: status, DocStatus: "final",
		Type:      &CodeableConcept{Coding: []Coding{{System: SystemLOINC, Code: loinc, Display: noteTypes[loinc]}}, Text: noteTypes[loinc]},
		Category:  ccs(sysUSCoreDocCat, "clinical-note", "Clinical Note"),
		Subject:   ref(x.patient),
		Date:      dt(signed),
		Author:    []Reference{{Reference: author.ref(), Display: author.name}},
		Custodian: ref("Organization/" + g.sh.hospID),
		Content: []DocContent{{Attachment: Attachment{ContentType: "text/plain", Language: "en-US", Data: b64(text), Size: len(text),
			Title: noteTypes[loinc], Creation: dt(created)}}},
		Context: &DocContext{Encounter: []Reference{{Reference: x.enc}}, Period: &Period{Start: dt(x.c.start), End: dt(x.c.end)},
			PracticeSet: cc(SystemNUCC, x.c.dept.nucc, x.c.dept.nuccDisplay), Related: n.related},
	}
	if signer != nil {
		d.Authenticator = &Reference{Reference: signer.ref(), Display: signer.name}
	} else {
		d.DocStatus = "preliminary"
		d.Date = dt(created)
	}
	if replaces != "" {
		d.RelatesTo = []DocRelatesTo{{Code: "replaces", Target: Reference{Reference: replaces}}}
	}
	d.Meta = n.meta
	g.put(x.slot, "DocumentReference", id, d)
	for _, f := range n.ids {
		fc := *f
		fc.Patient, fc.Encounter, fc.Resource = x.patient, x.enc, "DocumentReference/"+id
		g.fact(x.slot, &fc)
	}
	return id
}

// sign decides who authors and signs an inpatient note, injecting
// unsigned notes and missing co-signatures.
func (g *unitGen) sign(x *encCtx, residentMay bool) (author, signer *prac, def string) {
	c := x.c
	author, signer = c.attending, c.attending
	if residentMay && c.resident != nil && g.chance(.7) {
		author = c.resident
		if g.chance(.03) {
			return author, author, DefMissingCosignature
		}
		return author, c.attending, ""
	}
	if g.chance(.02) {
		return author, nil, DefUnsigned
	}
	return author, signer, ""
}

func (g *unitGen) signedNote(x *encCtx, loinc string, n *noteText, created, signed time.Time, residentMay bool) string {
	author, signer, def := g.sign(x, residentMay)
	id := g.docRef(x, loinc, n, created, signed, author, signer)
	if def != "" {
		g.deficiency(x, def, "DocumentReference/"+id, "")
	}
	return id
}

// inpatientNotes writes the notes of a stay: H&P, daily progress notes,
// operative and procedure notes, consults and the discharge summary,
// with the injected deficiencies.
//
// It reports whether a discharge summary was filed.
func (g *unitGen) inpatientNotes(x *encCtx, days int, procIDs []string) bool {
	c, ep := x.c, x.c.ep
	hasSurgery := slices.ContainsFunc(c.procs, func(p string) bool { return surgical[p] })
	end := g.cfg.End
	// History and physical.
	hpCreated := c.start.Add(time.Duration(20+g.r.IntN(100)) * time.Minute)
	if hasSurgery && hpCreated.After(c.procAt[0].Add(-20*time.Minute)) {
		hpCreated = c.start.Add(10 * time.Minute)
	}
	hpSigned := hpCreated.Add(time.Duration(10+g.r.IntN(180)) * time.Minute)
	if hasSurgery && hpSigned.After(c.procAt[0].Add(-10*time.Minute)) {
		hpSigned = hpCreated.Add(5 * time.Minute)
	}
	hpKind := ""
	if !hasSurgery {
		switch x := g.r.Float64(); {
		case x < .015:
			hpKind = DefMissingHP
		case x < .03 && c.end.Sub(c.start) > 42*time.Hour:
			hpKind = DefLateHP
			hpCreated = c.start.Add(time.Duration(25*60+g.r.IntN(12*60)) * time.Minute)
			hpSigned = hpCreated.Add(time.Duration(5+g.r.IntN(60)) * time.Minute)
			if !hpSigned.Before(c.end) {
				hpKind, hpCreated, hpSigned = "", c.start.Add(time.Hour), c.start.Add(2*time.Hour)
			}
		}
	}
	if hpKind == DefMissingHP {
		g.deficiency(x, DefMissingHP, "", "")
	} else {
		x.use(0)
		n := g.hpText(x)
		id := g.signedNote(x, "34117-2", n, hpCreated, hpSigned, true)
		if hpKind == DefLateHP {
			g.deficiency(x, DefLateHP, "DocumentReference/"+id, dt(hpSigned))
		}
	}
	// Progress notes, one for every day between admission day and
	// discharge day.
	missingDay, earlyDay := -1, -1
	if days >= 2 && g.chance(.02) {
		missingDay = 1 + g.r.IntN(days-1)
	}
	if days >= 2 && g.chance(rateSignedEarly) {
		earlyDay = 1 + g.r.IntN(days-1)
	}
	for d := 1; d < days; d++ {
		t := time.Date(c.start.Year(), c.start.Month(), c.start.Day()+d, 9, g.r.IntN(60), 0, 0, zone)
		if !t.Before(c.end) {
			break
		}
		if d == missingDay {
			g.deficiency(x, DefMissingProgressNote, "", date(t))
			continue
		}
		x.use(d)
		n := g.progressText(x, d, days)
		signed := t.Add(time.Duration(20+g.r.IntN(300)) * time.Minute)
		if d != earlyDay {
			g.signedNote(x, "11506-3", n, t, signed, true)
			continue
		}
		// The signature time was keyed before the note was written.
		author, signer, def := g.sign(x, true)
		if signer == nil {
			signer, def = c.attending, ""
		}
		id := g.docRef(x, "11506-3", n, t, t.Add(-time.Duration(30+g.r.IntN(120))*time.Minute), author, signer)
		if def != "" {
			g.deficiency(x, def, "DocumentReference/"+id, "")
		}
		g.deficiency(x, DefDatesOutOfOrder, "DocumentReference/"+id, "")
	}
	// Operative and procedure notes.
	for i, code := range c.procs {
		if !surgical[code] {
			continue
		}
		if g.chance(.03) {
			g.deficiency(x, DefMissingOperativeNote, "Procedure/"+procIDs[i], "")
			continue
		}
		loinc := "11504-8"
		if code == "0DJ08ZZ" || code == "0DJD8ZZ" || code == "4A023N7" {
			loinc = "28570-0"
		}
		t := c.procAt[i].Add(time.Duration(40+g.r.IntN(60)) * time.Minute)
		if !t.Before(c.end) {
			t = c.procAt[i].Add(20 * time.Minute)
		}
		late := g.chance(rateLateOpNote)
		if late {
			t = x.procEnd[i].Add(time.Duration(26*60+g.r.IntN(48*60)) * time.Minute)
		}
		n := g.opText(x, code)
		n.related = []Reference{{Reference: "Procedure/" + procIDs[i]}}
		signed := t.Add(time.Duration(10+g.r.IntN(120)) * time.Minute)
		g.signedNote(x, loinc, n, t, signed, false)
		if late {
			g.deficiency(x, DefLateOperativeNote, "Procedure/"+procIDs[i], dt(signed))
		}
	}
	// A consult for some stays.
	consult := map[string]string{"hipfx": "medicine", "chf": "cardiology", "pneumonia": "pulmonary", "covid": "pulmonary", "sepsis": "pulmonary", "aki": "medicine", "stroke": "cardiology"}[ep.key]
	if consult != "" && consult != c.dept.key && g.chance(.5) {
		t := c.start.Add(time.Duration(4+g.r.IntN(20)) * time.Hour)
		if t.Before(c.end) {
			cons := g.staff(consult)
			n := g.consultText(x, cons)
			signed := t.Add(time.Duration(30+g.r.IntN(240)) * time.Minute)
			id := g.docRef(x, "11488-4", n, t, signed, cons, cons)
			_ = id
		}
	}
	// Discharge summary.
	dsCreated := c.end.Add(time.Duration(1+g.r.IntN(72)) * time.Hour)
	dsSigned := dsCreated.Add(time.Duration(1+g.r.IntN(48)) * time.Hour)
	switch y := g.r.Float64(); {
	case y < .03 && !c.end.After(end.Add(-31*day)):
		g.deficiency(x, DefMissingDischargeSummary, "", "")
		return false
	case y < .07 && !c.end.After(end.Add(-61*day)):
		dsCreated = c.end.Add(time.Duration(31+g.r.IntN(25))*day + time.Duration(g.r.IntN(8))*time.Hour)
		dsSigned = dsCreated.Add(time.Duration(1+g.r.IntN(48)) * time.Hour)
		n := g.dischargeText(x, days)
		author := c.attending
		id := g.docRef(x, "18842-5", n, dsCreated, dsSigned, author, author)
		g.deficiency(x, DefLateDischargeSummary, "DocumentReference/"+id, dt(dsSigned))
		return true
	}
	x.use(days)
	fault := g.planSummaryFault(c)
	if fault == (dsFault{}) {
		n := g.dischargeText(x, days)
		g.signedNote(x, "18842-5", n, dsCreated, dsSigned, true)
		return true
	}
	g.faultySummary(x, days, fault, dsCreated, dsSigned)
	return true
}

// faultySummary writes a discharge summary with fault f: signed (the
// consistency checks read only a signed summary), by an attending when a
// resident wrote it.
func (g *unitGen) faultySummary(x *encCtx, days int, f dsFault, created, signed time.Time) {
	c := x.c
	x.dsFault = f
	n := g.dischargeText(x, days)
	x.dsFault = dsFault{}
	author, signer, _ := g.sign(x, true)
	signer = c.attending
	text := words(n.String())
	switch {
	case f.omit > 0:
		code := c.codes[f.omit]
		if w := c.written[f.omit]; w != "" || strings.Contains(text, words(phrase(code, 0))) || strings.Contains(text, words(codeTitle(code))) {
			f.omit = 0 // stated elsewhere after all (or miscoded): no fault
		}
	case f.amend:
		orig := g.docRefAs(x, "18842-5", n, created, signed, author, signer, "superseded", "")
		at := signed.Add(time.Duration(24+g.r.IntN(72)) * time.Hour)
		n.f("\nADDENDUM %s: Discharge medication list corrected; no other change.\n", at.Format("01/02/2006"))
		id := g.docRefAs(x, "18842-5", n, at, at, author, nil, "current", "DocumentReference/"+orig)
		g.fact(x.slot, &Fact{Kind: FactDeficiency, Detail: DefUnsignedAmendment, Patient: x.patient, Encounter: x.enc,
			Resource: "DocumentReference/" + id, Replaces: "DocumentReference/" + orig})
		return
	}
	id := g.docRef(x, "18842-5", n, created, signed, author, signer)
	switch {
	case f.omit > 0:
		g.deficiency(x, DefDxNotDocumented, "Condition/"+c.condIDs[f.omit], "")
	case f.extra > 0:
		g.fact(x.slot, &Fact{Kind: FactDeficiency, Detail: DefDxNotCoded, Patient: x.patient, Encounter: x.enc,
			Resource: "DocumentReference/" + id, Text: uncodedTerms[f.extra-1].term})
	}
}

func (g *unitGen) hpText(x *encCtx) *noteText {
	c, ep := x.c, x.c.ep
	n := &noteText{}
	g.header(n, x, "HISTORY AND PHYSICAL")
	n.f("CHIEF COMPLAINT: %s.\n\n", capitalize(ep.complaint))
	n.WriteString("HISTORY OF PRESENT ILLNESS:\nThe patient is ")
	g.aged(n, c.start)
	hist := historyCodes(c.codes)
	if len(hist) > 0 {
		n.f(" with a history of %s", listPhrases(hist, 1))
	}
	n.f(" who presents with %s. ", andList(ep.symptoms))
	n.f("%s denies %s.\n", g.pronoun(), orList(g.negatives(ep, c.codes)))
	g.maybeContact(n, x)
	n.WriteString("\nPAST MEDICAL HISTORY:\n")
	if len(hist) == 0 {
		n.WriteString("- None.\n")
	}
	for _, h := range hist {
		n.f("- %s\n", capitalize(phrase(h, 0)))
	}
	if len(g.p.prior) > 0 {
		n.f("PAST SURGICAL HISTORY: s/p %s.\n", strings.Join(g.p.prior, ", s/p "))
	}
	g.medList(n, c.start)
	g.allergyLine(n)
	g.socialLine(n, c.start)
	n.WriteString("\nPHYSICAL EXAM:\n")
	g.vitalsLine(n, x)
	n.WriteString("General: alert, in no acute distress.\n")
	g.labsLine(n, x)
	n.WriteString("\nASSESSMENT AND PLAN:\nThe patient is ")
	g.aged(n, c.start)
	n.f(" admitted with %s.\n", phrase(c.codes[0], 0))
	n.f("1. %s: %s\n", capitalize(phrase(c.codes[0], 1)), ep.plan)
	for i, code := range c.codes[1:] {
		if c.poa[i+1] == "N" {
			continue // arises during the stay
		}
		n.f("%d. %s: %s\n", i+2, capitalize(phrase(code, 1)), g.planFor(code))
	}
	return n
}

func (g *unitGen) planFor(code string) string {
	switch {
	case strings.HasPrefix(code, "Z"):
		return "noted."
	case strings.HasPrefix(code, "W") || strings.HasPrefix(code, "Y"):
		return "fall precautions."
	case isChronicCode(code):
		return g.oneOf("continue home regimen.", "stable; continue current management.", "monitor.")
	}
	return g.oneOf("treat as above.", "monitor and treat.", "supportive care.")
}

func (g *unitGen) progressText(x *encCtx, d, days int) *noteText {
	c := x.c
	n := &noteText{}
	g.header(n, x, fmt.Sprintf("PROGRESS NOTE - HOSPITAL DAY %d", d+1))
	n.f("S: %s\n", g.oneOf("Feels better today. Tolerating diet.", "Slept well overnight. Pain controlled.", "Reports mild improvement in symptoms.", "No acute events overnight."))
	n.WriteString("O: ")
	g.vitalsLine(n, x)
	g.labsLine(n, x)
	n.WriteString("A/P: ")
	g.aged(n, c.start)
	n.f(" on hospital day %d for %s, %s.\n", d+1, phrase(c.codes[0], 2), g.oneOf("improving", "clinically improving", "slowly improving"))
	for i, code := range c.codes {
		if c.poa[i] == "N" && d < days/2 {
			continue
		}
		n.f("- %s: %s\n", capitalize(phrase(code, 1)), g.planFor(code))
	}
	if d == days-1 {
		n.WriteString("Anticipate discharge tomorrow.\n")
	}
	return n
}

func (g *unitGen) opText(x *encCtx, code string) *noteText {
	c := x.c
	n := &noteText{}
	title := "OPERATIVE REPORT"
	if code == "0DJ08ZZ" || code == "0DJD8ZZ" || code == "4A023N7" {
		title = "PROCEDURE NOTE"
	}
	g.header(n, x, title)
	pre := phrase(c.codes[0], 0)
	n.f("PREOPERATIVE DIAGNOSIS: %s.\nPOSTOPERATIVE DIAGNOSIS: Same.\n", capitalize(pre))
	n.f("PROCEDURE: %s.\n", capitalize(procPhrases[code]))
	n.f("SURGEON: %s.\n", c.attending.name)
	if c.resident != nil {
		n.f("ASSISTANT: %s.\n", c.resident.name)
	}
	n.f("ANESTHESIA: %s.\n", g.oneOf("General endotracheal", "Monitored anesthesia care", "Spinal"))
	n.f("ESTIMATED BLOOD LOSS: %d mL.\nCOMPLICATIONS: None.\n", 10+10*g.r.IntN(30))
	n.WriteString("DESCRIPTION: Informed consent was obtained. Time-out performed. The procedure was performed without difficulty.\n")
	n.WriteString("DISPOSITION: To recovery in stable condition.\n")
	return n
}

func (g *unitGen) consultText(x *encCtx, cons *prac) *noteText {
	c := x.c
	n := &noteText{}
	g.header(n, x, "CONSULTATION - "+strings.ToUpper(cons.dept.nuccDisplay))
	n.f("Requesting physician: %s. Reason for consultation: %s.\n\n", c.attending.name, phrase(c.codes[0], 0))
	n.WriteString("The patient is ")
	g.aged(n, c.start)
	hist := historyCodes(c.codes)
	if len(hist) > 0 {
		n.f(" with %s", listPhrases(hist, 2))
	}
	n.f(", admitted with %s.\n", phrase(c.codes[0], 1))
	g.vitalsLine(n, x)
	n.f("IMPRESSION: %s.\nRECOMMENDATIONS: %s Will follow.\n", capitalize(phrase(c.codes[0], 0)), c.ep.plan)
	return n
}

func (g *unitGen) dischargeText(x *encCtx, days int) *noteText {
	c := x.c
	n := &noteText{}
	if c.died {
		g.header(n, x, "DEATH SUMMARY")
	} else {
		g.header(n, x, "DISCHARGE SUMMARY")
	}
	n.f("LENGTH OF STAY: %d day(s).\nATTENDING: %s.\n\n", max(days, 1), c.attending.name)
	n.f("PRINCIPAL DIAGNOSIS: %s.\n", capitalize(phrase(c.codes[0], 0)))
	f := x.dsFault
	if len(c.codes) > 1 || f.extra > 0 {
		n.WriteString("SECONDARY DIAGNOSES:\n")
		for i, code := range c.codes[1:] {
			if i+1 == f.omit {
				continue
			}
			suffix := ""
			if c.poa[i+1] == "N" {
				suffix = " (developed during this admission)"
			}
			n.f("- %s%s\n", capitalize(phrase(code, 0)), suffix)
		}
		if f.extra > 0 {
			n.f("- %s\n", capitalize(uncodedTerms[f.extra-1].text))
		}
	}
	if len(c.procs) > 0 {
		n.WriteString("PROCEDURES:\n")
		for _, pc := range c.procs {
			n.f("- %s\n", capitalize(procPhrases[pc]))
		}
	}
	n.WriteString("\nHOSPITAL COURSE:\nThe patient is ")
	g.aged(n, c.start)
	n.f(" who was admitted with %s. %s\n", phrase(c.codes[0], 1), c.ep.plan)
	g.maybeContact(n, x)
	if c.died {
		n.f("Despite maximal therapy the patient's condition deteriorated. The patient expired at %s on hospital day %d. The family was present.\n",
			c.end.Format("15:04"), max(days, 1))
		return n
	}
	n.f("\nDISCHARGE DISPOSITION: %s.\n", dispoDisplay[c.dispo])
	ms := g.chronicMeds(c.end)
	if len(ms) > 0 {
		n.WriteString("DISCHARGE MEDICATIONS:\n")
		for _, m := range ms {
			n.f("- %s: %s\n", meds[m].display, meds[m].sig)
		}
	}
	n.f("FOLLOW-UP: With %s in 1-2 weeks.\n", g.p.pcp.name)
	return n
}

// officeNote writes the note of an office or emergency visit.
func (g *unitGen) officeNote(x *encCtx) {
	c := x.c
	n := &noteText{}
	loinc := "11506-3"
	title := "OFFICE VISIT"
	if c.class == 'E' {
		loinc, title = "34111-5", "EMERGENCY DEPARTMENT NOTE"
	}
	g.header(n, x, title)
	complaint := c.complaint
	var symptoms []string
	if c.ep != nil {
		complaint, symptoms = c.ep.complaint, c.ep.symptoms
	}
	n.f("CHIEF COMPLAINT: %s.\n\n", capitalize(complaint))
	n.WriteString("HPI: The patient is ")
	g.aged(n, c.start)
	hist := historyCodes(c.codes)
	if len(hist) > 0 {
		n.f(" with %s", listPhrases(hist, 1))
	}
	if len(symptoms) > 0 {
		n.f(" presenting with %s. ", andList(symptoms))
	} else {
		n.f(" seen for %s. ", complaint)
	}
	n.f("%s denies %s.\n", g.pronoun(), orList(g.negatives(c.ep, c.codes)))
	g.maybeContact(n, x)
	g.medList(n, c.start)
	g.allergyLine(n)
	g.vitalsLine(n, x)
	g.labsLine(n, x)
	n.WriteString("ASSESSMENT AND PLAN:\n")
	for i, code := range c.codes {
		n.f("%d. %s: %s\n", i+1, capitalize(phrase(code, 1)), g.planFor(code))
	}
	if c.ep != nil && c.ep.plan != "" {
		n.WriteString(c.ep.plan + "\n")
	}
	switch {
	case c.class == 'E' && c.ep.class == 'I':
		n.WriteString("DISPOSITION: Admitted to the hospital.\n")
	case c.class == 'E':
		n.WriteString("DISPOSITION: Discharged home in stable condition with return precautions.\n")
	}
	t := c.end.Add(-time.Duration(g.r.IntN(15)) * time.Minute)
	signed := t.Add(time.Duration(10+g.r.IntN(600)) * time.Minute)
	g.docRef(x, loinc, n, t, signed, c.attending, c.attending)
	if c.class == 'O' && c.office == "chronic" {
		g.sensitiveNotes(x, signed)
	}
	if c.ed != nil {
		return
	}
	for i, code := range c.procs {
		if surgical[code] {
			pn := g.opText(x, code)
			pn.related = []Reference{{Reference: "Procedure/" + x.procIDs[i]}}
			at := c.procAt[i].Add(45 * time.Minute)
			g.docRef(x, "28570-0", pn, at, at.Add(time.Hour), c.attending, c.attending)
		}
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// sensitiveNotes sometimes files, after a chronic-care visit, a note from
// the hospital's opioid and alcohol treatment program (a federally
// assisted program, so 42 CFR Part 2 governs it) or a psychotherapy note
// (kept apart from the record under HIPAA), each with its security labels.
func (g *unitGen) sensitiveNotes(x *encCtx, after time.Time) {
	p := g.p
	sud := p.prob("opioid")
	if sud == nil {
		sud = p.prob("alcohol")
	}
	if sud != nil && !sud.onset.After(x.c.start) && g.chance(.4) {
		n := &noteText{}
		n.f("ADDICTION MEDICINE - TREATMENT PROGRAM NOTE\n%s Substance Use Treatment Program\n\n", hospitalName)
		n.f("The patient attends the program for %s. ", phrase(sud.code, 0))
		n.f("%s\nPLAN: Continue program visits; counseling weekly.\n", g.oneOf("Engaged in treatment; no recent use reported.", "Reports one lapse this month; urine toxicology reviewed.", "Stable on treatment; cravings decreasing."))
		n.meta = g.labelled(x.slot, x.patient, x.enc, "", SensitiveSubstanceUse, []Coding{labelSUD, labelPart2, labelRestricted})
		g.sensitiveNote(x, n, "11488-4", after)
	}
	for _, k := range []string{"depression", "anxiety", "bipolar", "schizophrenia"} {
		pr := p.prob(k)
		if pr == nil || pr.onset.After(x.c.start) || !g.chance(.25) {
			continue
		}
		n := &noteText{}
		n.f("PSYCHOTHERAPY NOTE\n%s Behavioral Health\n\n", hospitalName)
		n.f("Individual psychotherapy session, 50 minutes, for %s. %s\n", phrase(pr.code, 0),
			g.oneOf("Explored stressors at work and family conflict.", "Practised cognitive restructuring of negative automatic thoughts.", "Reviewed the safety plan; no current risk."))
		n.meta = g.labelled(x.slot, x.patient, x.enc, "", SensitivePsychotherapy, []Coding{labelPsychNote, labelRestricted})
		g.sensitiveNote(x, n, "11506-3", after)
		break
	}
}

// sensitiveNote writes a labelled note, completing its fact's Resource.
func (g *unitGen) sensitiveNote(x *encCtx, n *noteText, loinc string, after time.Time) {
	t := after.Add(time.Duration(30+g.r.IntN(180)) * time.Minute)
	id := g.docRef(x, loinc, n, t, t.Add(time.Hour), x.c.attending, x.c.attending)
	facts := g.out[x.slot].facts
	facts[len(facts)-1-len(n.ids)].Resource = "DocumentReference/" + id
}
