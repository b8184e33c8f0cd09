package fhirpath_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/custodian-him/custodian/fhir/fhirpath"
)

// FuzzCompile checks that no input makes the parser or the evaluator panic, and that
// failures are *fhirpath.Error values.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"Patient.name.given", "(1 + 2) * 3 div 4 mod 5", "@2015-02-04T14:34:28.123+10:00 + 1 'mo'",
		"name.where(use = 'official').select(given.first() & ' ' & family)", "%`ext-1`.exists()",
		"'a\\u0041\\'b'", "`quoted id`.x", "iif(true, 1, {})", "5.5 'mg' = 5500 'ug'",
		"descendants().ofType(Quantity)", "$this.aggregate($total + $this, 0)", "/* c */ 1 // c",
		"Observation.value.as(Quantity).value > 5", "-1.convertsToInteger()", "@T12:00 < @T13",
	} {
		f.Add(s)
	}
	model := loadModel(f)
	patient := loadJSON(f, "testdata/input/patient-example.json")
	env := &fhirpath.Env{Model: model, Now: func() time.Time { return time.Unix(0, 0) }}
	f.Fuzz(func(t *testing.T, src string) {
		expr, err := fhirpath.Compile(src)
		var fe *fhirpath.Error
		if err != nil {
			if !errors.As(err, &fe) {
				t.Fatalf("Compile(%q): error %T is not *fhirpath.Error", src, err)
			}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := expr.Evaluate(ctx, patient, env); err != nil && !errors.As(err, &fe) && ctx.Err() == nil {
			t.Fatalf("Evaluate(%q): error %T is not *fhirpath.Error", src, err)
		}
	})
}
