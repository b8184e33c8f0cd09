package hl7v2

import (
	"strconv"
	"strings"
)

const (
	sysV2IdentifierType = "http://terminology.hl7.org/CodeSystem/v2-0203"
	sysMaritalStatus    = "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus"
	sysActCode          = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	sysNullFlavor       = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
	sysDischarge        = "http://terminology.hl7.org/CodeSystem/discharge-disposition"
	sysParticipation    = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	sysConditionCat     = "http://terminology.hl7.org/CodeSystem/condition-category"
	sysConditionVer     = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
	sysConditionClin    = "http://terminology.hl7.org/CodeSystem/condition-clinical"
	sysAllergyClin      = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
	sysSubscriberRel    = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
	sysCoverageClass    = "http://terminology.hl7.org/CodeSystem/coverage-class"
	sysDiagnosisRole    = "http://terminology.hl7.org/CodeSystem/diagnosis-role"
)

// adtTriggers are the ADT events mapped to resources.
var adtTriggers = map[string]bool{"A01": true, "A02": true, "A03": true, "A04": true, "A08": true, "A11": true, "A13": true, "A28": true, "A31": true}

func (b *builder) adt(res *Result) error {
	switch t := b.h.Trigger; {
	case t == "A40" || t == "A47":
		c, err := b.identityChange()
		if err != nil {
			return err
		}
		res.IdentityChange = c
		return nil
	case !adtTriggers[t]:
		return problem(true, "201", "MSH-9", "ADT^%s is not supported", t)
	}
	if err := b.patientFromPID(); err != nil {
		return err
	}
	// A28 and A31 concern the person, not a visit: their PV1 is empty or
	// a placeholder in most feeds.
	withVisit := b.h.Trigger != "A28" && b.h.Trigger != "A31"
	if withVisit {
		b.encounterFromPV1()
	}
	for _, s := range b.msg.All("AL1") {
		b.allergy(s)
	}
	for _, s := range b.msg.All("DG1") {
		b.condition(s)
	}
	for _, s := range b.msg.All("PR1") {
		b.procedure(s)
	}
	for _, s := range b.msg.All("IN1") {
		b.coverage(s)
	}
	switch {
	case b.encounter != nil && len(b.conditions) > 0:
		// The encounter's diagnoses point at the Conditions just written.
		i := b.byKey["Encounter|"+b.visit.System+"|"+b.visit.Value]
		b.entries[i].Resource["diagnosis"] = b.conditions
	case b.encounter != nil && len(b.msg.All("DG1")) == 0:
		// No DG1: nothing said about the diagnoses, which stay.
		b.keepStored(b.encounter, "diagnosis")
	}
	return nil
}

// patientFromPID writes the Patient of PID (and PD1), keyed on the MRN.
func (b *builder) patientFromPID() error {
	pid := b.msg.Segment("PID")
	if pid == nil {
		return problem(false, "100", "PID", "the message has no PID segment")
	}
	p, mrn, err := b.patientResource(pid)
	if err != nil {
		return err
	}
	if pd1 := b.msg.Segment("PD1"); pd1 != nil {
		if gp := b.practitioner(pd1.Get(4)); gp != nil {
			p["generalPractitioner"] = []any{gp}
		}
	}
	b.mrn = mrn
	b.patient = b.registrationWrite("Patient", mrn, p)
	if b.msg.Segment("PD1") == nil {
		// No PD1: nothing said about the primary care provider.
		b.keepStored(b.patient, "generalPractitioner")
	}
	return nil
}

