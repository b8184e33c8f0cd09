package fhirpath_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/custodian-him/custodian/fhir/fhirpath"
)

func decode(t *testing.T, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

const patientWithExtensions = `{
  "resourceType": "Patient", "id": "p1",
  "birthDate": "1974-12-25",
  "_birthDate": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime", "valueDateTime": "1974-12-25T14:35:45-05:00"}]},
  "name": [{"family": "Chalmers", "given": ["Peter", null, "Jim"],
            "_given": [null, {"extension": [{"url": "http://example.org/x", "valueString": "no value"}]}, null]}],
  "deceasedBoolean": false,
  "contained": [{"resourceType": "Organization", "id": "org1", "name": "Acme"}],
  "managingOrganization": {"reference": "#org1"},
  "generalPractitioner": [{"reference": "Practitioner/pr1"}]
}`

const observation = `{
  "resourceType": "Observation", "id": "o1", "status": "final",
  "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
  "subject": {"reference": "Patient/p1"},
  "effectiveDateTime": "2020-02-03T10:00:00Z",
  "valueQuantity": {"value": 185.50, "unit": "lbs", "system": "http://unitsofmeasure.org", "code": "[lb_av]"}
}`

// TestEvaluate covers the engine's contract on the data model, with and without a model.
func TestEvaluate(t *testing.T) {
	t.Parallel()
	patient := decode(t, patientWithExtensions)
	obs := decode(t, observation)
	model := loadModel(t)
	tests := []struct {
		name  string
		input any
		expr  string
		want  []string // rendered items
	}{
		{"primitive extension", patient, "Patient.birthDate.extension('http://hl7.org/fhir/StructureDefinition/patient-birthTime').value", []string{"@1974-12-25T14:35:45-05:00"}},
		{"array extensions aligned", patient, "Patient.name.given.count()", []string{"3"}},
		{"primitive without value", patient, "Patient.name.given.where(hasValue().not()).extension.value", []string{"no value"}},
		{"choice element", obs, "Observation.value.value", []string{"185.50"}},
		{"choice type test", obs, "Observation.value is Quantity", []string{"true"}},
		{"choice cast", obs, "(Observation.value as Quantity).code", []string{"[lb_av]"}},
		{"quantity UCUM comparison", obs, "Observation.value > 80 'kg'", []string{"true"}},
		{"decimal keeps precision", obs, "Observation.value.value.toString()", []string{"185.50"}},
		{"date precision unknown", obs, "Observation.effective > @2020", nil},
		{"date comparison", obs, "Observation.effective > @2020-02-03T09:00:00Z", []string{"true"}},
		{"resolve contained", patient, "Patient.managingOrganization.resolve().name", []string{"Acme"}},
		{"resolve literal stub", patient, "Patient.generalPractitioner.where(resolve() is Practitioner).reference", []string{"Practitioner/pr1"}},
		{"search parameter union", patient, "Patient.deceased.exists() and Patient.deceased != false", []string{"false"}},
		{"date arithmetic", patient, "Patient.birthDate + 1 year", []string{"@1975-12-25"}},
	}
	for _, tc := range tests {
		for _, withModel := range []bool{true, false} {
			name := tc.name + "/no model"
			env := &fhirpath.Env{}
			if withModel {
				name = tc.name + "/model"
				env.Model = model
			}
			t.Run(name, func(t *testing.T) {
				expr, err := fhirpath.Compile(tc.expr)
				if err != nil {
					t.Fatal(err)
				}
				got, err := expr.Evaluate(context.Background(), tc.input, env)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, render(got)); diff != "" {
					t.Errorf("%s (-want +got):\n%s", tc.expr, diff)
				}
			})
		}
	}
}

