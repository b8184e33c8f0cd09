package fhirapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhirapi"
	"github.com/custodian-him/custodian/measure"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
	"github.com/custodian-him/custodian/synth"
)

// measureGuard lets everyone but the role "porter" search patients.
type measureGuard struct{}

func (measureGuard) Allow(a *custodian.Actor, typ, interaction string) error {
	if len(a.Roles) > 0 && a.Roles[0] == "porter" {
		return custodian.Errorf(custodian.EFORBIDDEN, "porters do not read records")
	}
	return nil
}
func (measureGuard) SeesSensitive(*custodian.Actor) bool { return true }

func TestEvaluateMeasure(t *testing.T) {
	ctx := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	db := sqldbtest.Open(t)
	st := store.New(db, fhir.R4(), nil)
	st.Guard = measureGuard{}
	rec := measure.NewRecord()
	st.Watchers = append(st.Watchers, rec.Watcher())
	var col synth.Collector
	if _, err := synth.Generate(ctx, synth.Config{Patients: 60, Seed: 3}, &col); err != nil {
		t.Fatal(err)
	}
	var batch []map[string]any
	for i, typ := range col.Types {
		switch typ {
		case "Patient", "Encounter", "Condition", "Observation":
			res, err := store.Decode(col.Bodies[i])
			if err != nil {
				t.Fatal(err)
			}
			batch = append(batch, res)
		}
	}
	if _, err := st.PutBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := measure.Install(ctx, st, measure.Builtins()); err != nil {
		t.Fatal(err)
	}
	m := &fhirapi.Measures{Definitions: measure.Builtins(), Record: rec, Store: st,
		Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }}
	h := (&fhirapi.Handler{Store: st, Types: []string{"Patient", "Measure"}, Operations: fhirapi.MeasureOperations(m)}).Init()
	actor := testActor
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(custodian.NewContextWithActor(context.Background(), actor)))
	}))
	defer srv.Close()
	c := &client{tb: t, base: srv.URL, http: srv.Client()}

	if got := c.do("GET", "/fhir/Measure/readmission-30day", "").must(t, 200); got.str("url") != measure.CanonicalBase+"readmission-30day" {
		t.Errorf("installed Measure: %.300s", got.raw)
	}
	period, _ := measure.ParsePeriod("2023-01-01/2024-12-31")
	want, err := measure.Evaluate(ctx, rec, measure.Find(m.Definitions, "hypertension-controlled"), period, measure.Options{Lists: true})
	if err != nil {
		t.Fatal(err)
	}
	if want.Count(measure.InitialPopulation) == 0 {
		t.Fatal("no hypertensive patients in the generated data")
	}
	got := c.do("GET", "/fhir/Measure/hypertension-controlled/$evaluate-measure?periodStart=2023-01-01&periodEnd=2024-12-31", "").must(t, 200)
	if got.str("resourceType") != "MeasureReport" || got.str("type") != "summary" || got.str("measure") != measure.CanonicalBase+"hypertension-controlled" {
		t.Fatalf("report: %.400s", got.raw)
	}
	for i, p := range want.Populations {
		if g := got.str("group", "0", "population", strconv.Itoa(i), "count"); g != strconv.Itoa(p.Count) {
			t.Errorf("%s: count %s, want %d", p.Code, g, p.Count)
		}
	}
	// type level by canonical URL, subject-list, by POST
	body := `{"resourceType":"Parameters","parameter":[
		{"name":"measure","valueString":"` + measure.CanonicalBase + `hypertension-controlled"},
		{"name":"periodStart","valueDate":"2023-01-01"},{"name":"periodEnd","valueDate":"2024-12-31"},
		{"name":"reportType","valueCode":"subject-list"}]}`
	got = c.do("POST", "/fhir/Measure/$evaluate-measure", body, "Content-Type", "application/fhir+json").must(t, 200)
	if got.str("type") != "subject-list" || got.str("group", "0", "population", "0", "subjectResults", "reference") != "#list-initial-population" {
		t.Fatalf("subject-list: %.600s", got.raw)
	}
	num := want.Cases(measure.Numerator)
	if len(num) > 0 {
		found := false
		for i := 0; i < 4; i++ {
			if got.str("contained", strconv.Itoa(i), "id") == "list-numerator" {
				found = got.str("contained", strconv.Itoa(i), "entry", "0", "item", "reference") == "Patient/"+num[0].Patient
			}
		}
		if !found {
			t.Errorf("the numerator list does not start with Patient/%s", num[0].Patient)
		}
	}
	// individual
	subject := want.Cases(measure.InitialPopulation)[0].Patient
	got = c.do("GET", "/fhir/Measure/hypertension-controlled/$evaluate-measure?periodStart=2023-01-01&periodEnd=2024-12-31&subject=Patient/"+subject, "").must(t, 200)
	if got.str("type") != "individual" || got.str("subject", "reference") != "Patient/"+subject || got.str("group", "0", "population", "0", "count") != "1" {
		t.Errorf("individual: %.500s", got.raw)
	}
	q := func(s string) string { return url.PathEscape(s) }
	bad := []struct {
		name, path string
		status     int
	}{
		{"no period", "/fhir/Measure/length-of-stay/$evaluate-measure?periodStart=2023-01-01", 400},
		{"bad date", "/fhir/Measure/length-of-stay/$evaluate-measure?periodStart=2023-13-01&periodEnd=2024-01-01", 400},
		{"reversed", "/fhir/Measure/length-of-stay/$evaluate-measure?periodStart=2024-01-01&periodEnd=2023-01-01", 400},
		{"unknown measure", "/fhir/Measure/no-such/$evaluate-measure?periodStart=2023-01-01&periodEnd=2024-01-01", 404},
		{"type level without measure", "/fhir/Measure/$evaluate-measure?periodStart=2023-01-01&periodEnd=2024-01-01", 400},
		{"bad report type", "/fhir/Measure/length-of-stay/$evaluate-measure?periodStart=2023-01-01&periodEnd=2024-01-01&reportType=everything", 400},
		{"subject report without subject", "/fhir/Measure/length-of-stay/$evaluate-measure?periodStart=2023-01-01&periodEnd=2024-01-01&reportType=subject", 400},
		{"group subject", "/fhir/Measure/length-of-stay/$evaluate-measure?periodStart=2023-01-01&periodEnd=2024-01-01&subject=" + q("Group/1"), 501},
		{"unknown patient", "/fhir/Measure/length-of-stay/$evaluate-measure?periodStart=2023-01-01&periodEnd=2024-01-01&subject=nobody", 404},
	}
	for _, tc := range bad {
		r := c.do("GET", tc.path, "").must(t, tc.status)
		if r.str("resourceType") != "OperationOutcome" {
			t.Errorf("%s: not an OperationOutcome: %s", tc.name, r.raw)
		}
	}
	actor = &custodian.Actor{ID: "pat", Kind: "user", Roles: []string{"porter"}}
	c.do("GET", "/fhir/Measure/length-of-stay/$evaluate-measure?periodStart=2023-01-01&periodEnd=2024-01-01", "").must(t, 403)
}
