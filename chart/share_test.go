package chart

import (
	"fmt"
	"testing"
)

// TestIndexShares checks that the index shares what entries have alike
// (codings, visits, authorships) and only that: a later version of one
// entry never changes another that shared with it.
func TestIndexShares(t *testing.T) {
	ix := NewIndex(DefaultRules())
	enc := func(id, class, attending string) []byte {
		return fmt.Appendf(nil, `{"resourceType":"Encounter","id":%q,"status":"finished","class":{"code":%q},`+
			`"subject":{"reference":"Patient/p1"},"period":{"start":"2025-01-02T10:00:00-05:00","end":"2025-01-04T10:00:00-05:00"},`+
			`"participant":[{"type":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"ATND"}]}],`+
			`"individual":{"reference":%q}}]}`, id, class, attending)
	}
	cond := func(id, enc, code, text string) []byte {
		return fmt.Appendf(nil, `{"resourceType":"Condition","id":%q,"encounter":{"reference":"Encounter/%s"},`+
			`"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":%q}],"text":%q}}`, id, enc, code, text)
	}
	note := func(id, enc, author, authenticator string) []byte {
		return fmt.Appendf(nil, `{"resourceType":"DocumentReference","id":%q,"status":"current","docStatus":"final",`+
			`"type":{"coding":[{"system":"http://loinc.org","code":"18842-5"}]},"author":[{"reference":%q}],`+
			`"authenticator":{"reference":%q},"date":"2025-01-04T12:00:00-05:00",`+
			`"context":{"encounter":[{"reference":"Encounter/%s"}]}}`, id, author, authenticator, enc)
	}
	ix.Add("Encounter", "e1", enc("e1", "IMP", "Practitioner/a"))
	ix.Add("Encounter", "e2", enc("e2", "IMP", "Practitioner/a"))
	ix.Add("Encounter", "e3", enc("e3", "IMP", "Practitioner/b"))
	ix.Add("Condition", "c1", cond("c1", "e1", "I10", "hypertension"))
	ix.Add("Condition", "c2", cond("c2", "e2", "I10", "hypertension"))
	ix.Add("Condition", "c3", cond("c3", "e2", "I10", "high blood pressure"))
	// A key made of the strings run together would take c4 for c5.
	ix.Add("Condition", "c4", cond("c4", "e3", "ab", ""))
	ix.Add("Condition", "c5", cond("c5", "e3", "a", "b"))
	ix.Add("DocumentReference", "n1", note("n1", "e1", "Practitioner/a", "Practitioner/a"))
	ix.Add("DocumentReference", "n2", note("n2", "e2", "Practitioner/a", "Practitioner/a"))
	ix.Add("DocumentReference", "n3", note("n3", "e2", "Practitioner/a", "Practitioner/b"))

	e := ix.encounters
	c := ix.conds
	n := ix.notes
	for _, tc := range []struct {
		name       string
		same, want bool
	}{
		{"encounters alike share a visit", e["Encounter/e1"].Visit == e["Encounter/e2"].Visit, true},
		{"another attending is another visit", e["Encounter/e1"].Visit == e["Encounter/e3"].Visit, false},
		{"diagnoses alike share a code", c["Condition/c1"].DxCode == c["Condition/c2"].DxCode, true},
		{"another text is another code", c["Condition/c1"].DxCode == c["Condition/c3"].DxCode, false},
		{"strings are not run together", c["Condition/c4"].DxCode == c["Condition/c5"].DxCode, false},
		{"notes alike share an authorship", n["DocumentReference/n1"].Authorship == n["DocumentReference/n2"].Authorship, true},
		{"another authenticator is another authorship", n["DocumentReference/n1"].Authorship == n["DocumentReference/n3"].Authorship, false},
		{"notes without extras share none", n["DocumentReference/n1"].noteExtra == noNoteExtra, true},
		{"a diagnosis names its encounter's own reference", c["Condition/c1"].Encounter == e["Encounter/e1"].Ref, true},
	} {
		if tc.same != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, tc.same, tc.want)
		}
	}

	// A new version of e2 (another class) and of c2 (another code)
	// leaves e1 and c1, which shared with them, as they were.
	ix.Add("Encounter", "e2", enc("e2", "EMER", "Practitioner/a"))
	ix.Add("Condition", "c2", cond("c2", "e2", "E11.9", "diabetes"))
	if got := e["Encounter/e1"].Class; got != "IMP" {
		t.Errorf("e1's class became %q", got)
	}
	if got := e["Encounter/e2"].Class; got != "EMER" {
		t.Errorf("e2's class is %q, want EMER", got)
	}
	if got := c["Condition/c1"].Code; got != "I10" {
		t.Errorf("c1's code became %q", got)
	}
	if got := ix.conds["Condition/c2"].Code; got != "E11.9" {
		t.Errorf("c2's code is %q, want E11.9", got)
	}
	if got := len(e["Encounter/e2"].conds); got != 2 {
		t.Errorf("e2 holds %d diagnoses, want 2", got)
	}
}
