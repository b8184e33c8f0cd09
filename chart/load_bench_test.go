//go:build unix

package chart_test

import (
	"context"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/custodian-him/custodian/chart"
	"github.com/custodian-him/custodian/chart/chartdb"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqlite"
	"github.com/custodian-him/custodian/store"
)

// cpuTime is the CPU time this process has used (user and system).
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// openLoadData opens the store in CHART_LOAD_DATA (skipping without it).
func openLoadData(b *testing.B) (*sqldb.DB, *store.Store) {
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
	b.Cleanup(func() { db.Close() })
	if err := db.RegisterParams(ctx, reg.Indexed()); err != nil {
		b.Fatal(err)
	}
	st := store.New(db, fhir.R4(), reg)
	st.AuditLog = db
	return db, st
}

// BenchmarkLoadSaved is BenchmarkLoadStore with the index's facts kept in
// the database (chart/chartdb), as serve reads it: "first" clears them, so
// an op reads the whole record and saves its facts (a first start, or a
// release with another facts format); "saved" reads the saved facts and
// the changes since (every other start); "replay" is "saved" with the
// saved position moved back by a tenth of the store's changes, as if they
// had been written while stopped (the state is put back afterwards).
func BenchmarkLoadSaved(b *testing.B) {
	db, st := openLoadData(b)
	facts := chartdb.New(db)
	ctx := context.Background()
	for _, mode := range []string{"first", "saved", "replay"} {
		b.Run(mode, func(b *testing.B) {
			var rv *chart.Reviewer
			if mode == "replay" {
				saved, ok, err := facts.Saved(ctx)
				if err != nil || !ok {
					b.Fatal("no saved state", err)
				}
				back := saved
				back.Replay -= back.Position / 10
				if err := facts.Save(ctx, nil, &back); err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { facts.Save(ctx, nil, &saved) })
			}
			_, base := heapInUse()
			cpu := cpuTime(b)
			for b.Loop() {
				if mode == "first" {
					if err := facts.Clear(ctx); err != nil {
						b.Fatal(err)
					}
				}
				rv = chart.NewReviewer(st)
				rv.Facts = facts
				if err := rv.Load(sysCtx()); err != nil {
					b.Fatal(err)
				}
				if rv.LastLoad().Saved != (mode != "first") {
					b.Fatalf("%s: %s", mode, rv.LastLoad())
				}
			}
			b.ReportMetric((cpuTime(b)-cpu).Seconds()/float64(b.N), "cpu-s/op")
			b.StopTimer()
			// What the reviewer holds: the process's heap in use and live
			// bytes after a collection, and the live bytes the load added
			// (CHART_MEMORY_PROFILE-<mode> gets its profile).
			inUse, live := heapInUse()
			b.ReportMetric(float64(inUse)/(1<<20), "heap-MiB")
			b.ReportMetric(float64(live)/(1<<20), "live-MiB")
			b.ReportMetric((float64(live)-float64(base))/(1<<20), "index-live-MiB")
			if p := os.Getenv("CHART_MEMORY_PROFILE"); p != "" {
				writeHeapProfile(b, p+"-"+mode)
			}
			runtime.KeepAlive(rv)
			b.ReportMetric(float64(rv.LastLoad().Facts), "facts")
			b.ReportMetric(float64(rv.LastLoad().Replayed), "replayed")
			b.ReportMetric(float64(len(rv.Tallies())), "owners")
		})
	}
}

// BenchmarkLoadStore reads the chart index of an existing store (the data
// directory CHART_LOAD_DATA, e.g. one made by custodian generate and
// import): what serve does at start. One op is one whole load. Skipped
// without the variable.
func BenchmarkLoadStore(b *testing.B) {
	_, st := openLoadData(b)
	var rv *chart.Reviewer
	cpu := cpuTime(b)
	for b.Loop() {
		rv = chart.NewReviewer(st)
		if err := rv.Load(sysCtx()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric((cpuTime(b)-cpu).Seconds()/float64(b.N), "cpu-s/op")
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(len(rv.Tallies())), "owners")
	runtime.KeepAlive(rv)
}
