package sqldb_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/custodian-him/custodian/store"
)

// BenchmarkReadAudit measures read-by-id throughput through the store with
// the audit trail on (every read appends a chained entry before it returns)
// and off, side by side, for the target "auditing reads costs at most 10%
// of read throughput". Run with -cpu to vary the concurrent readers.
func BenchmarkReadAudit(b *testing.B) {
	_, st := openBench(b)
	ctx := as("ana", "clinician")
	const n = 2000
	ids := make([]string, n)
	for i := range n {
		out, err := st.Create(ctx, "Observation", []byte(fmt.Sprintf(`{"resourceType":"Observation","status":"final","code":{"text":"t%d"},"valueQuantity":{"value":%d,"unit":"mg"}}`, i, i)), store.WriteOptions{})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = out.Resource.ID
	}
	for _, mode := range []struct {
		name    string
		noAudit bool
	}{{"audit-off", true}, {"audit-on", false}} {
		b.Run(mode.name, func(b *testing.B) {
			st.NoAudit = mode.noAudit
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := st.Read(ctx, "Observation", ids[rand.IntN(n)]); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