// patientResource maps PID to a Patient and names its MRN: the PID-3
// identifier of type MR, or the first.
func (b *builder) patientResource(pid *Segment) (obj, Identifier, error) {
	t := b.mp.Tables
	var mrn Identifier
	var ids []any
	for _, c := range pid.Reps(3) {
		id := b.mp.cx(c, t.MRNSystem)
		if id.Value == "" {
			continue
		}
		fi := id.fhir()
		if typ := c.At(5); typ != "" {
			fi["type"] = coded(sysV2IdentifierType, typ, "")
			if typ == "MR" && mrn.Value == "" {
				mrn = id
				fi["use"] = "usual"
			}
		}
		ids = append(ids, fi)
	}
	if mrn.Value == "" && len(ids) > 0 {
		f := ids[0].(obj)
		mrn = Identifier{System: f["system"].(string), Value: f["value"].(string)}
	}
	if mrn.Value == "" {
		return nil, mrn, missing("PID-3", "the patient identifier list (PID-3)")
	}
	if ssn := strings.TrimSpace(pid.Value(19, 1)); ssn != "" {
		ids = append(ids, obj{"system": "http://hl7.org/fhir/sid/us-ssn", "value": ssn, "type": coded(sysV2IdentifierType, "SS", "")})
	}
	p := obj{"identifier": ids}
	var names []any
	for _, c := range pid.Reps(5) {
		if n := humanName(c); n != nil {
			names = append(names, n)
		}
	}
	put(p, "name", names)
	if g, ok := t.Gender[pid.Value(8, 1)]; ok {
		p["gender"] = g
	}
	if d, ok := Date(pid.Value(7, 1)); ok {
		p["birthDate"] = d
	}
	var addrs, tel []any
	for _, c := range pid.Reps(11) {
		if a := address(c); a != nil {
			addrs = append(addrs, a)
		}
	}
	for _, n := range []int{13, 14} {
		for _, c := range pid.Reps(n) {
			if x := telecom(c); x != nil {
				if n == 14 && x["use"] == nil {
					x["use"] = "work"
				}
				tel = append(tel, x)
			}
		}
	}
	put(p, "address", addrs)
	put(p, "telecom", tel)
	if ms, ok := t.MaritalStatus[pid.Value(16, 1)]; ok {
		p["maritalStatus"] = coded(sysMaritalStatus, ms, pid.Value(16, 2))
	}
	if dt, ok := DateTime(pid.Value(29, 1)); ok {
		p["deceasedDateTime"] = dt
	} else if v := pid.Value(30, 1); v == "Y" || v == "N" {
		p["deceasedBoolean"] = v == "Y"
	}
	return p, mrn, nil
}

// encounterFromPV1 writes the Encounter of PV1 (and PV2), keyed on the
// visit number (PV1-19, else the account number PID-18, else the MRN and
// admission time). Without any of them there is no Encounter.
func (b *builder) encounterFromPV1() {
	pv1 := b.msg.Segment("PV1")
	if pv1 == nil {
		return
	}
	t := b.mp.Tables
	visit := b.mp.cx(pv1.Get(19), "")
	if visit.Value == "" {
		visit = b.mp.cx(b.msg.Segment("PID").Get(18), "")
	}
	if visit.Value != "" && visit.System == "" {
		visit.System = t.LocalSystemPrefix + urnPart(b.h.SendingFacility) + ":visit"
	}
	admit := pv1.Value(44, 1)
	if visit.Value == "" {
		if admit == "" {
			return
		}
		visit = b.local("visit", b.mrn.System, b.mrn.Value, admit)
	}
	e := obj{"identifier": []any{visit.fhir()}, "subject": ref(b.patient)}
	status := t.EncounterStatus[b.h.Trigger]
	end, hasEnd := DateTime(pv1.Value(45, 1))
	if b.h.Trigger == "A13" {
		hasEnd = false // the discharge is cancelled
	}
	if status == "" {
		switch {
		case hasEnd:
			status = "finished"
		case admit != "":
			status = "in-progress"
		default:
			status = "planned"
		}
	}
	e["status"] = status
	class := pv1.Value(2, 1)
	if c, ok := t.PatientClass[class]; ok {
		e["class"] = obj{"system": sysActCode, "code": c}
	} else if class != "" {
		e["class"] = obj{"system": "http://terminology.hl7.org/CodeSystem/v2-0004", "code": class}
	} else {
		e["class"] = obj{"system": sysNullFlavor, "code": "UNK"}
	}
	period := obj{}
	if s, ok := DateTime(admit); ok {
		period["start"] = s
	}
	if hasEnd {
		period["end"] = end
	}
	put(e, "period", period)
	if st := pv1.Value(10, 1); st != "" {
		e["serviceType"] = coded("http://terminology.hl7.org/CodeSystem/v2-0069", st, "")
	}
	var parts []any
	for _, p := range []struct {
		field      int
		code, text string
	}{{7, "ATND", "attender"}, {8, "REF", "referrer"}, {9, "CON", "consultant"}, {17, "ADM", "admitter"}} {
		for _, c := range pv1.Reps(p.field) {
			if r := b.practitioner(c); r != nil {
				parts = append(parts, obj{"type": []any{coded(sysParticipation, p.code, p.text)}, "individual": r})
			}
		}
	}
	put(e, "participant", parts)
	var locs []any
	if prior := b.location(pv1.Get(6)); prior != nil && b.h.Trigger == "A02" {
		locs = append(locs, obj{"location": prior, "status": "completed"})
	}
	if cur := b.location(pv1.Get(3)); cur != nil {
		st := "active"
		if status == "finished" || status == "cancelled" {
			st = "completed"
		}
		locs = append(locs, obj{"location": cur, "status": st})
	}
	put(e, "location", locs)
	hosp := obj{}
	if d := pv1.Value(36, 1); d != "" && hasEnd {
		cc := obj{"coding": []any{obj{"system": "http://terminology.hl7.org/CodeSystem/v2-0112", "code": d}}}
		if f, ok := t.DischargeDisposition[d]; ok {
			cc["coding"] = append([]any{obj{"system": sysDischarge, "code": f}}, cc["coding"].([]any)...)
		}
		hosp["dischargeDisposition"] = cc
	}
	if src := pv1.Value(14, 1); src != "" {
		hosp["admitSource"] = coded("http://terminology.hl7.org/CodeSystem/v2-0023", src, "")
	}
	put(e, "hospitalization", hosp)
	if pv2 := b.msg.Segment("PV2"); pv2 != nil {
		if r := b.mp.codeable(pv2.Get(3)); r != nil {
			e["reasonCode"] = []any{r}
		}
	}
	b.visit = visit
	b.encounter = b.registrationWrite("Encounter", visit, e)
	if b.msg.Segment("PV2") == nil {
		// No PV2: nothing said about the reason for the visit.
		b.keepStored(b.encounter, "reasonCode")
	}
}

