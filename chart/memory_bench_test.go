package chart_test

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"

	"github.com/custodian-him/custodian/chart"
	"github.com/custodian-him/custodian/synth"
)

// heapInUse is the heap in use after a collection (HeapInuse: the spans
// holding live objects) and the live objects' bytes (HeapAlloc).
func heapInUse() (inUse, live uint64) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse, ms.HeapAlloc
}

// writeHeapProfile writes the heap profile to path (nothing when empty).
func writeHeapProfile(b *testing.B, path string) {
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

// BenchmarkIndexMemory measures what the chart index holds per patient of
// a generated hospital (CHART_MEMORY_PATIENTS people, default 1,000):
// the heap in use (spans) and the live objects' bytes, after a
// collection, with the index built minus before.
// Serve's memory for the index at any size is about this times the
// patients. One op is one whole build. CHART_MEMORY_PROFILE names a file
// to write the heap profile to while the index is held (go tool pprof
// -sample_index=inuse_space).
//
//	go test -run '^$' -bench IndexMemory -benchtime 1x ./chart
func BenchmarkIndexMemory(b *testing.B) {
	n := 1000
	if s := os.Getenv("CHART_MEMORY_PATIENTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	var inUse, live, resources float64
	var encounters int
	for b.Loop() {
		before, beforeLive := heapInUse()
		ix := chart.NewIndex(chart.DefaultRules())
		sum, err := synth.Generate(context.Background(), synth.Config{Patients: n, Seed: 1}, indexWriter{ix})
		if err != nil {
			b.Fatal(err)
		}
		after, afterLive := heapInUse()
		writeHeapProfile(b, os.Getenv("CHART_MEMORY_PROFILE"))
		runtime.KeepAlive(ix)
		inUse, live, resources, encounters = float64(after)-float64(before), float64(afterLive)-float64(beforeLive), float64(sum.Total), ix.Len()
	}
	b.ReportMetric(inUse/float64(n), "inuse-bytes/patient")
	b.ReportMetric(live/float64(n), "live-bytes/patient")
	b.ReportMetric(live/resources, "live-bytes/resource")
	b.ReportMetric(float64(encounters), "encounters")
}
