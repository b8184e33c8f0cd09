package coding_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/custodian-him/custodian/codeset"
	"github.com/custodian-him/custodian/coding"
)

var (
	setOnce sync.Once
	codes   *codeset.Set
)

func loadSet(t testing.TB) *codeset.Set {
	t.Helper()
	setOnce.Do(func() {
		var err error
		if codes, err = codeset.Load(); err != nil {
			t.Fatal(err)
		}
	})
	return codes
}

func TestCheck(t *testing.T) {
	ch, err := coding.NewChecker(loadSet(t))
	if err != nil {
		t.Fatal(err)
	}
	d := func(code, poa string) coding.Diagnosis { return coding.Diagnosis{Code: code, POA: poa} }
	on := codeset.Date(20250115)
	cases := []struct {
		name  string
		claim coding.Claim
		want  []string // edit codes expected (each at least once)
		none  bool     // expect a clean claim
	}{
		{"clean", coding.Claim{Diagnoses: []coding.Diagnosis{d("J18.9", "Y"), d("I10", "Y"), d("Z87.891", "")}, Procedures: []coding.Procedure{{Code: "0FT44ZZ", Date: "2025-01-14"}}, Date: on, Age: 70, Sex: 'F', Inpatient: true}, nil, true},
		{"no principal", coding.Claim{Date: on, Age: 70, Sex: 'F', Inpatient: true}, []string{coding.EditNoPrincipal}, false},
		{"unknown code", coding.Claim{Diagnoses: []coding.Diagnosis{d("E99.99", "Y")}, Date: on, Age: 70, Inpatient: true}, []string{coding.EditInvalid}, false},
		{"malformed code", coding.Claim{Diagnoses: []coding.Diagnosis{d("123", "Y")}, Date: on, Age: 70, Inpatient: true}, []string{coding.EditInvalid}, false},
		{"header", coding.Claim{Diagnoses: []coding.Diagnosis{d("E11", "Y")}, Date: on, Age: 70, Inpatient: true}, []string{coding.EditHeader}, false},
		{"seventh character", coding.Claim{Diagnoses: []coding.Diagnosis{d("S72.001", "Y")}, Date: on, Age: 70, Inpatient: true}, []string{coding.EditSeventh}, false},
		{"not valid on date", coding.Claim{Diagnoses: []coding.Diagnosis{d("U07.1", "Y")}, Date: 20190601, Age: 70, Inpatient: true}, []string{coding.EditNotOnDate}, false},
		{"duplicate", coding.Claim{Diagnoses: []coding.Diagnosis{d("J18.9", "Y"), d("j18.9", "Y")}, Date: on, Age: 70, Inpatient: true}, []string{coding.EditDuplicate}, false},
		{"sex", coding.Claim{Diagnoses: []coding.Diagnosis{d("J18.9", "Y"), d("N40.0", "Y")}, Date: 20240115, Age: 70, Sex: 'F', Inpatient: true}, []string{coding.EditSex}, false},
		{"age", coding.Claim{Diagnoses: []coding.Diagnosis{d("J18.9", "Y"), d("O80", "Y")}, Date: on, Age: 70, Sex: 'F', Inpatient: true}, []string{coding.EditAge}, false},
		{"manifestation as principal", coding.Claim{Diagnoses: []coding.Diagnosis{d("F02.80", "Y"), d("G30.9", "Y")}, Date: on, Age: 80, Inpatient: true}, []string{coding.EditManifestation}, false},
		{"unacceptable principal", coding.Claim{Diagnoses: []coding.Diagnosis{d("Z00.00", "")}, Date: on, Age: 40, Inpatient: true}, []string{coding.EditUnacceptable}, false},
		{"external cause as principal", coding.Claim{Diagnoses: []coding.Diagnosis{d("W19.XXXA", "")}, Date: on, Age: 80, Inpatient: true}, []string{coding.EditExternalCause}, false},
		{"excludes1", coding.Claim{Diagnoses: []coding.Diagnosis{d("E11.9", "Y"), d("E10.9", "Y")}, Date: on, Age: 50, Inpatient: true}, []string{coding.EditExcludes1}, false},
		{"poa missing", coding.Claim{Diagnoses: []coding.Diagnosis{d("J18.9", "Y"), d("I10", "")}, Date: on, Age: 50, Inpatient: true}, []string{coding.EditPOAMissing}, false},
		{"poa not needed outpatient", coding.Claim{Diagnoses: []coding.Diagnosis{d("J18.9", ""), d("I10", "")}, Date: on, Age: 50}, nil, true},
		{"poa invalid", coding.Claim{Diagnoses: []coding.Diagnosis{d("J18.9", "X")}, Date: on, Age: 50, Inpatient: true}, []string{coding.EditPOAInvalid}, false},
		{"poa 1 on non-exempt", coding.Claim{Diagnoses: []coding.Diagnosis{d("J18.9", "1")}, Date: on, Age: 50, Inpatient: true}, []string{coding.EditPOAInvalid}, false},
		{"poa on exempt", coding.Claim{Diagnoses: []coding.Diagnosis{d("J18.9", "Y"), d("Z87.891", "Y")}, Date: on, Age: 50, Inpatient: true}, []string{coding.EditPOAExempt}, false},
		{"non-covered procedure", coding.Claim{Diagnoses: []coding.Diagnosis{d("J18.9", "Y")}, Procedures: []coding.Procedure{{Code: "00F3XZZ", Date: "2025-01-14"}}, Date: on, Age: 50, Inpatient: true}, []string{coding.EditNonCovered}, false},
		{"procedure without date", coding.Claim{Diagnoses: []coding.Diagnosis{d("J18.9", "Y")}, Procedures: []coding.Procedure{{Code: "0FT44ZZ"}}, Date: on, Age: 50, Inpatient: true}, []string{coding.EditProcedureNoDate}, false},
		{"incomplete procedure", coding.Claim{Diagnoses: []coding.Diagnosis{d("J18.9", "Y")}, Procedures: []coding.Procedure{{Code: "0FT4", Date: "2025-01-14"}}, Date: on, Age: 50, Inpatient: true}, []string{coding.EditInvalid}, false},
	}
	// The MCE dropped its sex edits in FY2025 (N40.0 is MALE only to
	// 2024-09-30): the same claim a year later passes.
	if got := ch.Check(&coding.Claim{Diagnoses: []coding.Diagnosis{d("J18.9", "Y"), d("N40.0", "Y")}, Date: on, Age: 70, Sex: 'F', Inpatient: true}); len(got) != 0 {
		t.Errorf("FY2025 claim with N40.0 for a woman: want no edit, got %+v", got)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := ch.Check(&tc.claim)
			var codes []string
			for _, e := range got {
				codes = append(codes, e.Code)
				if e.Message == "" || e.Fix == "" || e.Severity == "" {
					t.Errorf("edit %s lacks a message, fix or severity: %+v", e.Code, e)
				}
			}
			if tc.none && len(got) > 0 {
				t.Fatalf("want a clean claim, got %+v", got)
			}
			for _, w := range tc.want {
				if !slices.Contains(codes, w) {
					t.Errorf("want edit %s, got %v (%+v)", w, codes, got)
				}
			}
		})
	}
}
