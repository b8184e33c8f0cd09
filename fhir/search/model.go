package search

import (
	"strings"
	"sync"

	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/fhirpath"
)

// model lets the FHIRPath engine see the R4 structure definitions.
type model struct {
	defs  *fhir.Definitions
	cache sync.Map // parent + "\x00" + name → elementResult
}

type elementResult struct {
	info fhirpath.ElementInfo
	ok   bool
}

func newModel(defs *fhir.Definitions) *model { return &model{defs: defs} }

// Element implements fhirpath.Model.
func (m *model) Element(parent, name string) (fhirpath.ElementInfo, bool) {
	key := parent + "\x00" + name
	if v, ok := m.cache.Load(key); ok {
		r := v.(elementResult)
		return r.info, r.ok
	}
	r := m.lookup(parent, name)
	m.cache.Store(key, r)
	return r.info, r.ok
}

func (m *model) lookup(parent, name string) elementResult {
	for _, e := range m.defs.Elements(fhir.TypeRef(parent)) {
		en := e.Name()
		choice := strings.HasSuffix(en, "[x]")
		if strings.TrimSuffix(en, "[x]") != name {
			continue
		}
		types := e.Types
		if len(types) == 1 && (types[0] == "BackboneElement" || types[0] == "Element") && !choice {
			// An inline element is named by its path; a contentReference by
			// the path it reuses.
			path := e.Path
			if e.ContentRef != "" {
				path = e.ContentRef
			}
			if c, ok := m.defs.Child(fhir.TypeRef(parent), name); ok && c.Ref != "" {
				path = string(c.Ref)
			}
			types = []string{path}
		} else if e.ContentRef != "" {
			types = []string{e.ContentRef}
		}
		return elementResult{info: fhirpath.ElementInfo{Types: types, Choice: choice}, ok: true}
	}
	return elementResult{}
}

// BaseType implements fhirpath.Model.
func (m *model) BaseType(typ string) string {
	if strings.Contains(typ, ".") {
		return "BackboneElement"
	}
	if t, ok := m.defs.Type(typ); ok {
		return t.Base
	}
	return ""
}

// Kind implements fhirpath.Model.
func (m *model) Kind(typ string) fhirpath.TypeKind {
	if strings.Contains(typ, ".") {
		return fhirpath.KindBackbone
	}
	t, ok := m.defs.Type(typ)
	if !ok {
		return fhirpath.KindUnknown
	}
	switch t.Kind {
	case fhir.KindPrimitive:
		return fhirpath.KindPrimitive
	case fhir.KindResource:
		return fhirpath.KindResource
	default:
		return fhirpath.KindComplex
	}
}
