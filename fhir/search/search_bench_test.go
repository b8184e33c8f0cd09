package search_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/sqldb/sqlite"
	"github.com/custodian-him/custodian/store"
)

// BenchmarkSearch times the query set on Synthea patients stored
// through transactions (CUSTODIAN_BENCH_PATIENTS of the 79, default 20;
// the 1M-resource figures need the synth generator, not this):
//
//	go test ./fhir/search -run XXX -bench Search -benchtime 200x
func BenchmarkSearch(b *testing.B) {
	n := 20
	if v, err := strconv.Atoi(os.Getenv("CUSTODIAN_BENCH_PATIENTS")); err == nil {
		n = v
	}
	reg := registry(b)
	ctx := custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: "bench", Kind: "system"})
	dir := b.TempDir()
	if d := os.Getenv("CUSTODIAN_BENCH_DIR"); d != "" {
		dir = d // keep the database, e.g. to EXPLAIN its queries
	}
	db, err := sqlite.Open(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.RegisterParams(ctx, reg.Indexed()); err != nil {
		b.Fatal(err)
	}
	st := store.New(db, fhir.R4(), reg)
	loadSynthea(b, ctx, st, n)

	// Values to search for, taken from the data.
	first := func(typ string) map[string]any {
		p, err := st.Search(ctx, &store.Query{Types: []string{typ}, Count: 1})
		if err != nil || len(p.Resources) == 0 {
			b.Fatalf("no %s: %v", typ, err)
		}
		m, _ := store.Decode(p.Resources[0].Body)
		return m
	}
	pat, obs, cond := first("Patient"), first("Observation"), first("Condition")
	family := pat["name"].([]any)[0].(map[string]any)["family"].(string)
	ident := pat["identifier"].([]any)[1].(map[string]any)
	obsCode := obs["code"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"].(string)
	condCode := cond["code"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"].(string)
	queries := []struct{ name, typ, q string }{
		{"patient-name-birthdate", "Patient", "family=" + family + "&birthdate=" + pat["birthDate"].(string)},
		{"observation-patient-code-date", "Observation", "subject=Patient/" + pat["id"].(string) + "&code=" + obsCode + "&date=ge2000-01-01&date=le2030-01-01"},
		{"encounter-date-include-patient", "Encounter", "date=ge2015&_include=Encounter:patient&_count=100"},
		{"condition-code", "Condition", "code=" + condCode},
		{"observation-chained-identifier", "Observation", "subject:Patient.identifier=" + ident["system"].(string) + "|" + ident["value"].(string)},
		{"patient-has-condition", "Patient", "_has:Condition:patient:code=" + condCode},
		{"observation-sorted", "Observation", "_sort=-date&_count=100"},
		{"observation-value-quantity", "Observation", "value-quantity=gt100&_count=100"},
		{"page-of-100-three-includes", "Encounter", "_count=100&_include=Encounter:patient&_include=Encounter:practitioner&_include=Encounter:service-provider"},
	}
	for _, tc := range queries {
		b.Run(tc.name, func(b *testing.B) {
			var hits, inc int
			for b.Loop() {
				q, err := st.ParseQueryString(tc.typ, tc.q)
				if err != nil {
					b.Fatal(err)
				}
				res, err := st.SearchWithIncludes(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				hits, inc = len(res.Resources), len(res.Included)
			}
			b.ReportMetric(float64(hits), "matches")
			b.ReportMetric(float64(inc), "included")
		})
	}
}