// location writes the Location a PL (pointOfCare^room^bed^facility^…)
// names, known by facility, point of care, room and bed.
func (b *builder) location(c Component) obj {
	if c.Empty() {
		return nil
	}
	var parts []string
	for _, n := range []int{1, 2, 3} {
		if v := strings.TrimSpace(c.At(n)); v != "" {
			parts = append(parts, v)
		}
	}
	if len(parts) == 0 {
		return nil
	}
	fac := c.At(4)
	if fac == "" {
		fac = b.h.SendingFacility
	}
	id := b.local("location", append([]string{fac}, parts...)...)
	name := strings.Join(parts, " ")
	l := obj{"identifier": []any{id.fhir()}, "name": name, "status": "active", "mode": "instance"}
	r := b.ensure("Location", id, l)
	r["display"] = name
	return r
}

// condition writes the Condition of a DG1 segment.
func (b *builder) condition(s *Segment) {
	t := b.mp.Tables
	code := b.mp.codeable(s.Get(3))
	if code == nil {
		if d := s.Value(4, 1); d != "" {
			code = obj{"text": d}
		} else {
			return
		}
	}
	id := b.mp.ei(s.Get(20), "diagnosis")
	if id.Value == "" {
		id = b.local("diagnosis", b.mrn.Value, b.visit.Value, codeKey(s.Get(3), s.Value(4, 1)))
	}
	c := obj{"identifier": []any{id.fhir()}, "subject": ref(b.patient), "code": code,
		"category": []any{coded(sysConditionCat, "encounter-diagnosis", "Encounter Diagnosis")}}
	if v, ok := t.DiagnosisVerification[s.Value(6, 1)]; ok {
		c["verificationStatus"] = coded(sysConditionVer, v, "")
	}
	put(c, "encounter", ref(b.encounter))
	if on, ok := DateTime(s.Value(5, 1)); ok {
		c["onsetDateTime"] = on
	}
	if by := b.practitioner(s.Get(16)); by != nil {
		c["asserter"] = by
	}
	if rec, ok := DateTime(s.Value(19, 1)); ok {
		c["recordedDate"] = rec
	}
	r := b.upsert("Condition", id, c)
	if b.encounter != nil {
		d := obj{"condition": r}
		if rank, err := strconv.Atoi(s.Value(15, 1)); err == nil && rank > 0 {
			d["rank"] = rank
		}
		if s.Value(6, 1) == "A" {
			d["use"] = coded(sysDiagnosisRole, "AD", "Admission diagnosis")
		} else if s.Value(6, 1) == "F" {
			d["use"] = coded(sysDiagnosisRole, "DD", "Discharge diagnosis")
		}
		b.conditions = append(b.conditions, d)
	}
}

