package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
)

// codeSet maps a code system URL to its set of codes.
type codeSet map[string]map[string]bool

func (c codeSet) add(system, code string) {
	if c[system] == nil {
		c[system] = map[string]bool{}
	}
	c[system][code] = true
}

func (c codeSet) addAll(o codeSet) {
	for sys, codes := range o {
		for code := range codes {
			c.add(sys, code)
		}
	}
}

type concept struct {
	Code    string    `json:"code"`
	Concept []concept `json:"concept"`
}

type codeSystem struct {
	URL     string    `json:"url"`
	Content string    `json:"content"`
	Concept []concept `json:"concept"`
}

type filter struct {
	Property string `json:"property"`
	Op       string `json:"op"`
	Value    string `json:"value"`
}

type include struct {
	System   string   `json:"system"`
	ValueSet []string `json:"valueSet"`
	Concept  []struct {
		Code string `json:"code"`
	} `json:"concept"`
	Filter []filter `json:"filter"`
}

type contains struct {
	System   string     `json:"system"`
	Code     string     `json:"code"`
	Abstract bool       `json:"abstract"`
	Contains []contains `json:"contains"`
}

type valueSetRes struct {
	URL     string `json:"url"`
	Compose *struct {
		Include []include `json:"include"`
		Exclude []include `json:"exclude"`
	} `json:"compose"`
	Expansion *struct {
		Parameter []struct {
			Name string `json:"name"`
		} `json:"parameter"`
		Contains []contains `json:"contains"`
	} `json:"expansion"`
}

// terminology is the local terminology: every CodeSystem and ValueSet found
// in the definition bundles, and the pre-computed expansions.
type terminology struct {
	codeSystems map[string]codeSystem
	valueSets   map[string]valueSetRes
	expansions  map[string]valueSetRes
}

func loadTerminology(src string) (*terminology, error) {
	t := &terminology{
		codeSystems: map[string]codeSystem{},
		valueSets:   map[string]valueSetRes{},
		expansions:  map[string]valueSetRes{},
	}
	for _, name := range []string{"valuesets.json.gz", "v3-codesystems.json.gz", "v2-tables.json.gz", "expansions.json.gz"} {
		b, err := readBundle(filepath.Join(src, name))
		if err != nil {
			return nil, err
		}
		for _, raw := range b {
			var head struct {
				ResourceType string `json:"resourceType"`
			}
			if err := json.Unmarshal(raw, &head); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			switch head.ResourceType {
			case "CodeSystem":
				var cs codeSystem
				if err := json.Unmarshal(raw, &cs); err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
				t.codeSystems[cs.URL] = cs
			case "ValueSet":
				var vs valueSetRes
				if err := json.Unmarshal(raw, &vs); err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
				if name == "expansions.json.gz" {
					t.expansions[vs.URL] = vs
				} else {
					t.valueSets[vs.URL] = vs
				}
			}
		}
	}
	return t, nil
}

// enumerate lists the codes of the value set url, preferring its compose
// (resolved against local code systems) and falling back to the published
// expansion. It reports false when neither gives a complete list.
func (t *terminology) enumerate(url string, depth int) (codeSet, bool) {
	url, _, _ = strings.Cut(url, "|")
	if depth > 10 {
		return nil, false
	}
	if vs, ok := t.valueSets[url]; ok && vs.Compose != nil {
		if codes, ok := t.compose(vs, depth); ok {
			return codes, true
		}
	}
	if vs, ok := t.expansions[url]; ok && vs.Expansion != nil {
		for _, p := range vs.Expansion.Parameter {
			if p.Name == "limitedExpansion" {
				return nil, false
			}
		}
		out := codeSet{}
		var walk func([]contains)
		walk = func(cs []contains) {
			for _, c := range cs {
				if c.Code != "" && c.System != "" {
					out.add(c.System, c.Code)
				}
				walk(c.Contains)
			}
		}
		walk(vs.Expansion.Contains)
		return out, len(out) > 0
	}
	return nil, false
}

func (t *terminology) compose(vs valueSetRes, depth int) (codeSet, bool) {
	out := codeSet{}
	for _, inc := range vs.Compose.Include {
		codes, ok := t.include(inc, depth)
		if !ok {
			return nil, false
		}
		out.addAll(codes)
	}
	for _, exc := range vs.Compose.Exclude {
		codes, ok := t.include(exc, depth)
		if !ok {
			return nil, false
		}
		for sys, cs := range codes {
			for c := range cs {
				delete(out[sys], c)
			}
		}
	}
	return out, true
}

// include resolves one compose include (or exclude) clause.
func (t *terminology) include(inc include, depth int) (codeSet, bool) {
	var fromSystem codeSet
	if inc.System != "" {
		fromSystem = codeSet{}
		switch {
		case len(inc.Concept) > 0:
			for _, c := range inc.Concept {
				fromSystem.add(inc.System, c.Code)
			}
		default:
			cs, ok := t.codeSystems[inc.System]
			if !ok || cs.Content != "complete" {
				return nil, false
			}
			roots := cs.Concept
			for _, f := range inc.Filter {
				if f.Property != "concept" || (f.Op != "is-a" && f.Op != "descendent-of") {
					return nil, false
				}
				c, ok := findConcept(roots, f.Value)
				if !ok {
					return nil, false
				}
				if f.Op == "is-a" {
					roots = []concept{c}
				} else {
					roots = c.Concept
				}
			}
			var walk func([]concept)
			walk = func(cs []concept) {
				for _, c := range cs {
					fromSystem.add(inc.System, c.Code)
					walk(c.Concept)
				}
			}
			walk(roots)
		}
	}
	if len(inc.ValueSet) == 0 {
		return fromSystem, fromSystem != nil
	}
	// Several value sets in one include are intersected, and with the system.
	var acc codeSet
	for _, url := range inc.ValueSet {
		codes, ok := t.enumerate(url, depth+1)
		if !ok {
			return nil, false
		}
		if acc == nil {
			acc = codes
		} else {
			acc = intersect(acc, codes)
		}
	}
	if fromSystem != nil {
		acc = intersect(acc, fromSystem)
	}
	return acc, true
}

func intersect(a, b codeSet) codeSet {
	out := codeSet{}
	for sys, codes := range a {
		for c := range codes {
			if b[sys][c] {
				out.add(sys, c)
			}
		}
	}
	return out
}

func findConcept(cs []concept, code string) (concept, bool) {
	for _, c := range cs {
		if c.Code == code {
			return c, true
		}
		if d, ok := findConcept(c.Concept, code); ok {
			return d, true
		}
	}
	return concept{}, false
}
