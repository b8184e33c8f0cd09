//go:build unix

package sqldb_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
)

// BenchmarkAppendAudit measures what appending one read's audit entry
// costs the process, as 16 readers append at once: on SQLite through the
// journal, on PostgreSQL through audit_pending, either way until the
// entries are in the chain. It reports CPU time per entry (getrusage, the
// background appending included) besides wall time.
func BenchmarkAppendAudit(b *testing.B) {
	db := sqldbtest.Open(b)
	ctx := context.Background()
	const writers = 16
	now := time.Now()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	var wg sync.WaitGroup
	per := b.N/writers + 1
	for w := range writers {
		wg.Go(func() {
			for i := range per {
				e := &audit.Entry{Time: now, Action: audit.ActionRead, Outcome: "success", Actor: "ana", ActorKind: "user",
					Roles: []string{"clinician"}, Address: "10.1.2.3", Purpose: "TREAT",
					Resources: []string{fmt.Sprintf("Observation/o%d-%d", w, i)}, Patients: []string{fmt.Sprintf("p%d", i%100)}}
				if err := db.AppendAudit(ctx, e, false); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if _, err := db.MaxAuditSeq(ctx); err != nil { // everything into the chain
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(per*writers), "cpu-ns/entry")
}
