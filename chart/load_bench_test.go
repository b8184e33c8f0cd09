package chart_test

import (
	"context"
	"os"
	"runtime"
	"testing"

	"github.com/custodian-him/custodian/chart"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/sqldb/sqlite"
	"github.com/custodian-him/custodian/store"
)

// BenchmarkLoadStore reads the chart index of an existing store (the data
// directory CHART_LOAD_DATA, e.g. one made by custodian generate and
// import): what serve does at start. One op is one whole load. Skipped
// without the variable.
func BenchmarkLoadStore(b *testing.B) {
	dir := os.Getenv("CHART_LOAD_DATA")
	if dir == "" {
		b.Skip("CHART_LOAD_DATA is not set")
	}
	ctx := context.Background()
	reg, err := search.NewR4(fhir.R4())
	if err != nil {
		b.Fatal(err)
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
	st.AuditLog = db
	var rv *chart.Reviewer
	for b.Loop() {
		rv = chart.NewReviewer(st)
		if err := rv.Load(sysCtx()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(len(rv.Tallies())), "owners")
	runtime.KeepAlive(rv)
}
