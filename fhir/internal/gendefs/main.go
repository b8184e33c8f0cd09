// Command gendefs distils the official FHIR R4 StructureDefinitions and
// terminology bundles into the compact definitions file that package fhir
// embeds (fhir/definitions/r4.json.gz).
//
// It keeps only what validation and type lookup need: for every resource and
// datatype its elements (path, cardinality, type codes, Reference targets,
// contentReference, required binding), and the codes of every
// required-binding value set that can be enumerated from the local files.
//
// Usage (normally through go generate in package fhir):
//
//	go run ./internal/gendefs -src ../../shared/data/fhir-r4 -out definitions/r4.json.gz
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

func main() {
	src := flag.String("src", "../../shared/data/fhir-r4", "directory holding the FHIR R4 definition bundles")
	out := flag.String("out", "definitions/r4.json.gz", "file to write")
	flag.Parse()
	if err := run(*src, *out); err != nil {
		log.Fatalf("gendefs: %v", err)
	}
}

func run(src, out string) error {
	var types []typeDef
	for _, name := range []string{"profiles-types.json.gz", "profiles-resources.json.gz"} {
		b, err := readBundle(filepath.Join(src, name))
		if err != nil {
			return err
		}
		for _, raw := range b {
			var head struct {
				ResourceType string `json:"resourceType"`
			}
			if err := json.Unmarshal(raw, &head); err != nil || head.ResourceType != "StructureDefinition" {
				continue
			}
			var sd structureDefinition
			if err := json.Unmarshal(raw, &sd); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if sd.Derivation == "constraint" || sd.Kind == "logical" {
				continue
			}
			types = append(types, convert(sd))
		}
	}
	sort.Slice(types, func(i, j int) bool { return types[i].Name < types[j].Name })

	term, err := loadTerminology(src)
	if err != nil {
		return err
	}
	var bound []string
	for _, t := range types {
		for _, e := range t.Elements {
			if e.Binding != "" {
				bound = append(bound, e.Binding)
			}
		}
	}
	slices.Sort(bound)
	bound = slices.Compact(bound)
	f := file{FHIRVersion: "4.0.1"}
	var skipped []string
	for _, url := range bound {
		codes, ok := term.enumerate(url, 0)
		if !ok || len(codes) == 0 {
			skipped = append(skipped, url)
			continue
		}
		vs := valueSet{URL: url}
		for _, sys := range sortedKeys(codes) {
			vs.Systems = append(vs.Systems, systemCodes{System: sys, Codes: sortedKeys(codes[sys])})
		}
		f.ValueSets = append(f.ValueSets, vs)
	}
	f.Types = types
	log.Printf("%d types, %d required value sets enumerated, %d not enumerable: %s",
		len(types), len(f.ValueSets), len(skipped), strings.Join(skipped, " "))

	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	enc := json.NewEncoder(zw)
	if err := enc.Encode(f); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

// file is the layout of the generated definitions; package fhir decodes the same shape.
type file struct {
	FHIRVersion string     `json:"fhirVersion"`
	Types       []typeDef  `json:"types"`
	ValueSets   []valueSet `json:"valueSets"`
}

type typeDef struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"` // primitive-type, complex-type, resource
	Abstract bool   `json:"abstract,omitempty"`
	Base     string `json:"base,omitempty"`
	// Constraints are the invariants declared on the type itself (not
	// inherited ones: those stay with the base type).
	Constraints []constraint `json:"constraints,omitempty"`
	Elements    []elementDef `json:"elements,omitempty"`
}

type elementDef struct {
	Path       string   `json:"path"`
	Min        int      `json:"min,omitempty"`
	Max        int      `json:"max"` // -1 for "*"
	Types      []string `json:"types,omitempty"`
	Targets    []string `json:"targets,omitempty"`
	ContentRef string   `json:"contentRef,omitempty"`
	Binding    string   `json:"binding,omitempty"` // required-strength value set, without version
	// Constraints are the invariants this type declares on the element.
	Constraints []constraint `json:"constraints,omitempty"`
}

type constraint struct {
	Key        string `json:"key"`
	Severity   string `json:"severity"`
	Human      string `json:"human"`
	Expression string `json:"expression"`
}

