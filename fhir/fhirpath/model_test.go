package fhirpath_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"sync"
	"testing"

	"github.com/custodian-him/custodian/fhir/fhirpath"
)

// testModel is a fhirpath.Model read from testdata/r4-model.json.gz, which
// internal/modelgen extracts from the R4 StructureDefinitions.
type testModel map[string]*modelType

type modelType struct {
	Kind     string                           `json:"kind"`
	Base     string                           `json:"base"`
	Elements map[string]*fhirpath.ElementInfo `json:"elements"`
}

func (m testModel) Element(parent, name string) (fhirpath.ElementInfo, bool) {
	t, ok := m[parent]
	if !ok {
		return fhirpath.ElementInfo{}, false
	}
	e, ok := t.Elements[name]
	if !ok {
		return fhirpath.ElementInfo{}, false
	}
	return *e, true
}

func (m testModel) BaseType(typ string) string {
	if t, ok := m[typ]; ok {
		return t.Base
	}
	return ""
}

func (m testModel) Kind(typ string) fhirpath.TypeKind {
	t, ok := m[typ]
	if !ok {
		return fhirpath.KindUnknown
	}
	switch t.Kind {
	case "primitive":
		return fhirpath.KindPrimitive
	case "complex":
		return fhirpath.KindComplex
	case "resource":
		return fhirpath.KindResource
	case "backbone":
		return fhirpath.KindBackbone
	}
	return fhirpath.KindUnknown
}

var (
	r4ModelOnce sync.Once
	r4Model     testModel
	r4ModelErr  error
)

// loadModel returns the R4 test model, read once per test binary.
func loadModel(tb testing.TB) testModel {
	tb.Helper()
	r4ModelOnce.Do(func() {
		f, err := os.Open("testdata/r4-model.json.gz")
		if err != nil {
			r4ModelErr = err
			return
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			r4ModelErr = err
			return
		}
		r4ModelErr = json.NewDecoder(zr).Decode(&r4Model)
	})
	if r4ModelErr != nil {
		tb.Fatalf("load model: %v", r4ModelErr)
	}
	return r4Model
}

// loadJSON decodes a JSON file as the engine expects (UseNumber).
func loadJSON(tb testing.TB, path string) any {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return v
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
