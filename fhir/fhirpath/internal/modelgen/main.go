// Command modelgen extracts the reduced FHIR R4 type model that the fhirpath tests use
// (element path → types, type hierarchy, kinds) from the R4 StructureDefinition bundles.
//
// With -searchparams and -searchout it also extracts (code, base, type, expression) of
// every SearchParameter for the tests.
//
// Usage (from the repository root):
//
//	go run ./fhir/fhirpath/internal/modelgen \
//	    -types /work/shared/data/fhir-r4/profiles-types.json.gz \
//	    -resources /work/shared/data/fhir-r4/profiles-resources.json.gz \
//	    -out fhir/fhirpath/testdata/r4-model.json.gz
//
// The output is a gzip-compressed JSON object, see fhirpath's testdata/PROVENANCE.md.
package main

import (
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
)

// Type is one type (or backbone element path) of the reduced model.
type Type struct {
	Kind     string              `json:"kind"` // primitive, complex, resource, backbone
	Base     string              `json:"base,omitempty"`
	Abstract bool                `json:"abstract,omitempty"`
	Elements map[string]*Element `json:"elements,omitempty"`
	Order    []string            `json:"order,omitempty"`
}

// Element is one child element of a type.
type Element struct {
	Types  []string `json:"types"`
	Choice bool     `json:"choice,omitempty"`
	Many   bool     `json:"many,omitempty"`
}

type bundle struct {
	Entry []struct {
		Resource json.RawMessage `json:"resource"`
	} `json:"entry"`
}

type structureDefinition struct {
	ResourceType   string `json:"resourceType"`
	Name           string `json:"name"`
	Type           string `json:"type"`
	Kind           string `json:"kind"`
	Abstract       bool   `json:"abstract"`
	Derivation     string `json:"derivation"`
	BaseDefinition string `json:"baseDefinition"`
	Snapshot       struct {
		Element []struct {
			Path             string `json:"path"`
			Max              string `json:"max"`
			ContentReference string `json:"contentReference"`
			Type             []struct {
				Code      string `json:"code"`
				Extension []struct {
					URL      string `json:"url"`
					ValueURL string `json:"valueUrl"`
				} `json:"extension"`
			} `json:"type"`
		} `json:"element"`
	} `json:"snapshot"`
}

func main() {
	typesPath := flag.String("types", "", "profiles-types.json.gz")
	resPath := flag.String("resources", "", "profiles-resources.json.gz")
	out := flag.String("out", "", "output .json.gz")
	spIn := flag.String("searchparams", "", "search-parameters.json.gz (optional)")
	spOut := flag.String("searchout", "", "output .json.gz for the SearchParameter expressions")
	flag.Parse()
	if *spIn != "" {
		if err := extractSearchParams(*spIn, *spOut); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	model := map[string]*Type{}
	for _, p := range []string{*typesPath, *resPath} {
		if err := load(p, model); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	zw := gzip.NewWriter(f)
	enc := json.NewEncoder(zw)
	if err := enc.Encode(model); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := zw.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func load(path string, model map[string]*Type) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	var b bundle
	if err := json.NewDecoder(zr).Decode(&b); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, e := range b.Entry {
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		if err := json.Unmarshal(e.Resource, &head); err != nil || head.ResourceType != "StructureDefinition" {
			continue
		}
		var sd structureDefinition
		if err := json.Unmarshal(e.Resource, &sd); err != nil {
			return err
		}
		if sd.ResourceType != "StructureDefinition" || sd.Derivation == "constraint" {
			continue
		}
		kind := map[string]string{"primitive-type": "primitive", "complex-type": "complex", "resource": "resource"}[sd.Kind]
		if kind == "" {
			continue
		}
		base := sd.BaseDefinition[strings.LastIndex(sd.BaseDefinition, "/")+1:]
		model[sd.Type] = &Type{Kind: kind, Base: base, Abstract: sd.Abstract}
		if kind == "primitive" {
			continue // primitives are handled natively by the engine
		}
		for _, el := range sd.Snapshot.Element {
			i := strings.LastIndex(el.Path, ".")
			if i < 0 {
				continue
			}
			parent, name := el.Path[:i], el.Path[i+1:]
			pt := model[parent]
			if pt == nil {
				// A backbone element declared earlier in the snapshot.
				continue
			}
			elem := &Element{Many: el.Max == "*"}
			if strings.HasSuffix(name, "[x]") {
				name = strings.TrimSuffix(name, "[x]")
				elem.Choice = true
			}
			switch {
			case el.ContentReference != "":
				elem.Types = []string{strings.TrimPrefix(el.ContentReference, "#")}
			default:
				for _, t := range el.Type {
					code := t.Code
					if strings.HasPrefix(code, "http://hl7.org/fhirpath/") {
						code = strings.TrimPrefix(code, "http://hl7.org/fhirpath/")
						// The FHIR type of id and url elements is carried in an extension.
						for _, x := range t.Extension {
							if strings.HasSuffix(x.URL, "structuredefinition-fhir-type") {
								code = x.ValueURL
							}
						}
					}
					if code == "BackboneElement" || code == "Element" {
						// An element defined inline (Patient.contact, Timing.repeat) is
						// its own type, named by its path.
						model[el.Path] = &Type{Kind: "backbone", Base: code}
						code = el.Path
					}
					elem.Types = append(elem.Types, code)
				}
			}
			if pt.Elements == nil {
				pt.Elements = map[string]*Element{}
			}
			pt.Elements[name] = elem
			pt.Order = append(pt.Order, name)
		}
	}
	return nil
}

// SearchParam is the part of a SearchParameter the fhirpath tests use.
type SearchParam struct {
	Code       string   `json:"code"`
	Base       []string `json:"base"`
	Type       string   `json:"type"`
	Expression string   `json:"expression,omitempty"`
}

func extractSearchParams(in, out string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	var b struct {
		Entry []struct {
			Resource SearchParam `json:"resource"`
		} `json:"entry"`
	}
	if err := json.NewDecoder(zr).Decode(&b); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	params := make([]SearchParam, 0, len(b.Entry))
	for _, e := range b.Entry {
		params = append(params, e.Resource)
	}
	w, err := os.Create(out)
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(w)
	enc := json.NewEncoder(zw)
	enc.SetIndent("", " ")
	if err := enc.Encode(params); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return w.Close()
}