type valueSet struct {
	URL     string        `json:"url"`
	Systems []systemCodes `json:"systems"`
}

type systemCodes struct {
	System string   `json:"system"`
	Codes  []string `json:"codes"`
}

// Source shapes (only the fields used).

type structureDefinition struct {
	Type           string `json:"type"`
	Kind           string `json:"kind"`
	Abstract       bool   `json:"abstract"`
	Derivation     string `json:"derivation"`
	URL            string `json:"url"`
	BaseDefinition string `json:"baseDefinition"`
	Snapshot       struct {
		Element []sdElement `json:"element"`
	} `json:"snapshot"`
}

type sdElement struct {
	Path             string `json:"path"`
	Min              int    `json:"min"`
	Max              string `json:"max"`
	ContentReference string `json:"contentReference"`
	Type             []struct {
		Code          string      `json:"code"`
		TargetProfile []string    `json:"targetProfile"`
		Extension     []extension `json:"extension"`
	} `json:"type"`
	Constraint []struct {
		constraint
		Source string `json:"source"`
	} `json:"constraint"`
	Binding *struct {
		Strength string `json:"strength"`
		ValueSet string `json:"valueSet"`
	} `json:"binding"`
}

type extension struct {
	URL      string `json:"url"`
	ValueURL string `json:"valueUrl"`
}

const fhirTypeExt = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"

func convert(sd structureDefinition) typeDef {
	t := typeDef{
		Name:     sd.Type,
		Kind:     sd.Kind,
		Abstract: sd.Abstract,
		Base:     lastSegment(sd.BaseDefinition),
	}
	own := func(e sdElement) []constraint {
		var out []constraint
		for _, c := range e.Constraint {
			if c.Source == "" || c.Source == sd.URL {
				out = append(out, c.constraint)
			}
		}
		return out
	}
	if len(sd.Snapshot.Element) > 0 {
		t.Constraints = own(sd.Snapshot.Element[0])
	}
	if sd.Kind == "primitive-type" {
		// A primitive's children (id, extension, value) are not JSON
		// properties; its extension object is validated as an Element.
		return t
	}
	isResource := sd.Kind == "resource"
	for _, e := range sd.Snapshot.Element {
		if !strings.Contains(e.Path, ".") {
			continue
		}
		d := elementDef{Path: e.Path, Min: e.Min, Max: parseMax(e.Max), Constraints: own(e)}
		if e.ContentReference != "" {
			d.ContentRef = strings.TrimPrefix(e.ContentReference, "#")
		}
		for _, ty := range e.Type {
			code := ty.Code
			if strings.HasPrefix(code, "http://hl7.org/fhirpath/System.") {
				code = "string"
				for _, x := range ty.Extension {
					if x.URL == fhirTypeExt {
						code = x.ValueURL
					}
				}
			}
			// Resource.id is of type id (the R4 snapshots declare it with the
			// System.String of Element.id); only the resource's own id.
			if isResource && e.Path == sd.Type+".id" {
				code = "id"
			}
			d.Types = append(d.Types, code)
			if code == "Reference" || code == "canonical" {
				for _, p := range ty.TargetProfile {
					d.Targets = append(d.Targets, lastSegment(p))
				}
			}
		}
		slices.Sort(d.Targets)
		d.Targets = slices.Compact(d.Targets)
		if e.Binding != nil && e.Binding.Strength == "required" && e.Binding.ValueSet != "" {
			d.Binding, _, _ = strings.Cut(e.Binding.ValueSet, "|")
		}
		t.Elements = append(t.Elements, d)
	}
	return t
}

func parseMax(s string) int {
	if s == "*" {
		return -1
	}
	n := 0
	fmt.Sscanf(s, "%d", &n)
	return n
}

func lastSegment(url string) string {
	if i := strings.LastIndexByte(url, '/'); i >= 0 {
		return url[i+1:]
	}
	return url
}

func readBundle(path string) ([]json.RawMessage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var b struct {
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.NewDecoder(zr).Decode(&b); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make([]json.RawMessage, len(b.Entry))
	for i, e := range b.Entry {
		out[i] = e.Resource
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
