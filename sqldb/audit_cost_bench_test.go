//go:build unix

package sqldb_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime/pprof"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/custodian-him/custodian/store"
)

// BenchmarkReadAuditCost measures read-by-id throughput through the store
// with 16 concurrent readers, the audit trail off (Store.NoAudit, for
// measuring only) and on, in short alternating phases of one run so that
// both see the same machine. Each op is a pair of phases (which mode goes
// first alternates); it reports both rates over the whole run and the
// median of the pairs' costs (1 - on/off), which a burst of other work on
// the machine during one phase moves least. Because wall time on a shared
// machine swings with other work, it also reports the process's CPU time
// per read in each mode (getrusage: user + system, the appending of the
// phase's audit entries to the chain included: it is finished before the
// phase ends), whose ratio is what auditing
// costs a machine that reads as fast as it can. The target is a cost of
// at most 10%.
func BenchmarkReadAuditCost(b *testing.B) {
	db, st := openBench(b)
	ctx := as("ana", "clinician")
	const n = 2000
	ids := make([]string, n)
	for i := range n {
		out, err := st.Create(ctx, "Observation", []byte(fmt.Sprintf(`{"resourceType":"Observation","status":"final","code":{"text":"t%d"},"subject":{"reference":"Patient/p%d"},"valueQuantity":{"value":%d,"unit":"mg"}}`, i, i%100, i)), store.WriteOptions{})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = out.Resource.ID
	}
	const readers, perPhase = 16, 8000
	label := "off"
	phase := func() (time.Duration, time.Duration) {
		cpu0 := cpuTime(b)
		start := time.Now()
		var wg sync.WaitGroup
		for range readers {
			wg.Go(func() {
				// The label tells the modes apart in a CPU profile.
				pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("audit", label)))
				for range perPhase / readers {
					if _, err := st.Read(ctx, "Observation", ids[rand.IntN(n)]); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if !st.NoAudit {
			// The phase's entries are appended to the chain now, not in
			// the next phase (which may be one without the audit).
			if _, err := db.MaxAuditSeq(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start), cpuTime(b) - cpu0
	}
	phase()                         // warm the caches
	var spent, cpu [2]time.Duration // [off, on]
	var costs, cpuCosts []float64
	b.ResetTimer()
	for b.Loop() {
		var d, c [2]time.Duration
		for k := range 2 {
			mode := (len(costs) + k) % 2 // each pair starts with the other mode
			st.NoAudit = mode == 0
			label = map[bool]string{true: "off", false: "on"}[st.NoAudit]
			d[mode], c[mode] = phase()
			cpu[mode] += c[mode]
		}
		spent[0] += d[0]
		spent[1] += d[1]
		costs = append(costs, 1-d[0].Seconds()/d[1].Seconds())
		cpuCosts = append(cpuCosts, 1-c[0].Seconds()/c[1].Seconds())
	}
	st.NoAudit = false
	pairs := float64(len(costs) * perPhase)
	slices.Sort(costs)
	slices.Sort(cpuCosts)
	b.ReportMetric(pairs/spent[0].Seconds(), "reads/s-off")
	b.ReportMetric(pairs/spent[1].Seconds(), "reads/s-on")
	b.ReportMetric(100*(1-spent[0].Seconds()/spent[1].Seconds()), "%cost-overall")
	b.ReportMetric(100*costs[len(costs)/2], "%cost-median")
	b.ReportMetric(float64(cpu[0].Nanoseconds())/pairs, "cpu-ns/read-off")
	b.ReportMetric(float64(cpu[1].Nanoseconds())/pairs, "cpu-ns/read-on")
	b.ReportMetric(100*(1-cpu[0].Seconds()/cpu[1].Seconds()), "%cost-cpu")
	b.ReportMetric(100*cpuCosts[len(cpuCosts)/2], "%cost-cpu-median")
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
