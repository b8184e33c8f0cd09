//go:build unix

package sqldb_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/sqldb"
)

// BenchmarkAuditVerify measures how fast the whole chain is checked; the
// target is at least 1,000,000 entries per second over at least 1,000,000
// entries. The trail is built as the service builds it on SQLite: blocks
// of 1,024 reads' entries (the journal makes blocks of up to 2,048, which verify faster), a
// write's single-entry block between them. Each op verifies the whole
// trail once. Besides entries per second of wall time it reports entries
// per second of the process's CPU time (getrusage, both verifying
// goroutines together), which other work on a shared machine moves less.
// BenchmarkAuditVerifyWrites does the same for a trail of writes only.
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
				if len(batch) == 1024 || i%1000 == 0 {
					flush()
				}
			}
			if len(batch) > 0 {
				flush()
			}
			b.ResetTimer()
			cpu0 := cpuTime(b)
			for b.Loop() {
				res, err := audit.Verify(ctx, db)
				if err != nil || !res.OK || res.Entries != int64(size) {
					b.Fatalf("%+v %v", res, err)
				}
			}
			b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
			b.ReportMetric(float64(size)*float64(b.N)/(cpuTime(b)-cpu0).Seconds(), "entries/cpu-s")
		})
	}
}

// BenchmarkAuditVerifyWrites measures Verify over a trail of 1,000,000
// single-entry blocks, as writes made one at a time leave it (each write
// appends its entry as a block of its own, with its key rows, inside its
// transaction): first as appended ("unsealed"), then after SealAudit has
// rewritten the small blocks as large ones ("sealed"), as a running
// server's sealer does in the background. It logs the seal's rate too.
func BenchmarkAuditVerifyWrites(b *testing.B) {
	const size, perTx = 1_000_000, 5_000
	db, _ := openBench(b)
	db.StopSealing()
	ctx := context.Background()
	now := time.Now()
	es := make([]*audit.Entry, 0, perTx)
	for done := 0; done < size; done += perTx {
		es = es[:0]
		for i := done; i < done+perTx; i++ {
			es = append(es, &audit.Entry{Time: now.Add(time.Duration(i) * time.Millisecond), Action: audit.ActionUpdate, Outcome: "success",
				Actor: "user-" + fmt.Sprint(i%50), ActorKind: "user", Roles: []string{"clinician"}, Address: "10.1.2.3", Purpose: "TREAT",
				Resources: []string{"Observation/" + fmt.Sprint(i) + "/_history/2"}, Patients: []string{"p" + fmt.Sprint(i%1000)}})
		}
		if err := sqldb.AppendAuditBlocks(db, es); err != nil {
			b.Fatal(err)
		}
	}
	verify := func(b *testing.B) {
		cpu0 := cpuTime(b)
		for b.Loop() {
			res, err := audit.Verify(ctx, db)
			if err != nil || !res.OK || res.Entries != int64(size) {
				b.Fatalf("%+v %v", res, err)
			}
		}
		b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		b.ReportMetric(float64(size)*float64(b.N)/(cpuTime(b)-cpu0).Seconds(), "entries/cpu-s")
	}
	b.Run("unsealed", verify)
	start, cpu0 := time.Now(), cpuTime(b)
	n, err := db.SealAudit(ctx)
	if err != nil || n != size {
		b.Fatalf("sealed %d entries, %v", n, err)
	}
	b.Logf("sealed %d entries in %v: %.0f entries/s, %.0f per CPU-second", n, time.Since(start).Round(time.Millisecond),
		float64(n)/time.Since(start).Seconds(), float64(n)/(cpuTime(b)-cpu0).Seconds())
	b.Run("sealed", verify)
}
