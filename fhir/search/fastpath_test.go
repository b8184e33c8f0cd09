package search_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/custodian-him/custodian/internal/fhirexamples"
	"github.com/custodian-him/custodian/store"
)

// TestPlansMatchEngine indexes every official example and every Synthea
// sample resource twice, with the compiled plans and with the FHIRPath
// engine alone, and requires the same entries.
func TestPlansMatchEngine(t *testing.T) {
	fast := registry(t)
	slow := fast.EngineOnly()
	planned, all := fast.PlanCoverage()
	t.Logf("%d of %d indexed parameters run as plans", planned, all)
	n := 0
	check := func(name string, res map[string]any) {
		typ, _ := res["resourceType"].(string)
		a, err1 := fast.Index(typ, res)
		b, err2 := slow.Index(typ, res)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v, %v", name, err1, err2)
		}
		sortEntries(a)
		sortEntries(b)
		if !slices.Equal(a, b) {
			for _, e := range a {
				if !slices.Contains(b, e) {
					t.Errorf("%s: plan only: %+v", name, e)
				}
			}
			for _, e := range b {
				if !slices.Contains(a, e) {
					t.Errorf("%s: engine only: %+v", name, e)
				}
			}
		}
		n++
	}
	for _, res := range synthea(t) {
		check("synthea", res)
	}
	err := fhirexamples.Each(func(name string, body []byte) error {
		res, err := store.Decode(body)
		if err != nil {
			return nil
		}
		check(name, res)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d resources compared", n)
}

func sortEntries(es []store.IndexEntry) {
	slices.SortFunc(es, func(a, b store.IndexEntry) int {
		return cmpStr(fmt.Sprintf("%+v", a), fmt.Sprintf("%+v", b))
	})
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
