package review_test

import (
	"testing"

	"github.com/custodian-him/custodian/access"
)

// BenchmarkPages measures each page's server time on the test hospital
// (60 patients): go test ./web/review -run '^$' -bench Pages -benchtime 50x
func BenchmarkPages(b *testing.B) {
	e := newEnv(b, 60)
	for _, path := range []string{"/review/queue", "/review/queue?kind=unsigned&sort=due", "/review/report?from=2022-10&to=2025-09", "/review/clinician?owner=Practitioner%2Fprac-50f5647d-0005"} {
		b.Run(path, func(b *testing.B) {
			for b.Loop() {
				if rec := e.get(path, access.RoleHIMDirector); rec.Code != 200 {
					b.Fatalf("%s: %d", path, rec.Code)
				}
			}
		})
	}
}
