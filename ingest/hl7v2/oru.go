package hl7v2

import (
	"strings"
)

const (
	sysInterpretation = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
	sysUCUM           = "http://unitsofmeasure.org"
)

// oru maps ORU^R01: the patient, the visit if PV1 names one, and for each
// OBR a DiagnosticReport whose results are the OBX segments that follow it
// (OBX before the first OBR become observations without a report).
func (b *builder) oru() error {
	if err := b.patientFromPID(); err != nil {
		return err
	}
	b.encounterFromPV1()
	var report obj // the current DiagnosticReport
	var reportID Identifier
	var obr *Segment
	var last obj // the last Observation, for NTE
	n := 0
	for _, s := range b.msg.Segments {
		switch s.Name {
		case "OBR":
			n++
			obr = s
			report, reportID = b.report(s, n)
			last = nil
		case "OBX":
			last = b.observation(s, obr, report, reportID)
		case "NTE":
			if last != nil {
				if txt := noteText(s); txt != "" {
					notes, _ := last["note"].([]any)
					last["note"] = append(notes, obj{"text": txt})
				}
			}
		}
	}
	if n == 0 && len(b.msg.All("OBX")) == 0 {
		return problem(false, "100", "OBR", "an ORU^R01 needs OBR and OBX segments")
	}
	return nil
}

