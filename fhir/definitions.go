package fhir

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
)

//go:embed definitions/r4.json.gz
var r4Definitions []byte

// R4 returns the FHIR R4 (4.0.1) definitions embedded in the binary. They are
// decoded on the first call (a few tens of milliseconds) and shared, read-only,
// by every later caller. The embedded file is generated, so a failure to load
// it is a build defect and R4 panics.
func R4() *Definitions { return loadR4() }

var loadR4 = sync.OnceValue(func() *Definitions {
	d, err := Load(r4Definitions)
	if err != nil {
		panic(fmt.Sprintf("fhir: embedded R4 definitions: %v", err))
	}
	return d
})

// Definitions is an immutable, precompiled FHIR structure model: every
// resource and datatype with its elements, and the codes of the required
// value sets. It is safe for concurrent use.
type Definitions struct {
	version       string
	types         map[string]*typeInfo
	nodes         map[TypeRef]*node
	elements      map[string]*Element // by path
	resourceTypes []string            // concrete, sorted
	valueSets     map[string]*valueSet
	elementNode   *node // "Element": the shape of a primitive's extension object
}

// TypeInfo describes one FHIR type.
type TypeInfo struct {
	Name     string
	Kind     Kind
	Abstract bool
	// Base is the type this one specializes ("DomainResource" for Patient,
	// "Quantity" for Age); empty for Element and Resource.
	Base string
	// Constraints are the invariants the type itself declares; inherited
	// ones belong to the base type.
	Constraints []Constraint
}

// Kind is the kind of a FHIR type.
type Kind string

// The kinds of FHIR type.
const (
	KindPrimitive Kind = "primitive-type"
	KindComplex   Kind = "complex-type"
	KindResource  Kind = "resource"
)

// Constraint is a FHIRPath invariant from the specification.
type Constraint struct {
	Key        string // e.g. "pat-1"
	Severity   string // error or warning
	Human      string
	Expression string // FHIRPath
}

type typeInfo struct {
	TypeInfo
	prim primKind
}

// fileFormat is the layout written by internal/gendefs.
type fileFormat struct {
	FHIRVersion string `json:"fhirVersion"`
	Types       []struct {
		Name        string       `json:"name"`
		Kind        Kind         `json:"kind"`
		Abstract    bool         `json:"abstract"`
		Base        string       `json:"base"`
		Constraints []Constraint `json:"constraints"`
		Elements    []struct {
			Path        string       `json:"path"`
			Min         int          `json:"min"`
			Max         int          `json:"max"`
			Types       []string     `json:"types"`
			Targets     []string     `json:"targets"`
			ContentRef  string       `json:"contentRef"`
			Binding     string       `json:"binding"`
			Constraints []Constraint `json:"constraints"`
		} `json:"elements"`
	} `json:"types"`
	ValueSets []struct {
		URL     string `json:"url"`
		Systems []struct {
			System string   `json:"system"`
			Codes  []string `json:"codes"`
		} `json:"systems"`
	} `json:"valueSets"`
}

// Load decodes definitions in the format of the embedded file
// (definitions/r4.json.gz, gzip-compressed JSON) and precompiles them.
// Most callers want R4 instead.
func Load(gz []byte) (*Definitions, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("fhir: load definitions: %w", err)
	}
	var f fileFormat
	if err := json.NewDecoder(zr).Decode(&f); err != nil {
		return nil, fmt.Errorf("fhir: load definitions: %w", err)
	}
	d := &Definitions{
		version:   f.FHIRVersion,
		types:     make(map[string]*typeInfo, len(f.Types)),
		nodes:     make(map[TypeRef]*node, 1024),
		valueSets: make(map[string]*valueSet, len(f.ValueSets)),
	}
	for _, vs := range f.ValueSets {
		v := &valueSet{url: vs.URL, codes: map[string]bool{}, bySystem: map[string]map[string]bool{}}
		for _, s := range vs.Systems {
			set := make(map[string]bool, len(s.Codes))
			for _, c := range s.Codes {
				set[c] = true
				v.codes[c] = true
			}
			v.bySystem[s.System] = set
		}
		d.valueSets[vs.URL] = v
	}
	b := newBuilder(d)
	for _, t := range f.Types {
		ti := &typeInfo{TypeInfo: TypeInfo{Name: t.Name, Kind: t.Kind, Abstract: t.Abstract, Base: t.Base, Constraints: t.Constraints}}
		if t.Kind == KindPrimitive {
			ti.prim = primitiveKinds[t.Name]
			if ti.prim == primNone {
				return nil, fmt.Errorf("fhir: load definitions: no format check for primitive type %q", t.Name)
			}
		}
		d.types[t.Name] = ti
		if t.Kind == KindResource && !t.Abstract {
			d.resourceTypes = append(d.resourceTypes, t.Name)
		}
		for _, e := range t.Elements {
			b.add(&Element{
				Path: e.Path, Min: e.Min, Max: e.Max, Types: e.Types, Targets: e.Targets,
				ContentRef: e.ContentRef, Binding: e.Binding, Constraints: e.Constraints,
			})
		}
		if t.Kind != KindPrimitive {
			b.node(TypeRef(t.Name)).typeName = t.Name
		}
	}
	if err := b.finish(); err != nil {
		return nil, fmt.Errorf("fhir: load definitions: %w", err)
	}
	slices.Sort(d.resourceTypes)
	d.elementNode = d.nodes["Element"]
	if d.elementNode == nil {
		return nil, fmt.Errorf("fhir: load definitions: no Element type")
	}
	return d, nil
}

// Version is the FHIR version of the definitions, e.g. "4.0.1".
func (d *Definitions) Version() string { return d.version }

// IsResourceType reports whether name is a concrete resource type such as
// "Patient" (abstract Resource and DomainResource are not).
func (d *Definitions) IsResourceType(name string) bool {
	t, ok := d.types[name]
	return ok && t.Kind == KindResource && !t.Abstract
}

// ResourceTypes returns the names of all concrete resource types, sorted.
// The slice is a copy.
func (d *Definitions) ResourceTypes() []string { return slices.Clone(d.resourceTypes) }

// IsPrimitive reports whether name is a FHIR primitive type such as "date"
// or "positiveInt".
func (d *Definitions) IsPrimitive(name string) bool {
	t, ok := d.types[name]
	return ok && t.Kind == KindPrimitive
}

// Type describes the FHIR type name (a resource, complex or primitive type).
// The Constraints slice is shared and must not be modified.
func (d *Definitions) Type(name string) (TypeInfo, bool) {
	t, ok := d.types[name]
	if !ok {
		return TypeInfo{}, false
	}
	return t.TypeInfo, true
}

// IsSubtype reports whether type sub is base or specializes it, directly or
// through intermediate types: Patient is a DomainResource and a Resource,
// Age is a Quantity, code is a string. It serves FHIRPath's is, as and ofType.
func (d *Definitions) IsSubtype(sub, base string) bool {
	for t, ok := d.types[sub]; ok; t, ok = d.types[t.Base] {
		if t.Name == base {
			return true
		}
	}
	return false
}

// choiceSuffix returns the JSON suffix for a type in a choice element:
// "Quantity" for Quantity, "DateTime" for dateTime.
func choiceSuffix(typeCode string) string {
	if typeCode == "" {
		return ""
	}
	return strings.ToUpper(typeCode[:1]) + typeCode[1:]
}
