package search

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/fhirpath"
	"github.com/custodian-him/custodian/store"
)

//go:embed definitions/search-parameters.json.gz
var searchParametersGz []byte

// Param is one search parameter as it applies to one resource type.
type Param struct {
	// Type is the resource type the parameter applies to here.
	Type string
	// Code is the name used in a search URL.
	Code string
	// Kind is the parameter's type (token, reference, date, …).
	Kind store.ParamKind
	// URL is the canonical URL of the SearchParameter.
	URL string
	// Expression is the FHIRPath expression for this resource type only.
	Expression string
	// Targets are the resource types a reference parameter may point to.
	Targets []string

	// Components are the parts of a composite parameter.
	Components []Component

	expr    *fhirpath.Expression
	plans   []*plan // the branches as plans, nil when the engine must run
	indexed bool    // the kind has an index table
	// pending: a custom parameter whose values are indexed at every write
	// but which cannot be searched until custodian reindex has indexed
	// every stored resource by it.
	pending bool
	// codeSystem is the code system of the parameter's code values, when
	// the elements they come from are bound to a value set of one system.
	codeSystem string
	// compositeTypes are the static types of a planned composite's values;
	// nil when the composite runs on the engine.
	compositeTypes []string
}

// Component is one part of a composite parameter, evaluated on each value
// of the composite's own expression.
type Component struct {
	Kind       store.ParamKind
	Expression string
	expr       *fhirpath.Expression
	plans      []*plan // for each static type of the composite's values
}

// indexedKinds are the kinds Custodian has index tables for; parameters of
// other kinds are known but not yet searchable.
var indexedKinds = map[store.ParamKind]bool{
	store.KindToken: true, store.KindReference: true, store.KindDate: true,
	store.KindString: true, store.KindURI: true, store.KindNumber: true,
	store.KindQuantity: true, store.KindComposite: true,
}

// Registry holds the compiled search parameters of every resource type.
type Registry struct {
	defs  *fhir.Definitions
	model fhirpath.Model
	env   *fhirpath.Env
	// engineOnly turns the plans off (tests compare them with the engine).
	engineOnly bool
	// textTypes are the types with a narrative, indexed for _text.
	textTypes map[string]bool
	byType    map[string][]*Param
	byCode    map[string]map[string]*Param
	// byURL are the R4 definitions, for composites' components.
	byURL map[string]spDoc
	// custom are the parameters of stored SearchParameter resources
	// (custom.go), replaced whole when they change; a pointer, so that a
	// copy of the registry shares them.
	custom *atomic.Pointer[customSet]
}

// spDoc is the part of a SearchParameter resource Custodian reads.
type spDoc struct {
	URL        string   `json:"url"`
	Code       string   `json:"code"`
	Base       []string `json:"base"`
	Type       string   `json:"type"`
	Expression string   `json:"expression"`
	Target     []string `json:"target"`
	Component  []struct {
		Definition string `json:"definition"`
		Expression string `json:"expression"`
	} `json:"component"`
}

