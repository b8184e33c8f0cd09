package fhir_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/custodian-him/custodian/fhir"
)

// syntheaSample reads testdata/synthea-sample.ndjson.gz, both decoded and raw.
func syntheaSample(tb testing.TB) (resources []map[string]any, raw [][]byte) {
	tb.Helper()
	f, err := os.Open(filepath.Join("testdata", "synthea-sample.ndjson.gz"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		line := bytes.Clone(sc.Bytes())
		m, err := decode(line)
		if err != nil {
			tb.Fatal(err)
		}
		resources = append(resources, m)
		raw = append(raw, line)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return resources, raw
}

// TestSyntheaSample checks that Synthea's output, the bulk of what
// Custodian ingests, is valid.
func TestSyntheaSample(t *testing.T) {
	resources, _ := syntheaSample(t)
	defs := fhir.R4()
	for _, r := range resources {
		for _, is := range defs.Validate(r) {
			t.Errorf("%s/%s: %s %s %s: %s", r["resourceType"], r["id"], is.Severity, is.Code, is.Path, is.Message)
		}
	}
}

// BenchmarkValidate validates a mix of Synthea resources; ns/op is per
// resource.
func BenchmarkValidate(b *testing.B) {
	resources, _ := syntheaSample(b)
	defs := fhir.R4()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if issues := defs.Validate(resources[i%len(resources)]); len(issues) != 0 {
			b.Fatal(issues)
		}
	}
}

// BenchmarkDecodeAndValidate adds JSON decoding, the full cost on write.
func BenchmarkDecodeAndValidate(b *testing.B) {
	_, raw := syntheaSample(b)
	defs := fhir.R4()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		dec := json.NewDecoder(bytes.NewReader(raw[i%len(raw)]))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			b.Fatal(err)
		}
		defs.Validate(m)
	}
}

// BenchmarkLoad measures decoding the embedded definitions, the one-time
// cost of the first R4 call.
func BenchmarkLoad(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("definitions", "r4.json.gz"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fhir.Load(data); err != nil {
			b.Fatal(err)
		}
	}
}