func TestItemAccessors(t *testing.T) {
	t.Parallel()
	obs := decode(t, observation)
	tests := []struct {
		expr     string
		wantType string
		wantJSON any
	}{
		{"Observation.status", "code", "final"},
		{"Observation.value", "Quantity", obs.(map[string]any)["valueQuantity"]},
		{"Observation.value.value", "decimal", json.Number("185.50")},
		{"1.50 + 1", "System.Decimal", json.Number("2.50")},
		{"@2020-01-01", "System.Date", "2020-01-01"},
		{"5 'mg'", "System.Quantity", map[string]any{"value": json.Number("5"), "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}},
	}
	for _, tc := range tests {
		got, err := fhirpath.MustCompile(tc.expr).Evaluate(context.Background(), obs, &fhirpath.Env{Model: loadModel(t)})
		if err != nil || len(got) != 1 {
			t.Fatalf("%s: %v %v", tc.expr, got, err)
		}
		if got[0].Type() != tc.wantType {
			t.Errorf("%s: Type() = %s, want %s", tc.expr, got[0].Type(), tc.wantType)
		}
		if diff := cmp.Diff(tc.wantJSON, got[0].JSON()); diff != "" {
			t.Errorf("%s: JSON() (-want +got):\n%s", tc.expr, diff)
		}
	}
}

func TestEnv(t *testing.T) {
	t.Parallel()
	patient := decode(t, patientWithExtensions)
	var traced []string
	env := &fhirpath.Env{
		Vars: map[string]any{"who": "Peter", "n": 2},
		Resolve: func(_ context.Context, ref string) (any, error) {
			if ref == "Practitioner/pr1" {
				return map[string]any{"resourceType": "Practitioner", "id": "pr1", "active": true}, nil
			}
			return nil, nil
		},
		Trace: func(name string, c fhirpath.Collection) { traced = append(traced, name) },
	}
	expr := fhirpath.MustCompile("Patient.name.given.trace('g').where($this = %who).count() + %n + Patient.generalPractitioner.resolve().active.count()")
	got, err := expr.Evaluate(context.Background(), patient, env)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"4"}, render(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"g"}, traced); diff != "" {
		t.Errorf("trace (-want +got):\n%s", diff)
	}
	_, err = fhirpath.MustCompile("%undefined").Evaluate(context.Background(), patient, nil)
	var fe *fhirpath.Error
	if !errors.As(err, &fe) || fe.Kind != fhirpath.SemanticError {
		t.Errorf("undefined variable: got %v, want a semantic error", err)
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		want fhirpath.ErrorKind
	}{
		{"Patient.", fhirpath.SyntaxError},
		{"1 +", fhirpath.SyntaxError},
		{"'unterminated", fhirpath.SyntaxError},
		{"Patient.name.nosuch()", fhirpath.SemanticError},
		{"Patient.name.where()", fhirpath.SemanticError},
		{"Patient.name.first(1)", fhirpath.SemanticError},
	}
	for _, tc := range tests {
		_, err := fhirpath.Compile(tc.src)
		var fe *fhirpath.Error
		if !errors.As(err, &fe) || fe.Kind != tc.want {
			t.Errorf("Compile(%q) = %v, want %v error", tc.src, err, tc.want)
		}
	}
}

// TestConcurrentEvaluate shares one Expression between goroutines (run with -race).
func TestConcurrentEvaluate(t *testing.T) {
	t.Parallel()
	patient := decode(t, patientWithExtensions)
	expr := fhirpath.MustCompile("Patient.name.where(family.exists()).given.select($this & $index.toString())")
	env := &fhirpath.Env{Model: loadModel(t)}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if _, err := expr.Evaluate(context.Background(), patient, env); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestAsOperatorOnCollections: search parameters cast repeating elements with `as`.
func TestAsOperatorOnCollections(t *testing.T) {
	t.Parallel()
	ad := decode(t, `{"resourceType": "ActivityDefinition", "useContext": [
		{"code": {"code": "focus"}, "valueCodeableConcept": {"text": "a"}},
		{"code": {"code": "age"}, "valueQuantity": {"value": 5, "unit": "a"}},
		{"code": {"code": "program"}, "valueCodeableConcept": {"text": "b"}}]}`)
	for _, withModel := range []bool{true, false} {
		env := &fhirpath.Env{}
		if withModel {
			env.Model = loadModel(t)
		}
		got, err := fhirpath.MustCompile("(ActivityDefinition.useContext.value as CodeableConcept).text").Evaluate(context.Background(), ad, env)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"a", "b"}, render(got)); diff != "" {
			t.Errorf("model=%v (-want +got):\n%s", withModel, diff)
		}
		if _, err := fhirpath.MustCompile("ActivityDefinition.useContext.value.as(CodeableConcept)").Evaluate(context.Background(), ad, env); err == nil {
			t.Errorf("model=%v: as() on 3 items: want an error", withModel)
		}
	}
}
