// Command genvaluesets writes fhir/search/definitions/valuesets.json.gz:
// the codes of every pre-expanded R4 ValueSet, for the :in and :not-in
// token modifiers and for the code system of bound code elements.
//
// Usage (from the repository root, with Custodian's shared data beside it):
//
//	go run ./fhir/search/internal/genvaluesets ../shared/data/fhir-r4/expansions.json.gz
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"slices"
)

type contains struct {
	System   string     `json:"system"`
	Code     string     `json:"code"`
	Abstract bool       `json:"abstract"`
	Contains []contains `json:"contains"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: genvaluesets expansions.json.gz")
		os.Exit(2)
	}
	if err := run(os.Args[1], "fhir/search/definitions/valuesets.json.gz"); err != nil {
		fmt.Fprintln(os.Stderr, "genvaluesets:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	var bundle struct {
		Entry []struct {
			Resource struct {
				URL       string `json:"url"`
				Expansion struct {
					Contains []contains `json:"contains"`
				} `json:"expansion"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.NewDecoder(zr).Decode(&bundle); err != nil {
		return err
	}
	// url → [system, code] pairs, sorted, for a stable file.
	sets := map[string][][2]string{}
	var walk func(url string, cs []contains)
	walk = func(url string, cs []contains) {
		for _, c := range cs {
			if c.Code != "" && !c.Abstract {
				sets[url] = append(sets[url], [2]string{c.System, c.Code})
			}
			walk(url, c.Contains)
		}
	}
	for _, e := range bundle.Entry {
		walk(e.Resource.URL, e.Resource.Expansion.Contains)
	}
	for url, codes := range sets {
		slices.SortFunc(codes, func(a, b [2]string) int {
			if a[0] != b[0] {
				return cmp(a[0], b[0])
			}
			return cmp(a[1], b[1])
		})
		sets[url] = slices.Compact(codes)
	}
	raw, err := json.Marshal(sets) // maps marshal with sorted keys
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(raw)
	if err := zw.Close(); err != nil {
		return err
	}
	fmt.Printf("%d value sets, %d bytes\n", len(sets), buf.Len())
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

func cmp(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
