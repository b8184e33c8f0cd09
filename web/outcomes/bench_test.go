package outcomes_test

import (
	"net/http"
	"testing"

	"github.com/custodian-him/custodian/access"
)

// BenchmarkPages measures the server time of the outcomes pages over a
// small generated hospital (go test -run '^$' -bench Pages -benchtime 20x).
func BenchmarkPages(b *testing.B) {
	e := newEnv(b, 300)
	for _, p := range []struct{ name, path string }{
		{"measures", "/outcomes/measures/?from=2022-10-01&to=2025-09-30"},
		{"measure", "/outcomes/measures/readmission-30day?from=2022-10-01&to=2025-09-30"},
		{"cases", "/outcomes/measures/hypertension-controlled/cases?population=denominator&from=2022-10-01&to=2025-09-30"},
		{"registry", "/outcomes/registries/diabetes"},
		{"dashboard", "/dashboard"},
	} {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				if rec := e.get(p.path, access.RoleHIMDirector); rec.Code != http.StatusOK {
					b.Fatalf("%s: %d", p.path, rec.Code)
				}
			}
		})
	}
}
