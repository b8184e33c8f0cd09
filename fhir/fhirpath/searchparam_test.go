package fhirpath_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/custodian-him/custodian/fhir/fhirpath"
)

// searchParam is one R4 SearchParameter (testdata/search-parameters.json.gz).
type searchParam struct {
	Code       string   `json:"code"`
	Base       []string `json:"base"`
	Type       string   `json:"type"`
	Expression string   `json:"expression"`
}

func loadSearchParams(tb testing.TB) []searchParam {
	tb.Helper()
	f, err := os.Open("testdata/search-parameters.json.gz")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	var params []searchParam
	if err := json.NewDecoder(zr).Decode(&params); err != nil {
		tb.Fatal(err)
	}
	return params
}

// loadSynthea returns the sample resources keyed by resource type.
func loadSynthea(tb testing.TB) map[string]any {
	tb.Helper()
	f, err := os.Open("testdata/synthea/sample.ndjson.gz")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]any{}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		dec := json.NewDecoder(bufio.NewReader(bytesReader(sc.Bytes())))
		dec.UseNumber()
		var r map[string]any
		if err := dec.Decode(&r); err != nil {
			tb.Fatal(err)
		}
		out[r["resourceType"].(string)] = r
	}
	return out
}

// TestSearchParameterExpressions compiles every R4 SearchParameter expression and
// evaluates those that apply to the Synthea sample resources.
func TestSearchParameterExpressions(t *testing.T) {
	params := loadSearchParams(t)
	if len(params) != 1375 {
		t.Fatalf("got %d search parameters, want 1375", len(params))
	}
	resources := map[string][]any{}
	for typ, r := range loadSynthea(t) {
		resources[typ] = append(resources[typ], r)
	}
	inputs, err := filepath.Glob("testdata/input/*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range inputs {
		r := loadJSON(t, name).(map[string]any)
		typ := r["resourceType"].(string)
		resources[typ] = append(resources[typ], r)
	}
	env := &fhirpath.Env{Model: loadModel(t)}
	compiled, evaluated, nonEmpty := 0, 0, 0
	for _, sp := range params {
		if sp.Expression == "" {
			continue
		}
		expr, err := fhirpath.Compile(sp.Expression)
		if err != nil {
			t.Errorf("%s (%v): compile %q: %v", sp.Code, sp.Base, sp.Expression, err)
			continue
		}
		compiled++
		for _, base := range sp.Base {
			for _, r := range resources[base] {
				got, err := expr.Evaluate(context.Background(), r, env)
				if err != nil {
					t.Errorf("%s.%s: evaluate %q: %v", base, sp.Code, sp.Expression, err)
					continue
				}
				evaluated++
				if len(got) > 0 {
					nonEmpty++
				}
			}
		}
	}
	t.Logf("compiled %d expressions; %d evaluations on the sample, %d non-empty", compiled, evaluated, nonEmpty)
}

var benchExpressions = []struct{ name, resource, expr string }{
	{"Patient.name", "Patient", "Patient.name"},
	{"Patient.birthdate", "Patient", "Patient.birthDate | Person.birthDate | RelatedPerson.birthDate"},
	{"Patient.phonetic", "Patient", "Patient.name | Practitioner.name | RelatedPerson.name | Person.name"},
	{"Patient.phone", "Patient", "Patient.telecom.where(system='phone') | Person.telecom.where(system='phone') | Practitioner.telecom.where(system='phone') | PractitionerRole.telecom.where(system='phone') | RelatedPerson.telecom.where(system='phone')"},
	{"Observation.code", "Observation", "Observation.code"},
	{"Observation.subject", "Observation", "Observation.subject.where(resolve() is Patient)"},
	{"Observation.value-quantity", "Observation", "(Observation.value as Quantity) | (Observation.value as SampledData)"},
	{"Observation.date", "Observation", "Observation.effective"},
	{"Condition.onset-date", "Condition", "Condition.onset.as(dateTime) | Condition.onset.as(Period)"},
	{"Condition.code", "Condition", "AllergyIntolerance.code | AllergyIntolerance.reaction.substance | Condition.code | (DeviceRequest.code as CodeableConcept) | DiagnosticReport.code | FamilyMemberHistory.condition.code | List.code | Medication.code | (MedicationAdministration.medication as CodeableConcept) | (MedicationDispense.medication as CodeableConcept) | (MedicationRequest.medication as CodeableConcept) | (MedicationStatement.medication as CodeableConcept) | Observation.code | Procedure.code | ServiceRequest.code"},
	{"Encounter.date", "Encounter", "Encounter.period"},
	{"Encounter.participant", "Encounter", "Encounter.participant.individual"},
}

// BenchmarkSearchParameters evaluates typical search-parameter expressions, compiled
// once, on Synthea resources, as index extraction does on every write.
func BenchmarkSearchParameters(b *testing.B) {
	resources := loadSynthea(b)
	env := &fhirpath.Env{Model: loadModel(b)}
	ctx := context.Background()
	for _, bc := range benchExpressions {
		expr := fhirpath.MustCompile(bc.expr)
		r := resources[bc.resource]
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				got, err := expr.Evaluate(ctx, r, env)
				if err != nil || len(got) == 0 {
					b.Fatalf("%q: %v %v", bc.expr, got, err)
				}
			}
		})
	}
}

// BenchmarkCompile measures parsing a long search-parameter expression.
func BenchmarkCompile(b *testing.B) {
	src := benchExpressions[len(benchExpressions)-3].expr
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fhirpath.Compile(src); err != nil {
			b.Fatal(err)
		}
	}
}
