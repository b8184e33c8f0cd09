package roi_test

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/custodian-him/custodian/roi"
)

// BenchmarkPacket500Pages releases a packet of about 500 pages: 100
// notes of some 130 lines each and 600 laboratory results, gathered from
// the store, rendered as PDF and Bundle and stored. Target: ≤ 10 s.
func BenchmarkPacket500Pages(b *testing.B) {
	e := newEnv(b)
	var text strings.Builder
	for i := range 130 {
		fmt.Fprintf(&text, "Line %03d: patient seen on rounds; vital signs stable, tolerating diet, plan to continue current management and reassess.\n", i)
	}
	for i := range 100 {
		e.create("note", note(fmt.Sprintf("2025-%02d-%02d", 1+i%12, 1+i%28), "Progress note", text.String(), ""))
	}
	for i := range 600 {
		e.create("lab", fmt.Sprintf(`{"resourceType":"Observation","status":"final","subject":{"reference":"Patient/PATIENT"},"effectiveDateTime":"2025-%02d-%02dT08:00:00Z",`+
			`"code":{"coding":[{"system":"http://loinc.org","code":"2345-7","display":"Glucose"}]},"valueQuantity":{"value":%d,"unit":"mg/dL"},`+
			`"referenceRange":[{"low":{"value":70,"unit":"mg/dL"},"high":{"value":99,"unit":"mg/dL"}}]}`, 1+i%12, 1+i%28, 80+i%50))
	}
	a := e.authorize(nil)
	pages := 0
	b.ResetTimer()
	for range b.N {
		r := e.attorneyRequest(a.ID, nil)
		_, p, err := e.svc.Release(specialist(), r.ID, roi.Delivery{Method: "mail"})
		if err != nil {
			b.Fatal(err)
		}
		pages = p.Pages
	}
	b.ReportMetric(float64(pages), "pages")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/packet")
}

// BenchmarkQueue times one view of the queue's first page (25 open
// requests in due-date order, with the total) against reading the whole
// queue with List, at 1,000 and 10,000 requests.
func BenchmarkQueue(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		e := newEnv(b)
		e.loadRequests(n)
		b.Run(fmt.Sprintf("n=%d/page", n), func(b *testing.B) {
			defer cpuPerOp(b)()
			for b.Loop() {
				p, err := e.svc.Page(specialist(), roi.PageQuery{Filter: roi.Filter{Open: true}})
				if err != nil || len(p.Requests) != roi.DefaultPageSize {
					b.Fatal(err, len(p.Requests))
				}
			}
		})
		b.Run(fmt.Sprintf("n=%d/page+total", n), func(b *testing.B) {
			defer cpuPerOp(b)()
			for b.Loop() {
				if _, err := e.svc.Page(specialist(), roi.PageQuery{Filter: roi.Filter{Open: true}, Total: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("n=%d/counts", n), func(b *testing.B) {
			defer cpuPerOp(b)()
			for b.Loop() {
				if _, err := e.svc.Counts(specialist(), 7); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("n=%d/list", n), func(b *testing.B) {
			defer cpuPerOp(b)()
			for b.Loop() {
				if _, err := e.svc.List(specialist(), roi.Filter{Open: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// cpuPerOp reports the process CPU time per operation (user and system),
// which the machine's other load does not inflate as it does wall time.
func cpuPerOp(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() {
		b.ReportMetric(float64((cpu()-start).Milliseconds())/float64(b.N), "cpu-ms/op")
	}
}
