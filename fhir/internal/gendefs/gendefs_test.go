package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEnumerate(t *testing.T) {
	t.Parallel()
	tree := []concept{{Code: "a", Concept: []concept{{Code: "a1"}, {Code: "a2", Concept: []concept{{Code: "a2x"}}}}}, {Code: "b"}}
	term := &terminology{
		codeSystems: map[string]codeSystem{
			"http://cs":       {URL: "http://cs", Content: "complete", Concept: tree},
			"http://fragment": {URL: "http://fragment", Content: "fragment", Concept: tree},
		},
		valueSets: map[string]valueSetRes{},
		expansions: map[string]valueSetRes{
			"http://vs/expanded": expansion(false, contains{System: "http://x", Code: "e1", Contains: []contains{{System: "http://x", Code: "e2"}}}),
			"http://vs/limited":  expansion(true, contains{System: "http://x", Code: "e1"}),
		},
	}
	add := func(url string, inc, exc []include) {
		vs := valueSetRes{URL: url}
		vs.Compose = &struct {
			Include []include `json:"include"`
			Exclude []include `json:"exclude"`
		}{inc, exc}
		term.valueSets[url] = vs
	}
	concepts := func(codes ...string) (out []struct {
		Code string `json:"code"`
	}) {
		for _, c := range codes {
			out = append(out, struct {
				Code string `json:"code"`
			}{c})
		}
		return out
	}
	add("http://vs/list", []include{{System: "http://other", Concept: concepts("x", "y")}}, nil)
	add("http://vs/all", []include{{System: "http://cs"}}, nil)
	add("http://vs/isa", []include{{System: "http://cs", Filter: []filter{{Property: "concept", Op: "is-a", Value: "a2"}}}}, nil)
	add("http://vs/desc", []include{{System: "http://cs", Filter: []filter{{Property: "concept", Op: "descendent-of", Value: "a"}}}}, nil)
	add("http://vs/nested", []include{{ValueSet: []string{"http://vs/list|4.0.1"}}, {System: "http://cs", Concept: concepts("b")}}, []include{{System: "http://other", Concept: concepts("y")}})
	add("http://vs/fragment", []include{{System: "http://fragment"}}, nil)
	add("http://vs/unknown", []include{{System: "http://unknown"}}, nil)
	add("http://vs/regex", []include{{System: "http://cs", Filter: []filter{{Property: "code", Op: "regex", Value: "a.*"}}}}, nil)

	tests := []struct {
		url  string
		want map[string][]string // nil: not enumerable
	}{
		{"http://vs/list", map[string][]string{"http://other": {"x", "y"}}},
		{"http://vs/all", map[string][]string{"http://cs": {"a", "a1", "a2", "a2x", "b"}}},
		{"http://vs/isa", map[string][]string{"http://cs": {"a2", "a2x"}}},
		{"http://vs/desc", map[string][]string{"http://cs": {"a1", "a2", "a2x"}}},
		{"http://vs/nested", map[string][]string{"http://other": {"x"}, "http://cs": {"b"}}},
		{"http://vs/expanded", map[string][]string{"http://x": {"e1", "e2"}}},
		{"http://vs/limited", nil},
		{"http://vs/fragment", nil},
		{"http://vs/unknown", nil},
		{"http://vs/regex", nil},
		{"http://vs/missing", nil},
	}
	for _, tt := range tests {
		codes, ok := term.enumerate(tt.url, 0)
		var got map[string][]string
		if ok {
			got = map[string][]string{}
			for sys, cs := range codes {
				if len(cs) > 0 {
					got[sys] = sortedKeys(cs)
				}
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("enumerate(%s) (-want +got):\n%s", tt.url, diff)
		}
	}
}

func expansion(limited bool, cs ...contains) valueSetRes {
	var vs valueSetRes
	vs.Expansion = &struct {
		Parameter []struct {
			Name string `json:"name"`
		} `json:"parameter"`
		Contains []contains `json:"contains"`
	}{Contains: cs}
	if limited {
		vs.Expansion.Parameter = append(vs.Expansion.Parameter, struct {
			Name string `json:"name"`
		}{"limitedExpansion"})
	}
	return vs
}

// TestGeneratedFileIsCurrent regenerates the definitions from the shared
// FHIR data and compares them with the committed file, so that a change to
// the generator cannot be committed without its output. Like the examples
// generator it needs the source bundles, which are not in the repository:
// Custodian's shared data beside the clone (as in CI) or
// CUSTODIAN_FHIR_DEFINITIONS pointing at shared/data/fhir-r4. A clone
// without them skips this check only; the embedded file is what ships.
func TestGeneratedFileIsCurrent(t *testing.T) {
	src := os.Getenv("CUSTODIAN_FHIR_DEFINITIONS")
	if src == "" {
		src = filepath.Join("..", "..", "..", "..", "shared", "data", "fhir-r4")
	}
	if _, err := os.Stat(filepath.Join(src, "profiles-resources.json.gz")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must check the generated definitions, but the R4 source bundles are missing: %v", err)
		}
		t.Skipf("the R4 source bundles are not here (set CUSTODIAN_FHIR_DEFINITIONS): %v", err)
	}
	out := filepath.Join(t.TempDir(), "r4.json.gz")
	if err := run(src, out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "definitions", "r4.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("fhir/definitions/r4.json.gz is stale: run go generate in fhir/")
	}
}
