package deid_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/custodian-him/custodian/deid"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/synth"
)

// BenchmarkExport exports a generated store of 150 patients (23,439
// resources) the Safe Harbor way on every core, from the store to the
// files; it reports resources/s and the CPU-seconds of one export.
func BenchmarkExport(b *testing.B) {
	f := loadTB(b, 150)
	key, _ := deid.NewKey([]byte("a benchmark key of some length"))
	var read int
	var cpu float64
	for b.Loop() {
		x := deid.Export{Source: f.st, Method: deid.SafeHarbor, Key: key, Out: b.TempDir(), Types: fhir.R4().ResourceTypes()}
		rep, err := x.Run(f.ctx)
		if err != nil {
			b.Fatal(err)
		}
		read, cpu = rep.Read, rep.CPUSeconds
	}
	b.ReportMetric(float64(read*b.N)/b.Elapsed().Seconds(), "resources/s")
	b.ReportMetric(cpu, "cpu-s/op")
	b.ReportMetric(float64(read), "resources/op")
}

// BenchmarkRules times the de-identification of generated resources
// alone (one goroutine, no store).
func BenchmarkRules(b *testing.B) {
	var c synth.Collector
	if _, err := synth.Generate(b.Context(), synth.Config{Patients: 40, Seed: 2}, &c); err != nil {
		b.Fatal(err)
	}
	key, _ := deid.NewKey([]byte("a benchmark key of some length"))
	names := deid.Names{}
	names.Add("Maria Gonzalez Smith John")
	ru := &deid.Rules{Key: key, ZIP3: deid.DefaultRestrictedZIP3(), Names: names, Now: time.Now()}
	counts := map[string]int{}
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		for i := range c.Bodies {
			if _, err := ru.Resource(c.Types[i], c.IDs[i], "p", c.Bodies[i], counts); err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "resources/s")
	// CPU seconds, which other work on the machine does not inflate as it
	// does the wall clock: resources per CPU second on one goroutine.
	b.ReportMetric(float64(n)/(cpuTime()-cpu0).Seconds(), "resources/cpu-s")
}

// cpuTime is the process's CPU time (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
