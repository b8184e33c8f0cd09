package search_test

import (
	"bufio"
	"compress/gzip"
	"errors"
	"os"
	"sync"
	"testing"

	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/internal/fhirexamples"
	"github.com/custodian-him/custodian/store"
)

var (
	regOnce sync.Once
	reg     *search.Registry
	regErr  error
)

func registry(tb testing.TB) *search.Registry {
	tb.Helper()
	regOnce.Do(func() { reg, regErr = search.NewR4(fhir.R4()) })
	if regErr != nil {
		tb.Fatal(regErr)
	}
	return reg
}

// synthea returns the 157 resources of fhir/testdata/synthea-sample.ndjson.gz.
func synthea(tb testing.TB) []map[string]any {
	tb.Helper()
	f, err := os.Open("../testdata/synthea-sample.ndjson.gz")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	var out []map[string]any
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		r, err := store.Decode(sc.Bytes())
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// BenchmarkIndex reports the cost of indexing one resource, averaged over
// the mix of types of the Synthea sample (fhir/testdata) and of the full
// Synthea bundles (first 5,000 resources), with the compiled plans and with
// the FHIRPath engine alone.
func BenchmarkIndex(b *testing.B) {
	r := registry(b)
	sets := []struct {
		name string
		res  []map[string]any
	}{{"sample", synthea(b)}, {"bundles", syntheaBundles(b, 5000)}}
	for _, set := range sets {
		for _, eng := range []struct {
			name string
			r    *search.Registry
		}{{"plans", r}, {"engine", r.EngineOnly()}} {
			b.Run(set.name+"/"+eng.name, func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					x := set.res[i%len(set.res)]
					if _, err := eng.r.Index(x["resourceType"].(string), x); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// syntheaBundles returns up to max resources of the carried Synthea bundles.
func syntheaBundles(tb testing.TB, max int) []map[string]any {
	tb.Helper()
	var out []map[string]any
	errEnough := errors.New("enough")
	err := fhirexamples.EachSynthea(func(name string, body []byte) error {
		bundle, err := store.Decode(body)
		if err != nil {
			return err
		}
		entries, _ := bundle["entry"].([]any)
		for _, e := range entries {
			if res, ok := e.(map[string]any)["resource"].(map[string]any); ok {
				out = append(out, res)
				if len(out) == max {
					return errEnough
				}
			}
		}
		return nil
	})
	if err != nil && err != errEnough {
		tb.Fatal(err)
	}
	return out
}
