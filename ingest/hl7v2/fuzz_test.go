package hl7v2_test

import (
	"testing"
	"time"

	"github.com/custodian-him/custodian/ingest/hl7v2"
)

// FuzzParse checks that no input makes Parse, Map, KeepFrom, Get or Ack panic, and
// that what parses keeps its header through an acknowledgement. The seeds
// are the sample messages and a few broken ones; `go test -fuzz FuzzParse`
// explores from them.
func FuzzParse(f *testing.F) {
	for _, n := range samples(f) {
		f.Add(sample(f, n))
	}
	for _, s := range []string{"", "MSH", "MSH|", "MSH|^~\\&", "MSH|^~\\&|||||||ADT^A01|1|P|2.5\rPID|||\\X\\\r",
		"MSH|^~\\&|a|b|c|d|e||MDM^T02|1|P|2.8\rTXA|1||||||||||||||||AU|||||^^^^^^^^^^^^^^x\rOBX|1|ED|||^^^Base64^\r",
		"MSH|^~\\&|a|b|c|d|e||ORU^R01|1|P|2.5\rOBR\rOBX|1|SN|x||<^5^-^|\rOBX|2|NM|y||.5~-.|\r"} {
		f.Add([]byte(s))
	}
	mp := hl7v2.NewMapper(nil)
	now := time.Unix(0, 0)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := hl7v2.Parse(data)
		h, d := hl7v2.HeaderOf(data)
		if err == nil {
			for _, p := range []string{"MSH-9.2", "PID-3(1).4.2", "OBX(3)-5", "TXA-22.15"} {
				m.MustGet(p)
			}
			var r *hl7v2.Result
			if r, err = mp.Map(m); err == nil {
				for u, names := range r.Keep {
					stored := map[string]any{}
					for _, n := range names {
						stored[n] = []any{"x"}
					}
					r.KeepFrom(u, stored)
				}
			}
			if m.Header().ControlID != h.ControlID {
				t.Fatalf("HeaderOf control id %q, Parse %q", h.ControlID, m.Header().ControlID)
			}
		}
		ack := hl7v2.Ack(h, d, hl7v2.CodeFor(err), err, now, "A1")
		if _, perr := hl7v2.Parse(ack); perr != nil && h.ControlID != "" && hl7v2.SupportedVersion(h.Version) {
			t.Fatalf("the ACK of a parsed message does not parse: %v\n%q", perr, ack)
		}
	})
}
