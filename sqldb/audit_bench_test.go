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
// target is at least 1,000,000 entries per second. Set the trail's size
// with -benchtime (each op verifies all entries once).
func BenchmarkAuditVerify(b *testing.B) {
	const entries = 200_000
	db, _ := openBench(b)
	ctx := context.Background()
	now := time.Now()
	for done := 0; done < entries; {
		err := db.Write(ctx, func(tx store.Tx) error {
			for i := 0; i < 5000; i++ {
				e := &audit.Entry{Time: now, Action: audit.ActionRead, Outcome: "success", Actor: "user-" + fmt.Sprint(i%50),
					ActorKind: "user", Roles: []string{"clinician"}, Address: "10.1.2.3", Purpose: "TREAT",
					Resources: []string{"Observation/" + fmt.Sprint(done+i)}, Patients: []string{"p" + fmt.Sprint((done+i)%1000)}}
				if err := tx.Audit(ctx, e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		done += 5000
	}
	b.ResetTimer()
	for b.Loop() {
		res, err := audit.Verify(ctx, db)
		if err != nil || !res.OK || res.Entries != entries {
			b.Fatalf("%+v %v", res, err)
		}
	}
	b.ReportMetric(float64(entries)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
