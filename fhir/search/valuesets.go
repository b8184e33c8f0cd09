package search

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"io"
	"sync"
)

// valuesets.json.gz holds the codes of the 548 value sets the R4
// specification publishes expanded (internal/genvaluesets makes it from
// expansions.json.gz; see definitions/PROVENANCE.md).
//
//go:embed definitions/valuesets.json.gz
var valueSetsGz []byte

var valueSets = sync.OnceValue(func() map[string][][2]string {
	zr, err := gzip.NewReader(bytes.NewReader(valueSetsGz))
	if err != nil {
		panic("search: embedded value sets are corrupt: " + err.Error())
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		panic("search: embedded value sets are corrupt: " + err.Error())
	}
	m := map[string][][2]string{}
	if err := json.Unmarshal(raw, &m); err != nil {
		panic("search: embedded value sets are corrupt: " + err.Error())
	}
	return m
})

// ValueSet returns the (system, code) pairs of an R4 value set, by its
// canonical URL (a "|version" suffix is ignored), when the specification
// publishes it expanded.
func (r *Registry) ValueSet(url string) ([][2]string, bool) {
	if i := bytes.IndexByte([]byte(url), '|'); i >= 0 {
		url = url[:i]
	}
	codes, ok := valueSets()[url]
	return codes, ok
}

// valueSetSystem returns the one code system of a value set, "" if it has
// several or is not known.
func valueSetSystem(url string) string {
	codes := valueSets()[url]
	sys := ""
	for _, c := range codes {
		if sys != "" && c[0] != sys {
			return ""
		}
		sys = c[0]
	}
	return sys
}

// summary.json.gz lists the top-level elements of each resource type that
// are in its summary (isSummary, or mandatory), from the R4
// StructureDefinitions (internal/genvaluesets).
//
//go:embed definitions/summary.json.gz
var summaryGz []byte

var summaryElements = sync.OnceValue(func() map[string][]string {
	zr, err := gzip.NewReader(bytes.NewReader(summaryGz))
	if err != nil {
		panic("search: embedded summary elements are corrupt: " + err.Error())
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		panic("search: embedded summary elements are corrupt: " + err.Error())
	}
	m := map[string][]string{}
	if err := json.Unmarshal(raw, &m); err != nil {
		panic("search: embedded summary elements are corrupt: " + err.Error())
	}
	return m
})

// SummaryElements returns the top-level elements of resource type typ that
// _summary=true keeps (choice elements by name without [x], e.g. "value").
func SummaryElements(typ string) []string { return summaryElements()[typ] }
