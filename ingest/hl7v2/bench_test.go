package hl7v2_test

import (
	"testing"

	"github.com/custodian-him/custodian/ingest/hl7v2"
)

// BenchmarkParseMap parses and maps ADT-A01-01 (24 segments, 17 entries).
//
//	go test -run XXX -bench ParseMap ./ingest/hl7v2
func BenchmarkParseMap(b *testing.B) {
	raw := sample(b, "ADT-A01-01.hl7")
	mp := hl7v2.NewMapper(nil)
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		m, err := hl7v2.Parse(raw)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := mp.Map(m); err != nil {
			b.Fatal(err)
		}
	}
}
