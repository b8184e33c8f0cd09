// Command genvaluesets writes fhir/search/definitions/valuesets.json.gz:
// the codes of every pre-expanded R4 ValueSet, for the :in and :not-in
// token modifiers and for the code system of bound code elements; and
// fhir/search/definitions/summary.json.gz: the top-level elements of each
// resource type marked isSummary, for _summary=true.
//
// Usage (from the repository root, with Custodian's shared data beside it):
//
//	go run ./fhir/search/internal/genvaluesets ../shared/data/fhir-r4/expansions.json.gz ../shared/data/fhir-r4/profiles-resources.json.gz
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

type contains struct {
	System   string     `json:"system"`
	Code     string     `json:"code"`
	Abstract bool       `json:"abstract"`
	Contains []contains `json:"contains"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: genvaluesets expansions.json.gz profiles-resources.json.gz")
		os.Exit(2)
	}
	if err := run(os.Args[1], "fhir/search/definitions/valuesets.json.gz"); err != nil {
		fmt.Fprintln(os.Stderr, "genvaluesets:", err)
		os.Exit(1)
	}
	if err := summary(os.Args[2], "fhir/search/definitions/summary.json.gz"); err != nil {
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

// summary writes the isSummary top-level elements of each resource type
// (choice elements by their name without [x]).
func summary(in, out string) error {
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
				ResourceType string `json:"resourceType"`
				Kind         string `json:"kind"`
				Type         any    `json:"type"` // a bool in OperationDefinition
				Derivation   string `json:"derivation"`
				Snapshot     struct {
					Element []struct {
						Path      string `json:"path"`
						IsSummary bool   `json:"isSummary"`
						Min       int    `json:"min"`
					} `json:"element"`
				} `json:"snapshot"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.NewDecoder(zr).Decode(&bundle); err != nil {
		return err
	}
	sets := map[string][]string{}
	for _, e := range bundle.Entry {
		r := e.Resource
		typ, _ := r.Type.(string)
		if r.ResourceType != "StructureDefinition" || r.Kind != "resource" || r.Derivation == "constraint" || typ == "" {
			continue
		}
		for _, el := range r.Snapshot.Element {
			rest, ok := strings.CutPrefix(el.Path, typ+".")
			if !ok || strings.Contains(rest, ".") || !(el.IsSummary || el.Min > 0) {
				continue
			}
			sets[typ] = append(sets[typ], strings.TrimSuffix(rest, "[x]"))
		}
	}
	raw, err := json.Marshal(sets)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(raw)
	if err := zw.Close(); err != nil {
		return err
	}
	fmt.Printf("summary elements of %d resource types, %d bytes\n", len(sets), buf.Len())
	return os.WriteFile(out, buf.Bytes(), 0o644)
}
