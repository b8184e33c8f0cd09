package measure

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"

	"github.com/custodian-him/custodian/synth"
)

// resourceWriter files generated resources into a Record as the watcher
// does (the coders' claims are not made up from the generator's facts).
type resourceWriter struct{ recordWriter }

func (w *resourceWriter) Fact(*synth.Fact) error { return nil }

// heapInUse is the heap in use after a collection (HeapInuse: the spans
// holding live objects) and the live objects' bytes (HeapAlloc).
func heapInUse() (inUse, live uint64) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse, ms.HeapAlloc
}

// WriteHeapProfile writes the heap profile to path (nothing when empty),
// for the record's memory benchmarks in both test packages.
func WriteHeapProfile(b *testing.B, path string) {
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRecordMemory measures what the measures' record holds per
// patient of a generated hospital (MEASURE_MEMORY_PATIENTS people,
// default 1,000): the heap in use (spans) and the live objects' bytes,
// after a collection, with the record built minus before. Serve's memory for the record at any size is about
// this times the patients. One op is one whole build. MEASURE_MEMORY_PROFILE
// names a file to write the heap profile to while the record is held.
//
//	go test -run '^$' -bench RecordMemory -benchtime 1x ./measure
func BenchmarkRecordMemory(b *testing.B) {
	n := 1000
	if s := os.Getenv("MEASURE_MEMORY_PATIENTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	var inUse, live, resources float64
	var encounters int
	for b.Loop() {
		before, beforeLive := heapInUse()
		rec := NewRecord()
		sum, err := synth.Generate(context.Background(), synth.Config{Patients: n, Seed: 1}, &resourceWriter{recordWriter{rec: rec}})
		if err != nil {
			b.Fatal(err)
		}
		after, afterLive := heapInUse()
		WriteHeapProfile(b, os.Getenv("MEASURE_MEMORY_PROFILE"))
		runtime.KeepAlive(rec)
		inUse, live, resources, encounters = float64(after)-float64(before), float64(afterLive)-float64(beforeLive), float64(sum.Total), int(rec.Counts()["Encounter"])
	}
	b.ReportMetric(inUse/float64(n), "inuse-bytes/patient")
	b.ReportMetric(live/float64(n), "live-bytes/patient")
	b.ReportMetric(live/resources, "live-bytes/resource")
	b.ReportMetric(float64(encounters), "encounters")
}
