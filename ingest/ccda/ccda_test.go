package ccda_test

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/ingest/ccda"
	"github.com/custodian-him/custodian/store"
)

func at(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func expect(t *testing.T, what string, res map[string]any, pairs ...string) {
	t.Helper()
	if res == nil {
		t.Errorf("%s: no resource", what)
		return
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		got := at(res, pairs[i])
		gs := ""
		if got != nil {
			gs = fmt.Sprint(got)
		}
		if gs != pairs[i+1] {
			t.Errorf("%s %s = %q, want %q", what, pairs[i], gs, pairs[i+1])
		}
	}
}

func first(r *ccda.Result, typ string) map[string]any {
	if all := r.Resources(typ); len(all) > 0 {
		return all[0]
	}
	return nil
}

func counts(r *ccda.Result) map[string]int {
	c := map[string]int{}
	for _, e := range r.Entries {
		c[e.Resource["resourceType"].(string)]++
	}
	return c
}

// TestDocuments maps every full example document and checks the document,
// the patient and the first entry of each kind, field by field.
func TestDocuments(t *testing.T) {
	tests := map[string]struct {
		counts string
		doc    []string
		other  map[string][]string
	}{
		"CCD_1": {
			counts: "map[AllergyIntolerance:2 Condition:4 DiagnosticReport:2 DocumentReference:1 Encounter:1 Immunization:5 MedicationStatement:2 Observation:14 Patient:1 Practitioner:2 Procedure:4]",
			doc:    []string{"type.coding.0.code", "34133-9", "docStatus", "final", "authenticator.display", "Patricia Primary", "date", "2013-08-15T10:30:00-08:00", "content.0.attachment.title", "Patient Chart Summary", "content.0.attachment.contentType", "text/xml", "securityLabel.0.coding.0.code", "N"},
			other: map[string][]string{
				"Patient":             {"identifier.0.system", "http://hl7.org/fhir/sid/us-ssn", "identifier.0.value", "444222222", "name.0.family", "Betterhalf", "name.0.given.0", "Eve", "name.0.use", "official", "name.1.family", "Everywoman", "gender", "female", "birthDate", "1975-05-01", "address.0.city", "Beaverton", "address.0.use", "home", "telecom.0.value", "+1(555)555-2003", "maritalStatus.coding.0.code", "M"},
				"Condition":           {"code.coding.0.code", "233604007", "code.coding.0.system", "http://snomed.info/sct", "onsetDateTime", "2013-07-03", "abatementDateTime", "2008-08-14", "clinicalStatus.coding.0.code", "resolved", "identifier.0.value", "urn:uuid:ab1791b0-5c71-11db-b0de-0800200c9a66"},
				"AllergyIntolerance":  {"code.coding.0.code", "70618", "code.coding.0.system", "http://www.nlm.nih.gov/research/umls/rxnorm", "code.coding.0.display", "Penicillin", "onsetDateTime", "1998-05-01", "reaction.0.manifestation.0.coding.0.code", "422587007", "reaction.0.severity", "mild", "type", "allergy"},
				"MedicationStatement": {"medicationCodeableConcept.coding.0.code", "573621", "status", "active", "effectivePeriod.start", "2011-01-03", "dosage.0.timing.repeat.period", "6", "dosage.0.timing.repeat.periodUnit", "h", "dosage.0.doseAndRate.0.doseQuantity.value", "2"},
				"Observation":         {"code.coding.0.code", "718-7", "valueQuantity.value", "13.2", "valueQuantity.unit", "g/dL", "referenceRange.0.low.value", "12.0", "referenceRange.0.high.value", "15.5", "interpretation.0.coding.0.code", "N", "category.0.coding.0.code", "laboratory", "effectiveDateTime", "2008-03-19T08:30:00-08:00", "status", "final"},
				"Procedure":           {"code.coding.0.code", "103716009", "performedDateTime", "2013-05-12", "bodySite.0.coding.0.code", "28273000", "status", "completed"},
				"Encounter":           {"class.code", "AMB", "type.0.coding.0.code", "99213", "type.0.coding.0.system", "http://www.ama-assn.org/go/cpt", "period.start", "2012-09-27T13:00:00-05:00"},
				"Immunization":        {"vaccineCode.coding.0.code", "88", "vaccineCode.coding.0.system", "http://hl7.org/fhir/sid/cvx", "status", "completed", "lotNumber", "1", "doseQuantity.value", "50", "performer.0.actor.display", "Harold Hippocrates"},
			},
		},
		"Discharge_Summary": {
			doc: []string{"type.coding.0.code", "18842-5", "docStatus", "final", "authenticator.display", "Henry Seven", "content.0.attachment.title", "Community Health and Hospitals: Discharge Summary"},
			other: map[string][]string{
				"Patient":             {"identifier.0.value", "998991", "name.0.family", "Jones", "birthDate", "2005-05-01"},
				"Condition":           {"code.coding.0.code", "74400008"},
				"AllergyIntolerance":  {"code.coding.0.code", "7980", "reaction.0.manifestation.0.coding.0.code", "73879007", "reaction.0.severity", "moderate"},
				"MedicationStatement": {"medicationCodeableConcept.coding.0.code", "197806", "status", "intended"},
				"Observation":         {"code.coding.0.code", "8302-2", "valueQuantity.value", "177", "valueQuantity.code", "cm", "category.0.coding.0.code", "vital-signs"},
				"Immunization":        {"vaccineCode.coding.0.code", "141"},
			},
		},
		"Referral_Note": {
			doc:   []string{"type.coding.0.code", "57113-1", "docStatus", "final", "content.0.attachment.title", "Referral Note"},
			other: map[string][]string{"Patient": {"identifier.0.value", "444222222"}, "Condition": {"code.coding.0.code", "190389009"}, "Procedure": {"code.coding.0.code", "103716009"}},
		},
		"CCD_2":                     {doc: []string{"type.coding.0.code", "34133-9", "date", "2014-10-15T10:30:26-05:00"}, other: map[string][]string{"Patient": {"identifier.0.value", "98765432", "name.0.family", "Jones"}, "AllergyIntolerance": {"code.coding.0.code", "105590001"}, "Observation": {"code.coding.0.code", "804-5"}}},
		"Care_Plan":                 {doc: []string{"type.coding.0.code", "52521-2", "authenticator.display", "Nurse Nightingale"}, other: map[string][]string{"Condition": {"code.coding.0.code", "409623005"}, "Encounter": {"class.code", "IMP", "period.start", "2013-06-15"}}},
		"Consultation_Note":         {doc: []string{"type.coding.0.code", "11488-4"}, other: map[string][]string{"Patient": {"identifier.0.value", "444-22-2222"}, "Condition": {"code.coding.0.code", "190389009"}}},
		"Diagnostic_Imaging_Report": {doc: []string{"type.coding.0.code", "18748-4", "content.0.attachment.title", "Chest X-Ray, PA and LAT View"}, other: map[string][]string{"Patient": {"identifier.0.value", "12345", "name.0.family", "Everyman", "birthDate", "1954-11-25"}}},
		"History_and_Physical":      {doc: []string{"type.coding.0.code", "34117-2"}, other: map[string][]string{"MedicationStatement": {"medicationCodeableConcept.coding.0.code", "573621", "status", "completed"}, "Observation": {"code.coding.0.code", "30313-1", "valueQuantity.value", "13.2"}, "Procedure": {"code.coding.0.code", "73761001"}}},
		"Operative_Note":            {doc: []string{"type.coding.0.code", "11504-8"}, other: map[string][]string{"MedicationStatement": {"medicationCodeableConcept.coding.0.code", "153475"}, "Procedure": {"code.coding.0.code", "73761001"}}},
		"Procedure_Note":            {doc: []string{"type.coding.0.code", "28570-0"}, other: map[string][]string{"Condition": {"code.coding.0.code", "74400008"}}},
		"Progress_Note":             {doc: []string{"type.coding.0.code", "11506-3"}, other: map[string][]string{"Patient": {"identifier.0.value", "12345"}, "Observation": {"code.coding.0.code", "718-7"}}},
		"Transfer_Summary":          {doc: []string{"type.coding.0.code", "18761-7"}, other: map[string][]string{"Patient": {"birthDate", "1945-05-01"}, "Condition": {"code.coding.0.code", "49008000"}, "Immunization": {"vaccineCode.coding.0.code", "88"}}},
	}
	for _, n := range documents(t) {
		tt, ok := tests[n]
		if !ok {
			t.Errorf("%s: no expectations", n)
			continue
		}
		t.Run(n, func(t *testing.T) {
			raw := document(t, n)
			r, err := ccda.Map(raw)
			if err != nil {
				t.Fatal(err)
			}
			if tt.counts != "" {
				if got := fmt.Sprint(counts(r)); got != tt.counts {
					t.Errorf("resources %s, want %s", got, tt.counts)
				}
			}
			docs := r.Resources("DocumentReference")
			if len(docs) != 1 {
				t.Fatalf("%d DocumentReferences", len(docs))
			}
			expect(t, "DocumentReference", docs[0], tt.doc...)
			data, err := base64.StdEncoding.DecodeString(at(docs[0], "content.0.attachment.data").(string))
			if err != nil || string(data) != string(raw) {
				t.Error("the attachment is not the document")
			}
			if at(docs[0], "masterIdentifier.value") != r.DocumentID.Value {
				t.Errorf("masterIdentifier %v, document id %v", at(docs[0], "masterIdentifier"), r.DocumentID)
			}
			for typ, pairs := range tt.other {
				expect(t, typ, first(r, typ), pairs...)
			}
		})
	}
}

// TestICD10Translation checks that an ICD-10-CM translation of a problem
// is kept beside its SNOMED CT code.
func TestICD10Translation(t *testing.T) {
	raw := string(document(t, "CCD_1"))
	from := `<value xsi:type="CD" code="233604007" codeSystem="2.16.840.1.113883.6.96" displayName="Pneumonia" />`
	if !strings.Contains(raw, from) {
		t.Fatal("the problem is not in the sample")
	}
	raw = strings.Replace(raw, from, `<value xsi:type="CD" code="233604007" codeSystem="2.16.840.1.113883.6.96" displayName="Pneumonia">`+
		`<translation code="J18.9" codeSystem="2.16.840.1.113883.6.90" displayName="Pneumonia, unspecified organism"/></value>`, 1)
	r, err := ccda.Map([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "Condition", first(r, "Condition"), "code.coding.0.code", "233604007",
		"code.coding.1.code", "J18.9", "code.coding.1.system", "http://hl7.org/fhir/sid/icd-10-cm", "code.coding.1.display", "Pneumonia, unspecified organism")
}

func TestRefusals(t *testing.T) {
	good := string(document(t, "CCD_2"))
	tests := []struct {
		name, doc string
		code      string
	}{
		{"not XML", "MSH|^~\\&|", custodian.EINVALID},
		{"truncated", good[:len(good)/2], custodian.EINVALID},
		{"not a ClinicalDocument", `<Bundle xmlns="http://hl7.org/fhir"/>`, custodian.EINVALID},
		{"fragment", `<section xmlns="urn:hl7-org:v3"><title>x</title></section>`, custodian.EINVALID},
		{"no document id", `<ClinicalDocument xmlns="urn:hl7-org:v3"><recordTarget/></ClinicalDocument>`, custodian.EINVALID},
		{"no patient id", `<ClinicalDocument xmlns="urn:hl7-org:v3"><id root="1.2.3" extension="9"/><recordTarget><patientRole><id nullFlavor="UNK"/></patientRole></recordTarget></ClinicalDocument>`, custodian.EINVALID},
		{"Latin-1", `<?xml version="1.0" encoding="ISO-8859-1"?><ClinicalDocument xmlns="urn:hl7-org:v3"/>`, custodian.EINVALID},
	}
	for _, tt := range tests {
		if _, err := ccda.Map([]byte(tt.doc)); custodian.ErrorCode(err) != tt.code {
			t.Errorf("%s: err %v, want %s", tt.name, err, tt.code)
		}
	}
}

// TestLoadIntoStore loads every document into a real store twice. Loading
// a document again changes nothing; documents that reuse each other's
// entry ids (the examples do) update those entries but create nothing.
func TestLoadIntoStore(t *testing.T) {
	st, ctx := newStore(t)
	load := func(n string) (created, changed int) {
		r, err := ccda.Map(document(t, n))
		if err != nil {
			t.Fatal(err)
		}
		outs, err := st.Transaction(ctx, r.Entries)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		for i, o := range outs {
			switch {
			case o.Created:
				created++
			case o.Unchanged || r.Entries[i].Method == store.MethodCreate:
			default:
				changed++
			}
		}
		return
	}
	total := 0
	for _, n := range documents(t) {
		c, _ := load(n)
		total += c
		if c2, ch2 := load(n); c2 != 0 || ch2 != 0 {
			t.Errorf("%s again: created %d, changed %d", n, c2, ch2)
		}
	}
	if total < 100 {
		t.Errorf("the documents created %d resources", total)
	}
	for _, n := range documents(t) {
		if c, _ := load(n); c != 0 {
			t.Errorf("%s a third time: created %d", n, c)
		}
	}
	// Six documents share the id TT988; each is kept. Four are about
	// patient 444222222.
	q, _ := st.ParseQueryString("DocumentReference", "patient.identifier=http://hl7.org/fhir/sid/us-ssn|444222222")
	res, err := st.SearchWithIncludes(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Resources) != 4 {
		t.Errorf("%d documents for 444222222, want 4", len(res.Resources))
	}
	q, _ = st.ParseQueryString("DocumentReference", "identifier=urn:oid:2.16.840.1.113883.19.5.99999.1|TT988")
	if res, err = st.SearchWithIncludes(ctx, q); err != nil || len(res.Resources) != 6 {
		t.Errorf("%d documents with id TT988, want 6 (%v)", len(res.Resources), err)
	}
}
