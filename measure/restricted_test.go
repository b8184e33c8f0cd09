package measure_test

import (
	"context"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/measure"
)

// TestRestrictedPatientsLeftOutOfLists: a patient whose record carries a
// sensitive label counts, but is left out of the lists (and refused as a
// subject) when HideRestricted is set.
func TestRestrictedPatientsLeftOutOfLists(t *testing.T) {
	rec := measure.NewRecord()
	put := func(typ, id, body string) {
		t.Helper()
		if err := rec.Put(typ, id, 1, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []struct{ id, meta string }{
		{"open", ``},
		{"vip", `"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"CEL"}]},`},
		{"hiv", ``},
	} {
		put("Patient", p.id, `{"resourceType":"Patient",`+p.meta+`"id":"`+p.id+`","birthDate":"1950-01-01","gender":"female"}`)
		put("Encounter", p.id+"-e", `{"resourceType":"Encounter","id":"`+p.id+`-e","status":"finished","class":{"code":"IMP"},
			"subject":{"reference":"Patient/`+p.id+`"},"period":{"start":"2024-03-01T10:00:00-05:00","end":"2024-03-04T10:00:00-05:00"}}`)
	}
	put("Condition", "hiv-c", `{"resourceType":"Condition","id":"hiv-c","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HIV"}]},
		"subject":{"reference":"Patient/hiv"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"B20"}]}}`)
	def := measure.Find(measure.Builtins(), "length-of-stay")
	period, _ := measure.ParsePeriod("2024-01-01/2024-12-31")
	ctx := context.Background()
	all, err := measure.Evaluate(ctx, rec, def, period, measure.Options{Lists: true})
	if err != nil {
		t.Fatal(err)
	}
	hidden, err := measure.Evaluate(ctx, rec, def, period, measure.Options{Lists: true, HideRestricted: true})
	if err != nil {
		t.Fatal(err)
	}
	if all.Count(measure.InitialPopulation) != 3 || hidden.Count(measure.InitialPopulation) != 3 {
		t.Errorf("counts %d and %d, want 3 both", all.Count(measure.InitialPopulation), hidden.Count(measure.InitialPopulation))
	}
	if got := hidden.Cases(measure.InitialPopulation); len(got) != 1 || got[0].Patient != "open" || hidden.Withheld != 4 {
		t.Errorf("listed %v, withheld %d; want only Patient/open, 4 entries withheld", got, hidden.Withheld)
	}
	if len(all.Cases(measure.InitialPopulation)) != 3 {
		t.Errorf("without hiding, %d listed", len(all.Cases(measure.InitialPopulation)))
	}
	_, err = measure.Evaluate(ctx, rec, def, period, measure.Options{Subject: "vip", HideRestricted: true})
	if custodian.ErrorCode(err) != custodian.ENOTFOUND {
		t.Errorf("a restricted subject: %v, want ENOTFOUND", err)
	}
}
