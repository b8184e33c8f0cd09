package hl7v2

import (
	"encoding/base64"
	"slices"
	"strings"
)

const (
	sysLOINC           = "http://loinc.org"
	sysDocType         = "http://terminology.hl7.org/CodeSystem/v2-0270"
	sysConfidentiality = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
	sysUSCoreDocCat    = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
)

// mdmTriggers are the MDM events mapped: original (T01, T02), status change
// (T03, T04), addendum (T05, T06), edit (T07, T08) and replacement (T09,
// T10) notifications; the even ones carry the content.
var mdmTriggers = map[string]bool{"T01": true, "T02": true, "T03": true, "T04": true, "T05": true, "T06": true, "T07": true, "T08": true, "T09": true, "T10": true}

// mdm maps a document message to a DocumentReference keyed on TXA-12, the
// unique document number. The completion status (TXA-17) sets docStatus:
// an authenticated note ("AU", "LA") is final with its authenticator
// (TXA-22); any other is preliminary and unsigned, which is what chart
// review looks for.
func (b *builder) mdm() error {
	if !mdmTriggers[b.h.Trigger] {
		return problem(true, "201", "MSH-9", "MDM^%s is not supported (T01 to T10 are)", b.h.Trigger)
	}
	txa := b.msg.Segment("TXA")
	if txa == nil {
		return problem(false, "100", "TXA", "an MDM message needs a TXA segment")
	}
	if err := b.patientFromPID(); err != nil {
		return err
	}
	b.encounterFromPV1()
	t := b.mp.Tables
	id := b.mp.ei(txa.Get(12), "document")
	if id.Value == "" {
		return missing("TXA-12", "the unique document number (TXA-12)")
	}
	status, ok := t.DocumentAvailability[txa.Value(19, 1)]
	if !ok {
		status = "current"
	}
	completion := txa.Value(17, 1)
	d := obj{"masterIdentifier": id.fhir(), "identifier": []any{id.fhir()}, "status": status, "subject": ref(b.patient),
		"category": []any{coded(sysUSCoreDocCat, "clinical-note", "Clinical Note")}}
	if ds, ok := t.DocumentCompletion[completion]; ok {
		d["docStatus"] = ds
	}
	typ := txa.Value(2, 1)
	tc := obj{}
	var codings []any
	if loinc, ok := t.DocumentType[typ]; ok {
		codings = append(codings, obj{"system": sysLOINC, "code": loinc})
	}
	if typ != "" {
		codings = append(codings, obj{"system": sysDocType, "code": typ})
	}
	put(tc, "coding", codings)
	put(tc, "text", txa.Value(2, 2))
	put(d, "type", tc)
	var authors []any
	for _, n := range []int{9, 5} { // originator, primary activity provider
		for _, c := range txa.Reps(n) {
			if r := b.practitioner(c); r != nil {
				authors = append(authors, r)
			}
		}
		if len(authors) > 0 {
			break
		}
	}
	put(d, "author", authors)
	signed := ""
	if slices.Contains(t.AuthenticatedCompletion, completion) {
		if reps := txa.Reps(22); len(reps) > 0 {
			d["authenticator"] = b.practitioner(reps[0])
			signed = dateTimeOr(reps[0].At(15))
		}
		if d["authenticator"] == nil {
			if reps := txa.Reps(10); len(reps) > 0 {
				put(d, "authenticator", b.practitioner(reps[0]))
			}
		}
		if d["authenticator"] == nil {
			delete(d, "authenticator")
		}
	}
	created := dateTimeOr(orDefault(txa.Value(6, 1), txa.Value(4, 1)))
	if signed == "" {
		signed = created
	}
	if signed != "" && instant(signed) {
		d["date"] = signed
	}
	if conf := txa.Value(18, 1); conf != "" {
		c := map[string]string{"V": "V", "R": "R", "U": "N", "N": "N", "L": "L", "M": "M"}[conf]
		if c != "" {
			d["securityLabel"] = []any{coded(sysConfidentiality, c, "")}
		}
	}
	d["content"] = []any{obj{"attachment": b.noteAttachment(txa, created)}}
	ctx := obj{}
	if b.encounter != nil {
		ctx["encounter"] = []any{ref(b.encounter)}
	}
	put(d, "context", ctx)
	if parent := b.mp.ei(txa.Get(13), "document"); parent.Value != "" {
		code := ""
		switch b.h.Trigger {
		case "T09", "T10":
			code = "replaces"
		case "T05", "T06":
			code = "appends"
		}
		if code != "" {
			// By identifier: the parent may have been sent before Custodian
			// listened, and a replacement must not fail for that.
			d["relatesTo"] = []any{obj{"code": code, "target": obj{"identifier": parent.fhir()}}}
		}
	}
	b.upsert("DocumentReference", id, d)
	return nil
}

// noteAttachment gathers the note's content from the OBX segments: text
// values become lines of a text/plain attachment; an ED value is the
// attachment itself. A notification without content (T01, T03, …) gets an
// attachment that names the document only.
func (b *builder) noteAttachment(txa *Segment, created string) obj {
	var lines []string
	var ed obj
	for _, s := range b.msg.All("OBX") {
		switch s.Value(2, 1) {
		case "TX", "FT", "ST", "CF":
			for _, c := range s.Field(5) {
				lines = append(lines, Component(c).At(1))
			}
		case "ED":
			if a := attachmentED(s.Get(5)); a != nil && ed == nil {
				ed = a
			}
		}
	}
	a := obj{}
	switch {
	case len(lines) > 0:
		text := strings.Join(lines, "\n")
		a["contentType"] = "text/plain"
		a["data"] = base64Text(text)
		a["size"] = len(text)
	case ed != nil:
		a = ed
	default:
		a["contentType"] = "text/plain"
	}
	title := orDefault(txa.Value(16, 1), txa.Value(2, 2))
	if title == "" {
		if tc, ok := b.mp.Tables.DocumentType[txa.Value(2, 1)]; ok {
			title = "LOINC " + tc
		} else {
			title = "Document " + txa.Value(12, 1)
		}
	}
	a["title"] = title
	if created != "" {
		a["creation"] = created
	}
	return a
}

func base64Text(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