// procedure writes the Procedure of a PR1 segment.
func (b *builder) procedure(s *Segment) {
	code := b.mp.codeable(s.Get(3))
	if code == nil {
		if d := s.Value(4, 1); d != "" {
			code = obj{"text": d}
		} else {
			return
		}
	}
	id := b.mp.ei(s.Get(19), "procedure")
	if id.Value == "" {
		id = b.local("procedure", b.mrn.Value, b.visit.Value, codeKey(s.Get(3), s.Value(4, 1)), s.Value(5, 1))
	}
	p := obj{"identifier": []any{id.fhir()}, "status": "completed", "subject": ref(b.patient), "code": code}
	put(p, "encounter", ref(b.encounter))
	if at, ok := DateTime(s.Value(5, 1)); ok {
		p["performedDateTime"] = at
	}
	var perf []any
	for _, n := range []int{11, 12, 8} { // surgeon, procedure practitioner, anesthesiologist
		for _, c := range s.Reps(n) {
			if r := b.practitioner(c); r != nil {
				perf = append(perf, obj{"actor": r})
			}
		}
	}
	put(p, "performer", perf)
	b.upsert("Procedure", id, p)
}

// allergy writes the AllergyIntolerance of an AL1 segment.
func (b *builder) allergy(s *Segment) {
	t := b.mp.Tables
	code := b.mp.codeable(s.Get(3))
	if code == nil {
		return
	}
	id := b.local("allergy", b.mrn.System, b.mrn.Value, codeKey(s.Get(3), ""))
	a := obj{"identifier": []any{id.fhir()}, "patient": ref(b.patient), "code": code,
		"clinicalStatus": coded(sysAllergyClin, "active", "Active")}
	typ := s.Value(2, 1)
	if c, ok := t.AllergyCategory[typ]; ok {
		a["category"] = []any{c}
	}
	if c, ok := t.AllergyType[typ]; ok {
		a["type"] = c
	}
	sev := s.Value(4, 1)
	if c, ok := t.AllergyCriticality[sev]; ok {
		a["criticality"] = c
	}
	if on, ok := DateTime(s.Value(6, 1)); ok {
		a["onsetDateTime"] = on
	}
	var manif []any
	for _, c := range s.Reps(5) {
		if v := c.At(1); v != "" {
			manif = append(manif, obj{"text": v})
		}
	}
	if len(manif) > 0 {
		r := obj{"manifestation": manif}
		if v, ok := t.AllergySeverity[sev]; ok {
			r["severity"] = v
		}
		a["reaction"] = []any{r}
	}
	b.upsert("AllergyIntolerance", id, a)
}

// coverage writes the Coverage of an IN1 segment, keyed on the policy
// number (IN1-36) or, without one, on the patient, plan and company.
func (b *builder) coverage(s *Segment) {
	policy := strings.TrimSpace(s.Value(36, 1))
	plan, company := s.Value(2, 1), s.Value(3, 1)
	name := s.Value(4, 1)
	if policy == "" && plan == "" && company == "" && name == "" {
		return
	}
	var id Identifier
	if policy != "" {
		id = Identifier{System: b.mp.Tables.LocalSystemPrefix + urnPart(orDefault(company, name)) + ":policy", Value: policy}
	} else {
		id = b.local("coverage", b.mrn.System, b.mrn.Value, plan, company, s.Value(1, 1))
	}
	payor := obj{}
	put(payor, "display", name)
	if company != "" {
		payor["identifier"] = b.mp.cx(s.Get(3), b.mp.Tables.LocalSystemPrefix+"insurer").fhir()
	}
	if len(payor) == 0 {
		payor["display"] = plan
	}
	c := obj{"identifier": []any{id.fhir()}, "status": "active", "beneficiary": ref(b.patient), "payor": []any{payor}}
	if policy != "" {
		c["subscriberId"] = policy
	}
	if ty := b.mp.codeable(s.Get(15)); ty != nil {
		c["type"] = ty
	}
	var classes []any
	if plan != "" {
		classes = append(classes, obj{"type": coded(sysCoverageClass, "plan", "Plan"), "value": plan, "name": orDefault(s.Value(2, 2), plan)})
	}
	if g := s.Value(8, 1); g != "" {
		cl := obj{"type": coded(sysCoverageClass, "group", "Group"), "value": g}
		put(cl, "name", s.Value(9, 1))
		classes = append(classes, cl)
	}
	put(c, "class", classes)
	period := obj{}
	if d, ok := Date(s.Value(12, 1)); ok {
		period["start"] = d
	}
	if d, ok := Date(s.Value(13, 1)); ok {
		period["end"] = d
	}
	put(c, "period", period)
	if rel := relationship(s.Value(17, 1)); rel != "" {
		c["relationship"] = coded(sysSubscriberRel, rel, "")
	}
	if n, err := strconv.Atoi(s.Value(22, 1)); err == nil && n > 0 {
		c["order"] = n
	}
	b.upsert("Coverage", id, c)
}

