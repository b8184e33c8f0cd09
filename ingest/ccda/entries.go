package ccda

import (
	"encoding/json"
	"strings"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/ingest/hl7v2"
)

// ii converts an II (root, extension) to an identifier: the SSN and NPI
// roots to their FHIR systems, other OIDs to urn:oid:, and a root alone
// (a UUID or OID naming the thing itself) to an RFC 3986 URI.
func ii(n *node) (Identifier, bool) {
	if n == nil || n.attr("nullFlavor") != "" {
		return Identifier{}, false
	}
	root, ext := strings.TrimSpace(n.attr("root")), strings.TrimSpace(n.attr("extension"))
	if root == "" {
		return Identifier{}, false
	}
	if ext == "" {
		if isOID(root) {
			return Identifier{System: "urn:ietf:rfc:3986", Value: "urn:oid:" + root}, true
		}
		return Identifier{System: "urn:ietf:rfc:3986", Value: "urn:uuid:" + strings.ToLower(root)}, true
	}
	switch root {
	case oidSSN:
		return Identifier{System: "http://hl7.org/fhir/sid/us-ssn", Value: ext}, true
	case oidNPI:
		return Identifier{System: "http://hl7.org/fhir/sid/us-npi", Value: ext}, true
	}
	if isOID(root) {
		return Identifier{System: "urn:oid:" + root, Value: ext}, true
	}
	return Identifier{System: "urn:uuid:" + strings.ToLower(root), Value: ext}, true
}