// NewR4 compiles the search parameters of the R4 specification against defs.
func NewR4(defs *fhir.Definitions) (*Registry, error) {
	zr, err := gzip.NewReader(bytes.NewReader(searchParametersGz))
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	var bundle struct {
		Entry []struct {
			Resource spDoc `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(raw, &bundle); err != nil {
		return nil, fmt.Errorf("search: read search parameters: %w", err)
	}
	m := newModel(defs)
	r := &Registry{defs: defs, model: m, env: &fhirpath.Env{Model: m}, byType: map[string][]*Param{}, byCode: map[string]map[string]*Param{},
		custom: new(atomic.Pointer[customSet])}
	byURL := map[string]spDoc{}
	for _, e := range bundle.Entry {
		byURL[e.Resource.URL] = e.Resource
	}
	r.byURL = byURL
	r.textTypes = map[string]bool{}
	for _, t := range defs.ResourceTypes() {
		if defs.IsSubtype(t, "DomainResource") {
			r.textTypes[t] = true
		}
	}
	for _, e := range bundle.Entry {
		if err := r.add(e.Resource, byURL); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// add compiles sp for each resource type it applies to; a type that has
// a parameter of the same code already keeps it.
func (r *Registry) add(sp spDoc, byURL map[string]spDoc) error {
	ps, err := r.compile(sp, byURL)
	if err != nil {
		return err
	}
	for _, p := range ps {
		t := p.Type
		if r.byCode[t] == nil {
			r.byCode[t] = map[string]*Param{}
		}
		if _, dup := r.byCode[t][sp.Code]; dup {
			continue
		}
		r.byCode[t][sp.Code] = p
		r.byType[t] = append(r.byType[t], p)
	}
	return nil
}

// compile compiles sp for each resource type it applies to.
func (r *Registry) compile(sp spDoc, byURL map[string]spDoc) ([]*Param, error) {
	if sp.Expression == "" || sp.Code == "_id" || sp.Code == "_lastUpdated" {
		// _text and _content are not index-driven; _id and _lastUpdated
		// are columns of every stored resource.
		return nil, nil
	}
	var out []*Param
	var types []string
	for _, b := range sp.Base {
		if b == "Resource" || b == "DomainResource" {
			for _, t := range r.defs.ResourceTypes() {
				if b == "Resource" || r.defs.IsSubtype(t, "DomainResource") {
					types = append(types, t)
				}
			}
			continue
		}
		types = append(types, b)
	}
	branches := splitUnion(sp.Expression)
	for _, t := range types {
		var mine []string
		for _, br := range branches {
			if head := branchType(br); head == t || head == "Resource" || head == "DomainResource" || head == "" {
				mine = append(mine, br)
			}
		}
		if len(mine) == 0 {
			continue
		}
		src := strings.Join(mine, " | ")
		expr, err := fhirpath.Compile(src)
		if err != nil {
			return nil, fmt.Errorf("search: compile %s (%s): %w", sp.Code, t, err)
		}
		p := &Param{Type: t, Code: sp.Code, Kind: store.ParamKind(sp.Type), URL: sp.URL, Expression: src, Targets: sp.Target, expr: expr}
		p.indexed = indexedKinds[p.Kind]
		if p.Kind == store.KindComposite {
			// Custodian indexes composites of two parts (all R4 ones but
			// MolecularSequence's coordinates).
			p.indexed = len(sp.Component) == 2
			for _, c := range sp.Component {
				ce, err := fhirpath.Compile(c.Expression)
				if err != nil {
					return nil, fmt.Errorf("search: compile %s component %s: %w", sp.Code, c.Expression, err)
				}
				def, ok := byURL[c.Definition]
				if !ok {
					p.indexed = false
				}
				p.Components = append(p.Components, Component{Kind: store.ParamKind(def.Type), Expression: c.Expression, expr: ce})
			}
			if p.indexed {
				k1, k2 := p.Components[0].Kind, p.Components[1].Kind
				p.indexed = (k1 == store.KindToken || k1 == store.KindReference) &&
					(k2 == store.KindToken || k2 == store.KindQuantity || k2 == store.KindDate || k2 == store.KindString)
			}
			r.planComposite(p, t, mine)
		}
		for _, br := range mine {
			pl := r.compilePlan(t, br)
			if pl == nil {
				p.plans = nil
				break
			}
			p.plans = append(p.plans, pl)
		}
		p.codeSystem = r.planCodeSystem(p.plans)
		if p.Kind == store.KindComposite && p.compositeTypes == nil {
			p.plans = nil
		}
		out = append(out, p)
	}
	return out, nil
}

// planComposite compiles the components of composite p as plans from each
// type the composite's own plans yield, if they all compile.
func (r *Registry) planComposite(p *Param, t string, branches []string) {
	var types []string
	for _, br := range branches {
		pl := r.compilePlan(t, br)
		if pl == nil {
			return
		}
		typ := t
		if st := lastChildOrFilter(pl); st != nil && st.op == opChild {
			if len(st.oneKeys) != 1 || st.oneKeys[0].typ == "" {
				return
			}
			typ = st.oneKeys[0].typ
		}
		if !slices.Contains(types, typ) {
			types = append(types, typ)
		}
	}
	for i := range p.Components {
		c := &p.Components[i]
		c.plans = nil
		for _, typ := range types {
			pls := r.compileRelative(typ, c.Expression)
			if pls == nil {
				return
			}
			c.plans = append(c.plans, pls...)
		}
	}
	p.compositeTypes = types
}

// splitUnion splits a FHIRPath expression on its top-level "|" operators.
func splitUnion(expr string) []string {
	var out []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '`':
			quote = c
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth--
		case c == '|' && depth == 0:
			out = append(out, strings.TrimSpace(expr[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(expr[start:]))
}

// branchType returns the resource type a branch starts from ("Patient" for
// "Patient.name"), or "" if it does not start with a type name.
func branchType(br string) string {
	br = strings.TrimLeft(br, "( ")
	end := strings.IndexAny(br, ".( ")
	if end < 0 {
		end = len(br)
	}
	head := br[:end]
	if head == "" || head[0] < 'A' || head[0] > 'Z' {
		return ""
	}
	return head
}

// HasNarrative reports whether typ has a narrative (it is a
// DomainResource), whose words _text searches.
func (r *Registry) HasNarrative(typ string) bool { return r.textTypes[typ] }

// Lookup returns the parameter code of typ (a custom one even before it
// is active).
func (r *Registry) Lookup(typ, code string) (*Param, bool) {
	p, ok := r.byCode[typ][code]
	if !ok {
		if cs := r.custom.Load(); cs != nil {
			p, ok = cs.byCode[typ][code]
		}
	}
	return p, ok
}

// searchable returns the parameter code of typ if it can be searched: its
// values are indexed and, for a custom one, every stored resource has been
// indexed by it.
func (r *Registry) searchable(typ, code string) (*Param, bool) {
	p, ok := r.Lookup(typ, code)
	if !ok || !p.indexed || p.pending {
		return nil, false
	}
	return p, true
}

// Param implements store.Indexer: the kind of a parameter that can be
// searched (one whose values are indexed).
func (r *Registry) Param(typ, code string) (store.ParamKind, bool) {
	p, ok := r.searchable(typ, code)
	if !ok {
		return "", false
	}
	return p.Kind, true
}

// ParamInfo implements store.ParamCatalog.
func (r *Registry) ParamInfo(typ, code string) (store.ParamInfo, bool) {
	p, ok := r.searchable(typ, code)
	if !ok {
		return store.ParamInfo{}, false
	}
	info := store.ParamInfo{Kind: p.Kind, Targets: p.Targets}
	if p.Kind == store.KindComposite {
		info.Components = [2]store.ParamKind{p.Components[0].Kind, p.Components[1].Kind}
	}
	return info, true
}

// ReferenceParams implements store.ParamCatalog.
func (r *Registry) ReferenceParams(typ string) []string {
	var out []string
	for _, p := range r.Params(typ) {
		if p.indexed && !p.pending && p.Kind == store.KindReference {
			out = append(out, p.Code)
		}
	}
	return out
}

// Params returns the parameters of typ, in definition order, then its
// custom ones.
func (r *Registry) Params(typ string) []*Param {
	cs := r.custom.Load()
	if cs == nil || len(cs.byType[typ]) == 0 {
		return r.byType[typ]
	}
	return slices.Concat(r.byType[typ], cs.byType[typ])
}

// Indexed returns every (type, code) pair whose values are indexed, for the
// database to number.
func (r *Registry) Indexed() [][2]string {
	var out [][2]string
	types := make([]string, 0, len(r.byType))
	for t := range r.byType {
		types = append(types, t)
	}
	for t := range r.textTypes {
		if r.byType[t] == nil {
			types = append(types, t)
		}
	}
	slices.Sort(types)
	for _, t := range types {
		for _, p := range r.byType[t] {
			if p.indexed {
				out = append(out, [2]string{t, p.Code})
			}
		}
		if r.textTypes[t] {
			out = append(out, [2]string{t, TextParam})
		}
	}
	return out
}
