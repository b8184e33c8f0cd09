package sqldb_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/store"
)

// BenchmarkAuditVerify measures how fast the whole chain is checked; the
// target is at least 1,000,000 entries per second over at least 1,000,000
// entries. The trail is built as the service builds it: blocks of reads'
// entries (16 a block, as 16 concurrent readers share a commit) with a
// write's single-entry block after every 16th block. Each op verifies the
// whole trail once.
func BenchmarkAuditVerify(b *testing.B) {
	for _, size := range []int{1_000_000} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			db, _ := openBench(b)
			ctx := context.Background()
			now := time.Now()
			var batch []*audit.Entry
			flush := func() {
				if err := db.AppendAuditBatch(ctx, batch); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
			for i := range size {
				batch = append(batch, &audit.Entry{Time: now.Add(time.Duration(i) * time.Millisecond), Action: audit.ActionRead, Outcome: "success",
					Actor: "user-" + fmt.Sprint(i%50), ActorKind: "user", Roles: []string{"clinician"}, Address: "10.1.2.3", Purpose: "TREAT",
					Resources: []string{"Observation/" + fmt.Sprint(i)}, Patients: []string{"p" + fmt.Sprint(i%1000)}})
				if len(batch) == 16 || i%(17*16) == 0 {
					flush()
				}
			}
			if len(batch) > 0 {
				flush()
			}
			b.ResetTimer()
			for b.Loop() {
				res, err := audit.Verify(ctx, db)
				if err != nil || !res.OK || res.Entries != int64(size) {
					b.Fatalf("%+v %v", res, err)
				}
			}
			b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// BenchmarkReadAuditCost measures read-by-id throughput through the store
// with 16 concurrent readers, the audit trail off (Store.NoAudit, for
// measuring only) and on, in alternating phases of one run so that both
// see the same machine; it reports each rate and what auditing costs.
// The target is a cost of at most 10%. Each op is one phase of each mode.
func BenchmarkReadAuditCost(b *testing.B) {
	_, st := openBench(b)
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
	phase := func() {
		var wg sync.WaitGroup
		for range readers {
			wg.Go(func() {
				for range perPhase / readers {
					if _, err := st.Read(ctx, "Observation", ids[rand.IntN(n)]); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
	}
	var spent [2]time.Duration // [off, on]
	phases := 0
	b.ResetTimer()
	for b.Loop() {
		for k := range 2 {
			mode := (phases + k) % 2 // each round starts with the other mode
			st.NoAudit = mode == 0
			start := time.Now()
			phase()
			spent[mode] += time.Since(start)
		}
		phases++
	}
	off := float64(phases*perPhase) / spent[0].Seconds()
	on := float64(phases*perPhase) / spent[1].Seconds()
	b.ReportMetric(off, "reads/s-off")
	b.ReportMetric(on, "reads/s-on")
	b.ReportMetric(100*(1-on/off), "%cost")
}
