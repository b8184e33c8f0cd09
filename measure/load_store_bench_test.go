package measure_test

import (
	"context"
	"os"
	"runtime"
	"testing"

	"github.com/custodian-him/custodian/measure"
	"github.com/custodian-him/custodian/measure/factdb"
	"github.com/custodian-him/custodian/sqldb/sqlite"
)

// BenchmarkLoadSavedStore reads the measures' record of an existing store
// (the data directory MEASURE_LOAD_DATA, e.g. a copy of one serve has
// run on) as serve does at start: the saved facts and the changes since
// (the whole record when there are none of the record's format). It
// reports the heap in use and the live bytes after a collection with the
// record held, and the live bytes the load added; MEASURE_MEMORY_PROFILE names a file for the heap profile.
// Skipped without the variable. It saves the facts (as serve does).
//
//	MEASURE_LOAD_DATA=/path/to/copy go test -run '^$' -bench LoadSavedStore -benchtime 1x ./measure
func BenchmarkLoadSavedStore(b *testing.B) {
	dir := os.Getenv("MEASURE_LOAD_DATA")
	if dir == "" {
		b.Skip("MEASURE_LOAD_DATA is not set")
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	var rec *measure.Record
	var stats measure.LoadStats
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for b.Loop() {
		rec = measure.NewRecord()
		p := &measure.Projection{Record: rec, Facts: factdb.New(db), Source: measure.BackendSource{Backend: db}}
		if stats, err = p.Load(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "live-MiB")
	b.ReportMetric((float64(ms.HeapAlloc)-float64(before.HeapAlloc))/(1<<20), "record-live-MiB")
	measure.WriteHeapProfile(b, os.Getenv("MEASURE_MEMORY_PROFILE"))
	runtime.KeepAlive(rec)
	b.ReportMetric(float64(rec.Counts()["Patient"]), "patients")
	b.Logf("%+v", stats)
}