func noteText(s *Segment) string {
	var lines []string
	for _, c := range s.Field(3) {
		lines = append(lines, Component(c).At(1))
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// report writes the DiagnosticReport of an OBR, keyed on the filler order
// number (OBR-3), else the placer's (OBR-2).
func (b *builder) report(s *Segment, n int) (obj, Identifier) {
	t := b.mp.Tables
	id := b.mp.ei(s.Get(3), "filler-order")
	if id.Value == "" {
		id = b.mp.ei(s.Get(2), "placer-order")
	}
	if id.Value == "" {
		id = b.local("report", b.h.SendingFacility, b.h.ControlID, s.Value(1, 1))
	}
	code := b.mp.codeable(s.Get(4))
	if code == nil {
		code = obj{"text": "unknown"}
	}
	status, ok := t.ReportStatus[s.Value(25, 1)]
	if !ok {
		status = "unknown"
	}
	r := obj{"identifier": []any{id.fhir()}, "status": status, "code": code, "subject": ref(b.patient)}
	put(r, "encounter", ref(b.encounter))
	if at, ok := DateTime(s.Value(7, 1)); ok {
		r["effectiveDateTime"] = at
	}
	if at, ok := DateTime(s.Value(22, 1)); ok && instant(at) {
		r["issued"] = at
	}
	if sect := s.Value(24, 1); sect != "" {
		r["category"] = []any{coded("http://terminology.hl7.org/CodeSystem/v2-0074", sect, "")}
	}
	if p := b.practitioner(s.Get(32)); p != nil {
		r["resultsInterpreter"] = []any{p}
	}
	b.upsert("DiagnosticReport", id, r)
	return r, id
}

// instant reports whether a FHIR dateTime is precise to the second with a
// zone, as instant needs.
func instant(dt string) bool { return len(dt) >= 25 }

// observation writes the Observation of an OBX and adds it to the report.
// Encapsulated data (ED) becomes the report's presented form instead.
func (b *builder) observation(s *Segment, obr *Segment, report obj, reportID Identifier) obj {
	t := b.mp.Tables
	vt := s.Value(2, 1)
	if vt == "ED" && report != nil {
		if a := attachmentED(s.Get(5)); a != nil {
			forms, _ := report["presentedForm"].([]any)
			report["presentedForm"] = append(forms, a)
		}
		return nil
	}
	code := b.mp.codeable(s.Get(3))
	if code == nil {
		return nil
	}
	scope := reportID.Value
	if scope == "" {
		scope = b.h.ControlID
	}
	id := b.local("observation", reportID.System, scope, codeKey(s.Get(3), ""), s.Value(4, 1), s.Value(1, 1))
	status, ok := t.ObservationStatus[s.Value(11, 1)]
	if !ok {
		status = "unknown"
	}
	o := obj{"identifier": []any{id.fhir()}, "status": status, "code": code, "subject": ref(b.patient)}
	put(o, "encounter", ref(b.encounter))
	b.observationValue(o, vt, s)
	if rr := referenceRange(s.Value(7, 1), s.Get(6)); rr != nil {
		o["referenceRange"] = []any{rr}
	}
	var interp []any
	for _, c := range s.Reps(8) {
		v := c.At(1)
		if code, ok := t.AbnormalFlag[v]; ok {
			interp = append(interp, coded(sysInterpretation, code, ""))
		} else if v != "" {
			interp = append(interp, obj{"text": v})
		}
	}
	put(o, "interpretation", interp)
	eff := s.Value(14, 1)
	if eff == "" && obr != nil {
		eff = obr.Value(7, 1)
	}
	if at, ok := DateTime(eff); ok {
		o["effectiveDateTime"] = at
	}
	var perf []any
	for _, c := range s.Reps(16) {
		if p := b.practitioner(c); p != nil {
			perf = append(perf, p)
		}
	}
	put(o, "performer", perf)
	if m := b.mp.codeable(s.Get(17)); m != nil {
		o["method"] = m
	}
	r := b.upsert("Observation", id, o)
	if report != nil {
		results, _ := report["result"].([]any)
		report["result"] = append(results, r)
	}
	return o
}

// observationValue sets Observation.value[x] from OBX-5 by the value type
// OBX-2; several repetitions of a text value are lines of one text.
func (b *builder) observationValue(o obj, vt string, s *Segment) {
	reps := s.Reps(5)
	if len(reps) == 0 {
		return
	}
	first := reps[0]
	switch vt {
	case "NM":
		if v, ok := number(first.At(1)); ok {
			o["valueQuantity"] = quantity(v, s.Get(6))
			return
		}
	case "SN":
		if q := structuredNumeric(first, s.Get(6)); q != nil {
			for k, v := range q {
				o[k] = v
			}
			return
		}
	case "CE", "CWE", "CNE", "CF":
		if cc := b.mp.codeable(first); cc != nil {
			o["valueCodeableConcept"] = cc
			return
		}
	case "DT", "DTM", "TS":
		if at, ok := DateTime(first.At(1)); ok {
			o["valueDateTime"] = at
			return
		}
	case "TM":
		o["valueTime"] = first.At(1)
		return
	}
	var lines []string
	for _, c := range reps {
		var parts []string
		for i := range c {
			if v := c.At(i + 1); v != "" {
				parts = append(parts, v)
			}
		}
		lines = append(lines, strings.Join(parts, " "))
	}
	put(o, "valueString", strings.Join(lines, "\n"))
}

// quantity builds a Quantity from a number and OBX-6 units (CWE).
func quantity(v any, units Component) obj {
	q := obj{"value": v}
	code, text, sys := units.At(1), units.At(2), units.At(3)
	if u := orDefault(text, code); u != "" {
		q["unit"] = u
	}
	if code != "" && (sys == "UCUM" || sys == "" && looksUCUM(code)) {
		q["system"] = sysUCUM
		q["code"] = code
	}
	return q
}

// looksUCUM accepts the unit codes that are plainly UCUM as written.
func looksUCUM(u string) bool {
	switch u {
	case "%", "mg/dL", "g/dL", "mmol/L", "mEq/L", "U/L", "fL", "pg", "kg", "g", "cm", "mm[Hg]", "/min", "Cel", "10*3/uL", "10*6/uL", "ng/mL", "mL/min":
		return true
	}
	return false
}

// structuredNumeric maps an SN (comparator^num1^separator^num2).
func structuredNumeric(c Component, units Component) obj {
	cmp, n1, sep, n2 := c.At(1), c.At(2), c.At(3), c.At(4)
	v1, ok1 := number(n1)
	v2, ok2 := number(n2)
	switch {
	case ok1 && ok2 && (sep == ":" || sep == "/"):
		return obj{"valueRatio": obj{"numerator": obj{"value": v1}, "denominator": obj{"value": v2}}}
	case ok1 && ok2 && sep == "-":
		return obj{"valueRange": obj{"low": quantity(v1, units), "high": quantity(v2, units)}}
	case ok1 && sep == "":
		q := quantity(v1, units)
		switch cmp {
		case "<", "<=", ">", ">=":
			q["comparator"] = cmp
		case "", "=":
		default:
			return nil
		}
		return obj{"valueQuantity": q}
	}
	return nil
}

// referenceRange reads OBX-7: "low-high", "<high", ">low" or text.
func referenceRange(s string, units Component) obj {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if lo, hi, ok := strings.Cut(s, "-"); ok && lo != "" {
		l, okl := number(lo)
		h, okh := number(hi)
		if okl && okh {
			return obj{"low": quantity(l, units), "high": quantity(h, units), "text": s}
		}
	}
	if rest, ok := strings.CutPrefix(s, "<"); ok {
		if h, ok := number(strings.TrimPrefix(rest, "=")); ok {
			return obj{"high": quantity(h, units), "text": s}
		}
	}
	if rest, ok := strings.CutPrefix(s, ">"); ok {
		if l, ok := number(strings.TrimPrefix(rest, "=")); ok {
			return obj{"low": quantity(l, units), "text": s}
		}
	}
	return obj{"text": s}
}

// attachmentED maps an ED (source^type^subtype^encoding^data).
func attachmentED(c Component) obj {
	typ, sub, enc, data := c.At(2), c.At(3), c.At(4), c.At(5)
	ct := contentType(typ, sub)
	a := obj{"contentType": ct}
	if data == "" {
		return nil
	}
	switch strings.ToUpper(enc) {
	case "BASE64":
		a["data"] = data
	case "A", "":
		a["data"] = base64Text(data)
	default:
		return nil
	}
	return a
}

// contentType builds a MIME type from the v2 type and subtype
// ("application", "pdf"; "TEXT", "RTF").
func contentType(typ, sub string) string {
	typ, sub = strings.ToLower(typ), strings.ToLower(sub)
	switch {
	case strings.Contains(sub, "/"):
		return sub
	case typ == "" && sub == "":
		return "application/octet-stream"
	case typ == "text" || typ == "application" || typ == "image" || typ == "audio" || typ == "video" || typ == "multipart":
		if sub == "" || sub == "octet-stream" && typ != "application" {
			return typ + "/octet-stream"
		}
		return typ + "/" + sub
	case typ == "ap" || typ == "":
		if sub == "" {
			return "application/octet-stream"
		}
		return "application/" + sub
	case typ == "im":
		return "image/" + orDefault(sub, "octet-stream")
	case typ == "tx":
		return "text/" + orDefault(sub, "plain")
	}
	return "application/octet-stream"
}