// relationship maps table 0063 to subscriber-relationship.
func relationship(v string) string {
	switch v {
	case "SEL", "01":
		return "self"
	case "SPO", "02":
		return "spouse"
	case "CHD", "03":
		return "child"
	case "PAR":
		return "parent"
	case "DOM":
		return "common"
	case "":
		return ""
	}
	return "other"
}

func orDefault(v, d string) string {
	if v != "" {
		return v
	}
	return d
}

// codeKey is a stable key for a coded value: system and code, or the text.
func codeKey(c Component, text string) string {
	if code := c.At(1); code != "" {
		return c.At(3) + "^" + code
	}
	if t := c.At(2); t != "" {
		return t
	}
	return text
}

// ei converts an EI (entity^namespace^universalId^type) to an identifier;
// kind names the local system when only the namespace is known.
func (mp *Mapper) ei(c Component, kind string) Identifier {
	v := strings.TrimSpace(c.At(1))
	if v == "" {
		return Identifier{}
	}
	ns, uid, ut := c.At(2), c.At(3), c.At(4)
	if s, ok := mp.Tables.AssigningAuthorities[ns]; ok && ns != "" {
		return Identifier{System: s, Value: v}
	}
	if isOID(uid) && (ut == "" || strings.EqualFold(ut, "ISO")) {
		return Identifier{System: "urn:oid:" + uid, Value: v}
	}
	if ns != "" {
		return Identifier{System: mp.Tables.LocalSystemPrefix + urnPart(ns) + ":" + kind, Value: v}
	}
	if isOID(v) {
		return Identifier{System: "urn:ietf:rfc:3986", Value: "urn:oid:" + v}
	}
	return Identifier{System: mp.Tables.LocalSystemPrefix + kind, Value: v}
}

// identityChange reads an A40 or A47: the surviving identifier in PID-3,
// the retired one in MRG-1.
func (b *builder) identityChange() (*IdentityChange, error) {
	pid := b.msg.Segment("PID")
	if pid == nil {
		return nil, problem(false, "100", "PID", "the message has no PID segment")
	}
	mrg := b.msg.Segment("MRG")
	if mrg == nil {
		return nil, problem(false, "100", "MRG", "a %s needs an MRG segment", b.h.Trigger)
	}
	p, survivor, err := b.patientResource(pid)
	if err != nil {
		return nil, err
	}
	p["resourceType"] = "Patient"
	var retired Identifier
	for _, c := range mrg.Reps(1) {
		if id := b.mp.cx(c, b.mp.Tables.MRNSystem); id.Value != "" && (retired.Value == "" || c.At(5) == "MR") {
			retired = id
		}
	}
	if retired.Value == "" {
		return nil, missing("MRG-1", "the prior patient identifier (MRG-1)")
	}
	kind := "merge"
	if b.h.Trigger == "A47" {
		kind = "identifier-change"
	}
	c := &IdentityChange{Kind: kind, Survivor: survivor, Retired: retired, RetiredAccount: mrg.Value(3, 1),
		ControlID: b.h.ControlID, Patient: p}
	if evn := b.msg.Segment("EVN"); evn != nil {
		c.Recorded = dateTimeOr(evn.Value(2, 1))
	}
	return c, nil
}
