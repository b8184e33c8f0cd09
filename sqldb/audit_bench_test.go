//go:build unix

package sqldb_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/store"
)

// BenchmarkAuditVerify measures how fast the whole chain is checked; the
// target is at least 1,000,000 entries per second over at least 1,000,000
// entries. The trail is built as the service builds it on SQLite: blocks
// of reads' entries as the journal appends them (up to 1,024 a block), a
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
// single-entry blocks, as ordinary writes leave it (each write appends its
// entry as a block of its own, with its key rows, inside its transaction).
func BenchmarkAuditVerifyWrites(b *testing.B) {
	const size, perTx = 1_000_000, 5_000
	db, _ := openBench(b)
	ctx := context.Background()
	now := time.Now()
	for done := 0; done < size; done += perTx {
		err := db.Write(ctx, func(tx store.Tx) error {
			for i := done; i < done+perTx; i++ {
				e := &audit.Entry{Time: now.Add(time.Duration(i) * time.Millisecond), Action: audit.ActionUpdate, Outcome: "success",
					Actor: "user-" + fmt.Sprint(i%50), ActorKind: "user", Roles: []string{"clinician"}, Address: "10.1.2.3", Purpose: "TREAT",
					Resources: []string{"Observation/" + fmt.Sprint(i) + "/_history/2"}, Patients: []string{"p" + fmt.Sprint(i%1000)}}
				if err := tx.Audit(ctx, e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
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
}
