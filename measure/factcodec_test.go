package measure

import (
	"encoding/json"
	"reflect"
	"testing"
)

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestFactCodecRoundTrips: every parsed shape written in the binary form
// reads back the same (nil and set pointers, negative and zero ints, numbers
// as written, nested slices), and a fact cut short or with bytes left
// over is an error, never a panic.
func TestFactCodecRoundTrips(t *testing.T) {
	yes, no := true, false
	num := json.Number("-12.50e1")
	bodies := []struct {
		v    any
		body string
	}{
		{&patientJSON{}, `{"resourceType":"Patient","gender":"female","birthDate":"1950-01-02","deceasedBoolean":false,"active":true,
			"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]}}`},
		{&encounterJSON{}, `{"status":"finished","class":{"code":"IMP"},"period":{"start":"2024-01-01T10:00:00Z"},
			"participant":[{"type":[{"coding":[{"code":"ATND"}]}],"individual":{"reference":"Practitioner/p"}}],
			"diagnosis":[{"condition":{"reference":"Condition/c1"},"rank":-3},{"condition":{"reference":"Condition/c2"}}],
			"hospitalization":{"dischargeDisposition":{"coding":[{"code":"exp"}]}}}`},
		{&conditionJSON{}, `{"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"C50.911"}],"text":"é ✓"},
			"stage":[{"summary":{"text":"IIa"}}],"category":[]}`},
		{&claimJSON{}, `{"status":"active","diagnosis":[{"sequence":1,"diagnosisCodeableConcept":{"coding":[{"code":"I21.4"}]},"onAdmission":{"coding":[{"code":"n"}]}}],
			"item":[{"encounter":[{"reference":"Encounter/e"}]}]}`},
		{&observationJSON{}, `{"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"valueQuantity":{"value":9.75,"unit":"%"},
			"component":[{"code":{"coding":[{"code":"8480-6"}]},"valueQuantity":{"value":120}}]}`},
		{&procedureJSON{}, `{}`},
	}
	for _, b := range bodies {
		if err := json.Unmarshal([]byte(b.body), b.v); err != nil {
			t.Fatal(err)
		}
		data := encodeFact(b.v)
		got := reflect.New(reflect.TypeOf(b.v).Elem()).Interface()
		if err := decodeFact(data, got); err != nil {
			t.Fatalf("%T: %v", b.v, err)
		}
		// An empty list reads back as none (apply sees no difference).
		if w, g := mustJSON(t, b.v), mustJSON(t, got); w != g {
			t.Errorf("%T: read back %s, want %s", b.v, g, w)
		}
		for n := 1; n < len(data); n++ {
			if err := decodeFact(data[:n], reflect.New(reflect.TypeOf(b.v).Elem()).Interface()); err == nil {
				t.Errorf("%T cut to %d of %d bytes: no error", b.v, n, len(data))
			}
		}
		if err := decodeFact(append(data, 0), got); err == nil {
			t.Errorf("%T with a byte left over: no error", b.v)
		}
	}
	p := &patientJSON{DeceasedBoolean: &no, Active: &yes}
	q := &patientJSON{}
	if err := decodeFact(encodeFact(p), q); err != nil || *q.DeceasedBoolean || !*q.Active {
		t.Errorf("booleans: %v %+v", err, q)
	}
	o := &observationJSON{ValueQuantity: quantity{Value: &num}}
	o2 := &observationJSON{}
	if err := decodeFact(encodeFact(o), o2); err != nil || o2.ValueQuantity.Value == nil || *o2.ValueQuantity.Value != num {
		t.Errorf("number: %v %+v", err, o2.ValueQuantity)
	}
	if err := decodeFact([]byte(`{"gender":"male"}`), q); err == nil {
		t.Error("a JSON body read as a binary fact")
	}
}