func isOID(s string) bool {
	if !strings.Contains(s, ".") {
		return false
	}
	for _, p := range strings.Split(s, ".") {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

// coding converts a CD's code, system and display.
func coding(n *node) obj {
	code := strings.TrimSpace(n.attr("code"))
	if code == "" {
		return nil
	}
	c := obj{"code": code}
	if sys := n.attr("codeSystem"); sys != "" {
		if uri, ok := codeSystems[sys]; ok {
			c["system"] = uri
		} else {
			c["system"] = "urn:oid:" + sys
		}
	}
	if d := strings.TrimSpace(n.attr("displayName")); d != "" {
		c["display"] = d
	}
	return c
}

// codeable converts a CD with its translations to a CodeableConcept.
func codeable(n *node) obj {
	if n == nil {
		return nil
	}
	var codings []any
	if c := coding(n); c != nil {
		codings = append(codings, c)
	}
	for _, t := range n.all("translation") {
		if c := coding(t); c != nil {
			codings = append(codings, c)
		}
	}
	cc := obj{}
	if len(codings) > 0 {
		cc["coding"] = codings
	}
	if t := n.kid("originalText").text(); t != "" {
		cc["text"] = t
	} else if d := strings.TrimSpace(n.attr("displayName")); d != "" {
		cc["text"] = d
	}
	if len(cc) == 0 {
		return nil
	}
	return cc
}

// ts converts a TS value (the same form as HL7 v2's DTM) to a FHIR
// dateTime.
func ts(n *node) (string, bool) {
	if n == nil {
		return "", false
	}
	return hl7v2.DateTime(n.attr("value"))
}

// period converts an IVL_TS: low and high, or a single value.
func period(n *node) obj {
	if n == nil {
		return nil
	}
	p := obj{}
	if v, ok := ts(n); ok {
		p["start"] = v
	}
	if v, ok := ts(n.kid("low")); ok {
		p["start"] = v
	}
	if v, ok := ts(n.kid("high")); ok {
		// FHIR requires start <= end; a document that says otherwise keeps
		// only its start.
		if s, _ := p["start"].(string); s == "" || s <= v {
			p["end"] = v
		}
	}
	if len(p) == 0 {
		return nil
	}
	return p
}

// pointTime is the effective time of an entry: its value, or low.
func pointTime(n *node) (string, bool) {
	if v, ok := ts(n); ok {
		return v, true
	}
	return ts(n.kid("low"))
}

func number(s string) (json.Number, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", false
	}
	if strings.HasPrefix(s, ".") {
		s = "0" + s
	}
	n := json.Number(s)
	if _, err := n.Float64(); err != nil || strings.ContainsAny(s, "eE+") {
		return "", false
	}
	return n, true
}

// quantity converts a PQ (value, unit) to a Quantity with its UCUM unit.
func quantity(n *node) obj {
	v, ok := number(n.attr("value"))
	if !ok {
		return nil
	}
	q := obj{"value": v}
	if u := n.attr("unit"); u != "" && u != "1" {
		q["unit"] = u
		q["system"] = "http://unitsofmeasure.org"
		q["code"] = u
	}
	return q
}

// patient finds or creates the Patient of recordTarget/patientRole, keyed
// on its first identifier.
func (b *builder) patient(root *node) error {
	pr := root.at("recordTarget/patientRole")
	if pr == nil {
		return custodian.Errorf(custodian.EINVALID, "ccda: the document has no recordTarget/patientRole")
	}
	var ids []any
	var key Identifier
	for _, x := range pr.all("id") {
		if id, ok := ii(x); ok {
			ids = append(ids, id.fhir())
			if key.Value == "" {
				key = id
			}
		}
	}
	if key.Value == "" {
		return custodian.Errorf(custodian.EINVALID, "ccda: the patient has no identifier (recordTarget/patientRole/id)")
	}
	p := obj{"identifier": ids}
	pat := pr.kid("patient")
	var names []any
	for _, n := range pat.all("name") {
		if hn := humanName(n); hn != nil {
			names = append(names, hn)
		}
	}
	if len(names) > 0 {
		p["name"] = names
	}
	switch pat.kid("administrativeGenderCode").attr("code") {
	case "M":
		p["gender"] = "male"
	case "F":
		p["gender"] = "female"
	case "UN":
		p["gender"] = "other"
	}
	if d, ok := ts(pat.kid("birthTime")); ok {
		if len(d) > 10 {
			d = d[:10]
		}
		p["birthDate"] = d
	}
	if ms := pat.kid("maritalStatusCode").attr("code"); ms != "" {
		p["maritalStatus"] = obj{"coding": []any{obj{"system": sysMaritalStatus, "code": ms}}}
	}
	var addrs, tels []any
	for _, a := range pr.all("addr") {
		if x := address(a); x != nil {
			addrs = append(addrs, x)
		}
	}
	for _, t := range pr.all("telecom") {
		if x := telecom(t); x != nil {
			tels = append(tels, x)
		}
	}
	if len(addrs) > 0 {
		p["address"] = addrs
	}
	if len(tels) > 0 {
		p["telecom"] = tels
	}
	if lang := pat.at("languageCommunication/languageCode").attr("code"); lang != "" {
		p["communication"] = []any{obj{"language": obj{"coding": []any{obj{"system": "urn:ietf:bcp:47", "code": lang}}}}}
	}
	// A document from elsewhere names the patient but does not own the
	// registration: the Patient is created if none has the identifier,
	// never overwritten.
	b.patientKey = key
	b.patientR = b.ensure("Patient", key, p)
	return nil
}

func humanName(n *node) obj {
	if n.attr("nullFlavor") != "" {
		return nil
	}
	h := obj{}
	var given, prefix, suffix []any
	for _, k := range n.Kids {
		v := k.text()
		if v == "" {
			continue
		}
		switch k.Name {
		case "given":
			given = append(given, v)
		case "family":
			h["family"] = v
		case "prefix":
			prefix = append(prefix, v)
		case "suffix":
			suffix = append(suffix, v)
		}
	}
	if len(n.Kids) == 0 && n.text() != "" {
		h["text"] = n.text()
	}
	if len(given) > 0 {
		h["given"] = given
	}
	if len(prefix) > 0 {
		h["prefix"] = prefix
	}
	if len(suffix) > 0 {
		h["suffix"] = suffix
	}
	switch n.attr("use") {
	case "L", "C":
		h["use"] = "official"
	case "P":
		h["use"] = "nickname"
	case "A":
		h["use"] = "anonymous"
	}
	if len(h) == 0 {
		return nil
	}
	return h
}

func address(n *node) obj {
	if n.attr("nullFlavor") != "" {
		return nil
	}
	a := obj{}
	var lines []any
	for _, l := range n.all("streetAddressLine") {
		if v := l.text(); v != "" {
			lines = append(lines, v)
		}
	}
	if len(lines) > 0 {
		a["line"] = lines
	}
	for k, f := range map[string]string{"city": "city", "state": "state", "postalCode": "postalCode", "country": "country"} {
		if v := n.kid(k).text(); v != "" {
			a[f] = v
		}
	}
	switch n.attr("use") {
	case "H", "HP", "HV":
		a["use"] = "home"
	case "WP", "DIR", "PUB":
		a["use"] = "work"
	case "TMP":
		a["use"] = "temp"
	case "OLD", "BAD":
		a["use"] = "old"
	}
	if len(a) == 0 {
		return nil
	}
	return a
}

func telecom(n *node) obj {
	v := strings.TrimSpace(n.attr("value"))
	if v == "" {
		return nil
	}
	t := obj{}
	switch {
	case strings.HasPrefix(v, "tel:"):
		t["system"], t["value"] = "phone", strings.TrimSpace(v[4:])
	case strings.HasPrefix(v, "mailto:"):
		t["system"], t["value"] = "email", strings.TrimSpace(v[7:])
	case strings.HasPrefix(v, "fax:"):
		t["system"], t["value"] = "fax", strings.TrimSpace(v[4:])
	default:
		t["system"], t["value"] = "other", v
	}
	switch n.attr("use") {
	case "H", "HP", "HV":
		t["use"] = "home"
	case "WP", "DIR", "PUB":
		t["use"] = "work"
	case "MC", "PG":
		t["use"] = "mobile"
	case "TMP":
		t["use"] = "temp"
	}
	return t
}

// person writes the Practitioner of an assignedAuthor / assignedEntity
// that names a person with an id, and returns a reference to it.
func (b *builder) person(role *node, personTag string) obj {
	if role == nil {
		return nil
	}
	who := role.kid(personTag)
	var id Identifier
	for _, x := range role.all("id") {
		if i, ok := ii(x); ok {
			id = i
			break
		}
	}
	if who == nil || id.Value == "" {
		return nil
	}
	p := obj{"identifier": []any{id.fhir()}}
	display := ""
	if n := humanName(who.kid("name")); n != nil {
		p["name"] = []any{n}
		var parts []string
		if g, ok := n["given"].([]any); ok && len(g) > 0 {
			parts = append(parts, g[0].(string))
		}
		if f, ok := n["family"].(string); ok {
			parts = append(parts, f)
		}
		display = strings.Join(parts, " ")
	}
	r := b.ensure("Practitioner", id, p)
	if display != "" {
		r["display"] = display
	}
	return r
}

// encompassing writes the Encounter of componentOf/encompassingEncounter.
func (b *builder) encompassing(root *node) {
	ee := root.at("componentOf/encompassingEncounter")
	if ee == nil {
		return
	}
	var id Identifier
	for _, x := range ee.all("id") {
		if i, ok := ii(x); ok {
			id = i
			break
		}
	}
	if id.Value == "" {
		return
	}
	e := b.encounterResource(ee, id)
	if r := b.person(ee.at("responsibleParty/assignedEntity"), "assignedPerson"); r != nil {
		e["participant"] = []any{obj{"individual": r}}
	}
	b.encounter = b.upsert("Encounter", id, e)
}

func (b *builder) encounterResource(n *node, id Identifier) obj {
	e := obj{"identifier": []any{id.fhir()}, "subject": ref(b.patientR)}
	code := n.kid("code")
	class := obj{"system": sysNullFlavor, "code": "UNK"}
	for _, c := range append([]*node{code}, code.all("translation")...) {
		if c.attr("codeSystem") == "2.16.840.1.113883.5.4" && c.attr("code") != "" {
			class = obj{"system": sysActCode, "code": c.attr("code")}
			if d := c.attr("displayName"); d != "" {
				class["display"] = d
			}
			break
		}
	}
	e["class"] = class
	if t := codeable(code); t != nil {
		e["type"] = []any{t}
	}
	p := period(n.kid("effectiveTime"))
	if p != nil {
		e["period"] = p
	}
	switch n.kid("statusCode").attr("code") {
	case "active":
		e["status"] = "in-progress"
	case "completed":
		e["status"] = "finished"
	case "cancelled", "aborted":
		e["status"] = "cancelled"
	default:
		if p != nil && p["end"] != nil {
			e["status"] = "finished"
		} else {
			e["status"] = "unknown"
		}
	}
	if d := codeable(n.kid("dischargeDispositionCode")); d != nil {
		e["hospitalization"] = obj{"dischargeDisposition": d}
	}
	return e
}

// body walks the structured body and maps each entry it knows by
// template; organizers bring their observations along.
func (b *builder) body(root *node) {
	body := root.at("component/structuredBody")
	body.walk(func(n *node) bool {
		switch {
		case n.hasTemplate(tmplProblemObs):
			b.problem(n)
		case n.hasTemplate(tmplAllergyObs):
			b.allergy(n)
		case n.hasTemplate(tmplMedication):
			b.medication(n)
			return false
		case n.hasTemplate(tmplResultOrg):
			b.results(n, "laboratory", true)
			return false
		case n.hasTemplate(tmplVitalOrg):
			b.results(n, "vital-signs", false)
			return false
		case n.hasTemplate(tmplProcedure), n.hasTemplate(tmplProcedureAct), n.hasTemplate(tmplProcedureObs):
			b.procedure(n)
			return false
		case n.hasTemplate(tmplEncounter):
			b.encounterEntry(n)
			return false
		case n.hasTemplate(tmplImmunization):
			b.immunization(n)
			return false
		}
		return true
	})
}

// problem maps a Problem Observation to a Condition; its value carries the
// problem code with any ICD-10-CM translation.
func (b *builder) problem(n *node) {
	code := codeable(n.kid("value"))
	if code == nil {
		return
	}
	id := b.entryID(n, "problem")
	c := obj{"identifier": []any{id.fhir()}, "subject": ref(b.patientR), "code": code,
		"category": []any{obj{"coding": []any{obj{"system": sysConditionCat, "code": "problem-list-item", "display": "Problem List Item"}}}}}
	et := n.kid("effectiveTime")
	if v, ok := pointTime(et); ok {
		c["onsetDateTime"] = v
	}
	clinical := "active"
	if v, ok := ts(et.kid("high")); ok {
		c["abatementDateTime"] = v
		clinical = "resolved"
	}
	for _, r := range n.related() {
		if r.hasTemplate(tmplProblemStatus) {
			switch r.kid("value").attr("code") {
			case "413322009": // resolved
				clinical = "resolved"
			case "73425007": // inactive
				clinical = "inactive"
			case "55561003": // active
				clinical = "active"
			}
		}
	}
	if n.attr("negationInd") == "true" {
		c["verificationStatus"] = obj{"coding": []any{obj{"system": sysConditionVer, "code": "refuted"}}}
	} else {
		c["clinicalStatus"] = obj{"coding": []any{obj{"system": sysConditionClin, "code": clinical}}}
		c["verificationStatus"] = obj{"coding": []any{obj{"system": sysConditionVer, "code": "confirmed"}}}
	}
	if v, ok := ts(n.at("author/time")); ok {
		c["recordedDate"] = v
	}
	if b.encounter != nil {
		c["encounter"] = ref(b.encounter)
	}
	b.upsert("Condition", id, c)
}

// allergyKinds maps the allergy observation's value (SNOMED CT) to the
// AllergyIntolerance type and category.
var allergyKinds = map[string][2]string{
	"419199007": {"allergy", ""}, "416098002": {"allergy", "medication"}, "414285001": {"allergy", "food"},
	"426232007": {"allergy", "environment"}, "419511003": {"", "medication"}, "418471000": {"", "food"},
	"59037007": {"intolerance", "medication"}, "235719002": {"intolerance", "food"}, "420134006": {"", ""},
	"418038007": {"", "environment"},
}

var severities = map[string]string{"24484000": "severe", "6736007": "moderate", "255604002": "mild", "371923003": "mild", "371924009": "moderate"}

// allergy maps an Allergy Intolerance Observation.
func (b *builder) allergy(n *node) {
	id := b.entryID(n, "allergy")
	a := obj{"identifier": []any{id.fhir()}, "patient": ref(b.patientR)}
	if c := codeable(n.at("participant/participantRole/playingEntity/code")); c != nil {
		a["code"] = c
	}
	kind := allergyKinds[n.kid("value").attr("code")]
	if kind[0] != "" {
		a["type"] = kind[0]
	}
	if kind[1] != "" {
		a["category"] = []any{kind[1]}
	}
	if n.attr("negationInd") == "true" {
		a["verificationStatus"] = obj{"coding": []any{obj{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "code": "refuted"}}}
	} else {
		status := "active"
		if _, ok := ts(n.at("effectiveTime/high")); ok {
			status = "resolved"
		}
		a["clinicalStatus"] = obj{"coding": []any{obj{"system": sysAllergyClin, "code": status}}}
	}
	if v, ok := pointTime(n.kid("effectiveTime")); ok {
		a["onsetDateTime"] = v
	}
	var reactions []any
	severity := ""
	for _, r := range n.related() {
		switch {
		case r.hasTemplate(tmplReaction):
			m := codeable(r.kid("value"))
			if m == nil {
				continue
			}
			re := obj{"manifestation": []any{m}}
			for _, s := range r.related() {
				if s.hasTemplate(tmplSeverity) {
					if v := severities[s.kid("value").attr("code")]; v != "" {
						re["severity"] = v
					}
				}
			}
			reactions = append(reactions, re)
		case r.hasTemplate(tmplSeverity):
			severity = severities[r.kid("value").attr("code")]
		}
	}
	if severity != "" {
		for _, r := range reactions {
			if r.(obj)["severity"] == nil {
				r.(obj)["severity"] = severity
			}
		}
		if severity == "severe" {
			a["criticality"] = "high"
		} else {
			a["criticality"] = "low"
		}
	}
	if len(reactions) > 0 {
		a["reaction"] = reactions
	}
	b.upsert("AllergyIntolerance", id, a)
}

// medication maps a Medication Activity to a MedicationStatement.
func (b *builder) medication(n *node) {
	med := codeable(n.at("consumable/manufacturedProduct/manufacturedMaterial/code"))
	if med == nil {
		return
	}
	id := b.entryID(n, "medication")
	status := map[string]string{"active": "active", "completed": "completed", "aborted": "stopped", "suspended": "on-hold",
		"cancelled": "not-taken", "nullified": "entered-in-error", "new": "intended"}[n.kid("statusCode").attr("code")]
	if status == "" {
		status = "unknown"
	}
	if n.attr("moodCode") == "INT" && status == "active" {
		status = "intended"
	}
	m := obj{"identifier": []any{id.fhir()}, "status": status, "subject": ref(b.patientR), "medicationCodeableConcept": med}
	dosage := obj{}
	for _, et := range n.all("effectiveTime") {
		switch et.attr("type") {
		case "PIVL_TS":
			if q := quantity(et.kid("period")); q != nil {
				if unit, ok := ucumTime[et.kid("period").attr("unit")]; ok {
					dosage["timing"] = obj{"repeat": obj{"period": q["value"], "periodUnit": unit}}
				}
			}
		case "IVL_TS", "":
			if p := period(et); p != nil {
				m["effectivePeriod"] = p
			}
		}
	}
	if r := codeable(n.kid("routeCode")); r != nil {
		dosage["route"] = r
	}
	if q := quantity(n.kid("doseQuantity")); q != nil {
		dosage["doseAndRate"] = []any{obj{"doseQuantity": q}}
	}
	if len(dosage) > 0 {
		m["dosage"] = []any{dosage}
	}
	b.upsert("MedicationStatement", id, m)
}

var ucumTime = map[string]string{"s": "s", "min": "min", "h": "h", "d": "d", "wk": "wk", "mo": "mo", "a": "a"}

// results maps a Result Organizer (to a DiagnosticReport with its
// observations) or a Vital Signs Organizer (to its observations).
func (b *builder) results(org *node, category string, report bool) {
	var refs []any
	var effective string
	for _, o := range org.related() {
		if !o.hasTemplate(tmplResultObs) && !o.hasTemplate(tmplVitalObs) {
			continue
		}
		if r := b.observation(o, category); r != nil {
			refs = append(refs, r)
		}
		if effective == "" {
			effective, _ = pointTime(o.kid("effectiveTime"))
		}
	}
	if !report {
		return
	}
	code := codeable(org.kid("code"))
	if code == nil {
		code = obj{"text": "Results"}
	}
	id := b.entryID(org, "report")
	status := map[string]string{"completed": "final", "active": "partial", "aborted": "cancelled", "cancelled": "cancelled"}[org.kid("statusCode").attr("code")]
	if status == "" {
		status = "unknown"
	}
	d := obj{"identifier": []any{id.fhir()}, "status": status, "code": code, "subject": ref(b.patientR),
		"category": []any{obj{"coding": []any{obj{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB"}}}}}
	if v, ok := pointTime(org.kid("effectiveTime")); ok {
		d["effectiveDateTime"] = v
	} else if effective != "" {
		d["effectiveDateTime"] = effective
	}
	if len(refs) > 0 {
		d["result"] = refs
	}
	if b.encounter != nil {
		d["encounter"] = ref(b.encounter)
	}
	b.upsert("DiagnosticReport", id, d)
}

// observation maps a Result or Vital Sign Observation.
func (b *builder) observation(n *node, category string) obj {
	code := codeable(n.kid("code"))
	if code == nil {
		return nil
	}
	id := b.entryID(n, "observation")
	status := map[string]string{"completed": "final", "active": "preliminary", "aborted": "cancelled", "cancelled": "cancelled"}[n.kid("statusCode").attr("code")]
	if status == "" {
		status = "unknown"
	}
	o := obj{"identifier": []any{id.fhir()}, "status": status, "code": code, "subject": ref(b.patientR),
		"category": []any{obj{"coding": []any{obj{"system": sysObsCategory, "code": category}}}}}
	if v, ok := pointTime(n.kid("effectiveTime")); ok {
		o["effectiveDateTime"] = v
	}
	val := n.kid("value")
	switch val.attr("type") {
	case "PQ":
		if q := quantity(val); q != nil {
			o["valueQuantity"] = q
		}
	case "CD", "CE", "CO", "CV":
		if c := codeable(val); c != nil {
			o["valueCodeableConcept"] = c
		}
	case "ST", "ED":
		if t := val.text(); t != "" {
			o["valueString"] = t
		}
	case "INT":
		if v, ok := number(val.attr("value")); ok {
			o["valueInteger"] = v
		}
	case "REAL":
		if v, ok := number(val.attr("value")); ok {
			o["valueQuantity"] = obj{"value": v}
		}
	}
	var interp []any
	for _, c := range n.all("interpretationCode") {
		if x := codeable(c); x != nil {
			interp = append(interp, x)
		}
	}
	if len(interp) > 0 {
		o["interpretation"] = interp
	}
	var ranges []any
	for _, rr := range n.all("referenceRange") {
		or := rr.kid("observationRange")
		r := obj{}
		if q := quantity(or.at("value/low")); q != nil {
			r["low"] = q
		}
		if q := quantity(or.at("value/high")); q != nil {
			r["high"] = q
		}
		if t := or.kid("text").text(); t != "" {
			r["text"] = t
		}
		if len(r) > 0 {
			ranges = append(ranges, r)
		}
	}
	if len(ranges) > 0 {
		o["referenceRange"] = ranges
	}
	if b.encounter != nil {
		o["encounter"] = ref(b.encounter)
	}
	return b.upsert("Observation", id, o)
}

// procedure maps a Procedure Activity (procedure, act or observation).
func (b *builder) procedure(n *node) {
	code := codeable(n.kid("code"))
	if code == nil {
		return
	}
	id := b.entryID(n, "procedure")
	status := map[string]string{"completed": "completed", "active": "in-progress", "aborted": "stopped", "cancelled": "not-done", "new": "preparation"}[n.kid("statusCode").attr("code")]
	if status == "" {
		status = "unknown"
	}
	p := obj{"identifier": []any{id.fhir()}, "status": status, "code": code, "subject": ref(b.patientR)}
	et := n.kid("effectiveTime")
	if v, ok := ts(et); ok {
		p["performedDateTime"] = v
	} else if per := period(et); per != nil {
		p["performedPeriod"] = per
	}
	if s := codeable(n.kid("targetSiteCode")); s != nil {
		p["bodySite"] = []any{s}
	}
	var perf []any
	for _, pf := range n.all("performer") {
		if r := b.person(pf.kid("assignedEntity"), "assignedPerson"); r != nil {
			perf = append(perf, obj{"actor": r})
		}
	}
	if len(perf) > 0 {
		p["performer"] = perf
	}
	if b.encounter != nil {
		p["encounter"] = ref(b.encounter)
	}
	b.upsert("Procedure", id, p)
}

// encounterEntry maps an Encounter Activity.
func (b *builder) encounterEntry(n *node) {
	id := b.entryID(n, "encounter")
	e := b.encounterResource(n, id)
	var parts []any
	for _, pf := range n.all("performer") {
		if r := b.person(pf.kid("assignedEntity"), "assignedPerson"); r != nil {
			parts = append(parts, obj{"individual": r})
		}
	}
	if len(parts) > 0 {
		e["participant"] = parts
	}
	b.upsert("Encounter", id, e)
}

// immunization maps an Immunization Activity.
func (b *builder) immunization(n *node) {
	vaccine := codeable(n.at("consumable/manufacturedProduct/manufacturedMaterial/code"))
	if vaccine == nil {
		return
	}
	id := b.entryID(n, "immunization")
	status := "completed"
	if n.attr("negationInd") == "true" {
		status = "not-done"
	}
	im := obj{"identifier": []any{id.fhir()}, "status": status, "vaccineCode": vaccine, "patient": ref(b.patientR)}
	if v, ok := pointTime(n.kid("effectiveTime")); ok {
		im["occurrenceDateTime"] = v
	} else {
		im["occurrenceString"] = "unknown"
	}
	if lot := n.at("consumable/manufacturedProduct/manufacturedMaterial/lotNumberText").text(); lot != "" {
		im["lotNumber"] = lot
	}
	if r := codeable(n.kid("routeCode")); r != nil {
		im["route"] = r
	}
	if q := quantity(n.kid("doseQuantity")); q != nil {
		im["doseQuantity"] = q
	}
	var perf []any
	for _, pf := range n.all("performer") {
		if r := b.person(pf.kid("assignedEntity"), "assignedPerson"); r != nil {
			perf = append(perf, obj{"actor": r})
		}
	}
	if len(perf) > 0 {
		im["performer"] = perf
	}
	if b.encounter != nil {
		im["encounter"] = ref(b.encounter)
	}
	b.upsert("Immunization", id, im)
}
