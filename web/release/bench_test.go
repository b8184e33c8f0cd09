package release_test

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/roi"
)

// BenchmarkPages measures each release page's time on the server (the
// handler, as a signed-in specialist) with CUSTODIAN_ROI_BENCH_REQUESTS
// requests (default 200) spread over 50 patients, a tenth of them
// released.
//
//	CUSTODIAN_ROI_BENCH_REQUESTS=500 go test ./web/release -run '^$' -bench Pages -benchtime 20x
func BenchmarkPages(b *testing.B) {
	n := 200
	if s := os.Getenv("CUSTODIAN_ROI_BENCH_REQUESTS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	e := newEnv(b)
	patients := []string{e.patient}
	for i := 1; i < 50; i++ {
		patients = append(patients, e.create(fmt.Sprintf(`{"resourceType":"Patient","name":[{"family":"Bench%d","given":["Pat"]}],"birthDate":"1980-01-01"}`, i)))
	}
	var released *roi.Request
	for i := range n {
		pt := patients[i%len(patients)]
		r := &roi.Request{Patient: pt, RequesterKind: roi.CourtOrder, RequesterName: "Clerk of the Superior Court", Purpose: "HLEGAL",
			Basis: roi.BasisCourtOrder, LegalAuthority: fmt.Sprintf("Order %d", i), Types: []string{"DocumentReference", "Condition"},
			Received: clock.AddDate(0, 0, -i%45)}
		r, err := e.svc.Submit(specialist(), r)
		if err != nil {
			b.Fatal(err)
		}
		if i%10 == 0 && pt == e.patient {
			if r, _, err = e.svc.Release(specialist(), r.ID, roi.Delivery{Method: "mail"}); err != nil {
				b.Fatal(err)
			}
			released = r
		}
	}
	pages := []struct{ name, path string }{
		{"queue", "/roi/queue"},
		{"queue-all", "/roi/queue?status=all"},
		{"request", "/roi/requests/" + released.ID},
		{"new-request", "/roi/new?patient=" + e.patient},
		{"accounting", "/roi/accounting?patient=" + e.patient},
	}
	// roi's List alone, which the queue runs once, to tell its share.
	b.Run("roi-list-open", func(b *testing.B) {
		for b.Loop() {
			if _, err := e.svc.List(specialist(), roi.Filter{Open: true}); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, pg := range pages {
		b.Run(pg.name, func(b *testing.B) {
			var bytes int
			for b.Loop() {
				rec := e.serve("GET", pg.path, nil, access.RoleROISpecialist)
				if rec.Code != 200 {
					b.Fatalf("%s: %d", pg.path, rec.Code)
				}
				bytes = rec.Body.Len()
			}
			b.ReportMetric(float64(bytes), "html-bytes")
		})
	}
}
