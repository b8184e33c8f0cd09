package roi_test

import (
	"fmt"
	"strings"
	"testing"

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
