package fhirapi

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/custodian-him/custodian"
)

// Operation is a FHIR operation served by a package outside fhirapi
// (terminology, DRG grouping, patient matching, bulk export, …). Its
// handler returns its error; the API renders it as an OperationOutcome with
// the status the error code calls for, like every other interaction.
type Operation struct {
	// Pattern is the ServeMux pattern, method included:
	// "GET /fhir/CodeSystem/$lookup", "POST /fhir/Patient/$match".
	Pattern string
	// Name is the operation's code without "$" ("lookup"), and Type the
	// resource type it is defined on ("" at system level); both feed the
	// CapabilityStatement. Definition is the OperationDefinition's
	// canonical URL.
	Name, Type, Definition string
	Handle                 func(w http.ResponseWriter, r *http.Request) error
}

// WriteResource writes a FHIR resource (a JSON tree) with status.
func WriteResource(w http.ResponseWriter, status int, v map[string]any) { writeJSON(w, status, v) }

// Params are the input parameters of an operation: the query string of a
// GET, or a Parameters resource (or, for a form post, the form) of a POST.
type Params struct {
	values    map[string][]string
	resources map[string][]map[string]any
	parts     map[string][]map[string]any
}

// Get returns the first value of name ("" if absent).
func (p *Params) Get(name string) string {
	if v := p.values[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// All returns every value of name.
func (p *Params) All(name string) []string { return p.values[name] }

// Has reports whether name was given at all.
func (p *Params) Has(name string) bool {
	return len(p.values[name]) > 0 || len(p.resources[name]) > 0 || len(p.parts[name]) > 0
}

// Resource returns the first resource given as name (nil if none).
func (p *Params) Resource(name string) map[string]any {
	if v := p.resources[name]; len(v) > 0 {
		return v[0]
	}
	return nil
}

// Parts returns the parameters named name that have parts, as the raw
// Parameters.parameter elements.
func (p *Params) Parts(name string) []map[string]any { return p.parts[name] }

// Names lists the parameter names given, sorted.
func (p *Params) Names() []string {
	seen := map[string]bool{}
	for k := range p.values {
		seen[k] = true
	}
	for k := range p.resources {
		seen[k] = true
	}
	for k := range p.parts {
		seen[k] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ReadParams reads an operation's input parameters from r: the query
// string, plus, for POST, a Parameters resource body (application/fhir+json
// or application/json, at most DefaultMaxBody bytes) or a form. Primitive values (valueCode,
// valueString, valueBoolean, …) are kept as their JSON text; resources and
// parameters with parts are kept whole.
func ReadParams(w http.ResponseWriter, r *http.Request) (*Params, error) {
	p := &Params{values: map[string][]string{}, resources: map[string][]map[string]any{}, parts: map[string][]map[string]any{}}
	for k, vs := range r.URL.Query() {
		p.values[k] = append(p.values[k], vs...)
	}
	if r.Method != http.MethodPost {
		return p, nil
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if err := r.ParseForm(); err != nil {
			return nil, custodian.Wrap(custodian.EINVALID, err, "the form cannot be read")
		}
		for k, vs := range r.PostForm {
			p.values[k] = append(p.values[k], vs...)
		}
		return p, nil
	}
	body, _, err := readBodyLimit(w, r, DefaultMaxBody)
	if err != nil {
		return nil, err
	}
	var res map[string]any
	if err := json.Unmarshal(body, &res); err != nil {
		return nil, custodian.Wrap(custodian.EINVALID, err, "the body is not JSON")
	}
	if res["resourceType"] != "Parameters" {
		return nil, custodian.Errorf(custodian.EINVALID, "the body must be a Parameters resource")
	}
	list, _ := res["parameter"].([]any)
	for i, e := range list {
		m, ok := e.(map[string]any)
		name, _ := m["name"].(string)
		if !ok || name == "" {
			return nil, custodian.Errorf(custodian.EINVALID, "Parameters.parameter[%d] has no name", i)
		}
		if r, ok := m["resource"].(map[string]any); ok {
			p.resources[name] = append(p.resources[name], r)
			continue
		}
		if _, ok := m["part"]; ok {
			p.parts[name] = append(p.parts[name], m)
			continue
		}
		for k, v := range m {
			if !strings.HasPrefix(k, "value") {
				continue
			}
			switch v := v.(type) {
			case string:
				p.values[name] = append(p.values[name], v)
			case bool:
				if v {
					p.values[name] = append(p.values[name], "true")
				} else {
					p.values[name] = append(p.values[name], "false")
				}
			case float64, json.Number:
				b, _ := json.Marshal(v)
				p.values[name] = append(p.values[name], string(b))
			default:
				// complex datatypes (Coding, CodeableConcept, …) as parts
				if mv, ok := v.(map[string]any); ok {
					p.parts[name] = append(p.parts[name], map[string]any{"name": name, k: mv})
				}
			}
		}
	}
	return p, nil
}
