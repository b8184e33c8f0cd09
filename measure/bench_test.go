package measure

import (
	"context"
	"flag"
	"fmt"
	"github.com/custodian-him/custodian/store"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/custodian-him/custodian/synth"
)

// The scale benchmark: go test -run '^$' -bench Scale ./measure
// -measure.patients=N generates N patients into a Record (through the
// same parsing as the watcher) and -measure.copies=K replicates them K
// times under new ids, so that N*K patients are evaluated without
// generating them all.
var (
	benchPatients = flag.Int("measure.patients", 2000, "patients generated for the scale benchmark")
	benchCopies   = flag.Int("measure.copies", 1, "times the generated patients are replicated (under new ids)")
)

type recordWriter struct {
	rec *Record
	n   int
}

func (w *recordWriter) Resource(typ, id string, body []byte) error {
	if !projected(typ) {
		return nil
	}
	w.n++
	c, err := w.rec.parse(typ, id, 1, body)
	if err != nil {
		return err
	}
	w.rec.apply(c)
	return nil
}

// Fact turns each stay's expected coding into the coders' Claim (with
// present-on-admission), as the measure tests do, so that the
// hospital-acquired conditions measure has claims to read.
func (w *recordWriter) Fact(f *synth.Fact) error {
	if f.Kind != synth.FactCoding {
		return nil
	}
	e := w.rec.encounter(strings.TrimPrefix(f.Encounter, "Encounter/"))
	cl := &Claim{ID: "claim-" + e.ID, Encounter: e, Procedures: f.Procedures}
	for _, d := range f.Diagnoses {
		cl.Diagnoses = append(cl.Diagnoses, Dx{Code: w.rec.str(d.Code), POA: d.POA})
	}
	e.Claim = cl
	w.rec.claims[cl.ID] = cl
	return nil
}

// replicate adds k-1 copies of every patient of r, with their encounters,
// conditions, procedures, claims and observations, under ids suffixed
// "~i".
func (r *Record) replicate(k int) {
	base := make([]*Patient, 0, len(r.patients))
	for _, p := range r.patients {
		base = append(base, p)
	}
	for i := 1; i < k; i++ {
		sfx := "~" + strconv.Itoa(i)
		for _, p := range base {
			np := *p
			np.ID = p.ID + sfx
			np.Encounters, np.Conditions, np.Obs, np.Procedures = nil, nil, nil, nil
			r.patients[np.ID] = &np
			encs := map[*Encounter]*Encounter{}
			for _, e := range p.Encounters {
				ne := *e
				ne.ID, ne.Patient = e.ID+sfx, &np
				ne.DxRefs = make([]*Condition, len(e.DxRefs))
				for j, c := range e.DxRefs {
					ne.DxRefs[j] = r.condition(c.ID + sfx)
				}
				ne.Procedures = nil
				if e.Claim != nil {
					nc := *e.Claim
					nc.ID, nc.Encounter = e.Claim.ID+sfx, &ne
					ne.Claim = &nc
					r.claims[nc.ID] = &nc
				}
				for _, pr := range e.Procedures {
					npr := *pr
					npr.ID, npr.Patient, npr.Encounter = pr.ID+sfx, &np, &ne
					ne.Procedures = append(ne.Procedures, &npr)
					np.Procedures = append(np.Procedures, &npr)
					r.procedures[npr.ID] = &npr
				}
				encs[e] = &ne
				r.encounters[ne.ID] = &ne
				np.Encounters = append(np.Encounters, &ne)
			}
			for _, c := range p.Conditions {
				nc := r.condition(c.ID + sfx)
				*nc = *c
				nc.ID, nc.Patient = c.ID+sfx, &np
				if c.Encounter != nil {
					nc.Encounter = encs[c.Encounter]
				}
				np.Conditions = append(np.Conditions, nc)
			}
			for _, o := range p.Obs {
				no := *o
				no.ID, no.Patient = o.ID+sfx, &np
				r.obs[no.ID] = &no
				np.Obs = append(np.Obs, &no)
			}
		}
	}
}

func BenchmarkScale(b *testing.B) {
	rec := NewRecord()
	w := &recordWriter{rec: rec}
	start := time.Now()
	sum, err := synth.Generate(context.Background(), synth.Config{Patients: *benchPatients, Seed: 5}, w)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d patients (%d resources, %d projected) into the record in %s", sum.Patients, sum.Total, w.n, time.Since(start).Round(time.Millisecond))
	if *benchCopies > 1 {
		start = time.Now()
		rec.replicate(*benchCopies)
		b.Logf("replicated x%d in %s", *benchCopies, time.Since(start).Round(time.Millisecond))
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.Logf("record: %v; heap in use %d MB", rec.Counts(), ms.HeapInuse>>20)
	period, _ := ParsePeriod("2024-10-01/2025-09-30")
	patients := float64(rec.Counts()["Patient"])
	for _, def := range Builtins() {
		b.Run(def.ID, func(b *testing.B) {
			cpu0 := cpuTime()
			for b.Loop() {
				res, err := Evaluate(context.Background(), rec, def, period, Options{Lists: true})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(res.Count(InitialPopulation)), "initial-pop")
			}
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(patients, "patients")
		})
	}
	_ = fmt.Sprint()
}

// BenchmarkLoad measures building the record from a store by one
// streaming pass (Record.Load over BackendSource), with every generated
// resource type stored (notes, reports and medications included, as in a
// real store): go test -run '^$' -bench Load -benchtime 3x ./measure -args -measure.store-patients=300
var benchStorePatients = flag.Int("measure.store-patients", 200, "patients stored for the load benchmark")

func BenchmarkLoad(b *testing.B) {
	db, st := benchStore(b)
	ctx := context.Background()
	var col synth.Collector
	if _, err := synth.Generate(ctx, synth.Config{Patients: *benchStorePatients, Seed: 9}, &col); err != nil {
		b.Fatal(err)
	}
	var batch []map[string]any
	for i := range col.Types {
		res, err := store.Decode(col.Bodies[i])
		if err != nil {
			b.Fatal(err)
		}
		batch = append(batch, res)
	}
	for i := 0; i < len(batch); i += 5000 {
		if _, err := st.PutBatch(systemCtx(), batch[i:min(i+5000, len(batch))]); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		rec := NewRecord()
		if err := rec.Load(ctx, BackendSource{Backend: db}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(batch))*float64(b.N)/b.Elapsed().Seconds(), "resources/s")
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(len(batch)), "resources")
}

// cpuTime is the CPU time (user and system) the process has used: on a
// machine shared with other work, wall time alone says little.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
