package measure

import (
	"fmt"
	"testing"
)

// TestRecordShares checks that the record shares encounter kinds and
// condition codes only between entries alike, and that a new version of
// one entry leaves the others as they were.
func TestRecordShares(t *testing.T) {
	r := NewRecord()
	put := func(typ, id string, version int64, body string) {
		t.Helper()
		if err := r.Put(typ, id, version, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	enc := func(id, class string) string {
		return fmt.Sprintf(`{"resourceType":"Encounter","id":%q,"status":"finished","class":{"code":%q},"subject":{"reference":"Patient/p1"},`+
			`"period":{"start":"2025-01-02T10:00:00-05:00","end":"2025-01-04T10:00:00-05:00"}}`, id, class)
	}
	cond := func(id, code string) string {
		return fmt.Sprintf(`{"resourceType":"Condition","id":%q,"subject":{"reference":"Patient/p1"},"encounter":{"reference":"Encounter/e1"},`+
			`"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":%q}]}}`, id, code)
	}
	put("Patient", "p1", 1, `{"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1950-01-01"}`)
	put("Encounter", "e1", 1, enc("e1", "IMP"))
	put("Encounter", "e2", 1, enc("e2", "IMP"))
	put("Encounter", "e3", 1, enc("e3", "EMER"))
	put("Condition", "c1", 1, cond("c1", "I10"))
	put("Condition", "c2", 1, cond("c2", "I10"))
	put("Condition", "c3", 1, cond("c3", "E11.9"))
	r.mu.Lock()
	r.applyPending()
	r.mu.Unlock()
	e, c := r.encounters, r.conditions
	for _, tc := range []struct {
		name       string
		same, want bool
	}{
		{"encounters alike share a kind", e["e1"].EncounterKind == e["e2"].EncounterKind, true},
		{"another class is another kind", e["e1"].EncounterKind == e["e3"].EncounterKind, false},
		{"conditions alike share a code", c["c1"].ConditionCode == c["c2"].ConditionCode, true},
		{"another code is another", c["c1"].ConditionCode == c["c3"].ConditionCode, false},
	} {
		if tc.same != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, tc.same, tc.want)
		}
	}
	put("Encounter", "e2", 2, enc("e2", "AMB"))
	put("Condition", "c2", 2, cond("c2", "J18.9"))
	r.mu.Lock()
	r.applyPending()
	r.mu.Unlock()
	if e["e1"].Class != "IMP" || e["e2"].Class != "AMB" {
		t.Errorf("classes are %q and %q, want IMP and AMB", e["e1"].Class, e["e2"].Class)
	}
	if c["c1"].Code != "I10" || c["c2"].Code != "J18.9" {
		t.Errorf("codes are %q and %q, want I10 and J18.9", c["c1"].Code, c["c2"].Code)
	}
	// An encounter or condition only named so far reads as empty.
	if k := r.encounter("e9"); k.Class != "" || k.Known {
		t.Errorf("an encounter only named has class %q", k.Class)
	}
	if k := r.condition("c9"); k.Code != "" || k.Known {
		t.Errorf("a condition only named has code %q", k.Code)
	}
}
