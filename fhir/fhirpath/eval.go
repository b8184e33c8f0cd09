package fhirpath

import (
	"context"
	"strings"
	"time"
)

// Expression is a compiled FHIRPath expression. It is immutable and safe for concurrent use.
type Expression struct {
	src       string
	root      node
	usesClock bool
}

// Compile parses a FHIRPath expression. It returns an *[Error] of kind SyntaxError for
// malformed text and SemanticError for unknown functions or wrong argument counts.
func Compile(src string) (*Expression, error) {
	p, n, err := parse(src)
	if err != nil {
		return nil, err
	}
	return &Expression{src: src, root: n, usesClock: p.usesClock}, nil
}

// MustCompile is like [Compile] but panics on error; for expressions fixed in the program.
func MustCompile(src string) *Expression {
	e, err := Compile(src)
	if err != nil {
		panic(err)
	}
	return e
}

// String returns the source text.
func (e *Expression) String() string { return e.src }

// Env supplies what an evaluation may need beyond the input. A nil *Env is valid.
type Env struct {
	// Model gives items their FHIR types and resolves choice elements; nil means types are
	// inferred from the JSON.
	Model Model
	// Strict makes unknown element names errors (needs Model), as in the test suite's
	// mode="strict".
	Strict bool
	// Resource and RootResource are %resource and %rootResource when the input is not the
	// resource itself (e.g. an invariant evaluated on an element, or a contained resource).
	// When nil they default to the input, which is also %context.
	Resource, RootResource any
	// Vars holds %name external constants. A value may be a Collection, an Item, or a Go/JSON
	// value (string, bool, int, int64, json.Number, Decimal, Temporal, Quantity, map[string]any).
	Vars map[string]any
	// Resolve fetches the resource a reference string points to, for resolve(). It returns
	// nil, nil when the reference cannot be resolved. When Resolve is nil, resolve() finds
	// contained resources ("#id") and Bundle entries (by fullUrl), and otherwise yields a
	// stub {"resourceType": T, "id": id} for a literal reference "T/id", which is enough for
	// search-parameter expressions such as subject.where(resolve() is Patient).
	Resolve func(ctx context.Context, reference string) (any, error)
	// Now is the clock for now(), today() and timeOfDay(); nil means time.Now.
	Now func() time.Time
	// Trace receives trace() output; nil discards it.
	Trace func(name string, c Collection)
	// MemberOf answers memberOf(valueSet) for a code, Coding or CodeableConcept node;
	// nil makes memberOf() return empty.
	MemberOf func(ctx context.Context, item Item, valueSet string) (bool, error)
}

var zeroEnv Env

// evalCtx is the state of one evaluation; copies are made for $this/$index scopes.
type evalCtx struct {
	ctx      context.Context
	env      *Env
	model    Model
	root     Collection // %context: the input
	this     Collection
	index    int
	hasIndex bool
	total    Collection
	now      time.Time // set when the expression reads the clock
}

// Evaluate runs the expression against input, which is typically a resource decoded by
// encoding/json with UseNumber (map[string]any); it may also be an Item or a Collection.
// The result may share memory with the expression and the input: do not modify it.
// Errors are *[Error] values (kind ExecutionError or, in strict mode, SemanticError) or
// the context's error.
func (e *Expression) Evaluate(ctx context.Context, input any, env *Env) (Collection, error) {
	if env == nil {
		env = &zeroEnv
	}
	if ctx == nil {
		ctx = context.Background()
	}
	var root Collection
	switch v := input.(type) {
	case Collection:
		root = v
	case Item:
		root = Collection{v}
	case nil:
	default:
		root = Collection{NewItem(v, "")}
	}
	ec := &evalCtx{ctx: ctx, env: env, model: env.Model, root: root, this: root}
	if e.usesClock {
		// Read the clock once: now() is the same throughout an evaluation (§ 5.9.2).
		now := time.Now()
		if env.Now != nil {
			now = env.Now()
		}
		ec.now = now
	}
	return e.root.eval(ec, root)
}

// node is an element of the syntax tree. eval applies it to focus, the input collection
// of an invocation (the current $this for a term).
type node interface {
	eval(ec *evalCtx, focus Collection) (Collection, error)
}

type literalNode struct{ val Collection }

func (n *literalNode) eval(*evalCtx, Collection) (Collection, error) { return n.val, nil }

type specialNode struct{ name string }

func (n *specialNode) eval(ec *evalCtx, _ Collection) (Collection, error) {
	switch n.name {
	case "$this":
		return ec.this, nil
	case "$index":
		if !ec.hasIndex {
			return nil, nil
		}
		return Collection{systemItem(int64(ec.index))}, nil
	default:
		return ec.total, nil
	}
}

type varNode struct {
	name string
	at   int
}

func (n *varNode) eval(ec *evalCtx, _ Collection) (Collection, error) {
	switch n.name {
	case "context":
		return ec.root, nil
	case "resource":
		if ec.env.Resource != nil {
			return toCollection(ec.env.Resource), nil
		}
		return ec.root, nil
	case "rootResource":
		if ec.env.RootResource != nil {
			return toCollection(ec.env.RootResource), nil
		}
		if ec.env.Resource != nil {
			return toCollection(ec.env.Resource), nil
		}
		return ec.root, nil
	case "ucum":
		return Collection{systemItem("http://unitsofmeasure.org")}, nil
	case "sct":
		return Collection{systemItem("http://snomed.info/sct")}, nil
	case "loinc":
		return Collection{systemItem("http://loinc.org")}, nil
	}
	v, ok := ec.env.Vars[n.name]
	if !ok {
		if strings.HasPrefix(n.name, "vs-") {
			return Collection{systemItem("http://hl7.org/fhir/ValueSet/" + n.name[3:])}, nil
		}
		if strings.HasPrefix(n.name, "ext-") {
			return Collection{systemItem("http://hl7.org/fhir/StructureDefinition/" + n.name[4:])}, nil
		}
		return nil, &Error{Kind: SemanticError, Pos: n.at, Msg: "undefined variable %" + n.name}
	}
	return toCollection(v), nil
}

// toCollection converts a Go value supplied by the caller to a collection.
func toCollection(v any) Collection {
	switch v := v.(type) {
	case nil:
		return nil
	case Collection:
		return v
	case Item:
		return Collection{v}
	case []any:
		out := make(Collection, 0, len(v))
		for _, e := range v {
			out = append(out, toCollection(e)...)
		}
		return out
	case int:
		return Collection{systemItem(int64(v))}
	case int64, bool, string, Decimal, Temporal, Quantity:
		return Collection{systemItem(v)}
	}
	return Collection{NewItem(v, "")}
}

type invokeNode struct {
	left, right node
}

func (n *invokeNode) eval(ec *evalCtx, focus Collection) (Collection, error) {
	if ec.env.Strict {
		if err := ec.strictCheck(n); err != nil {
			return nil, err
		}
	}
	l, err := n.left.eval(ec, focus)
	if err != nil {
		return nil, err
	}
	return n.right.eval(ec, l)
}

type indexerNode struct {
	left, index node
	at          int
}

func (n *indexerNode) eval(ec *evalCtx, focus Collection) (Collection, error) {
	l, err := n.left.eval(ec, focus)
	if err != nil {
		return nil, err
	}
	idx, err := n.index.eval(ec, ec.this)
	if err != nil {
		return nil, err
	}
	i, ok, err := singletonInt(idx)
	if err != nil || !ok {
		return nil, err
	}
	if i < 0 || int(i) >= len(l) {
		return nil, nil
	}
	return l[i : i+1 : i+1], nil
}

type unaryNode struct {
	op      byte
	operand node
	at      int
}

func (n *unaryNode) eval(ec *evalCtx, focus Collection) (Collection, error) {
	v, err := n.operand.eval(ec, focus)
	if err != nil || len(v) == 0 {
		return nil, err
	}
	if len(v) > 1 {
		return nil, execErrorf("unary %c applied to a collection of %d items", n.op, len(v))
	}
	sv, _ := v[0].system()
	if n.op == '+' {
		switch sv.(type) {
		case int64, Decimal, Quantity:
			return v, nil
		}
		return nil, execErrorf("unary + applied to a non-number")
	}
	neg, ok := negateLiteral(systemItem(sv))
	if !ok {
		return nil, execErrorf("unary - applied to a non-number")
	}
	return Collection{neg}, nil
}

func negateLiteral(it Item) (Item, bool) {
	switch v := it.val.(type) {
	case int64:
		return systemItem(-v), true
	case Decimal:
		return systemItem(v.neg()), true
	case Quantity:
		return systemItem(Quantity{Value: v.Value.neg(), Unit: v.Unit}), true
	}
	return Item{}, false
}

// memberNode navigates to the children called name; at the start of a path a type name
// (Patient.name) selects the focus when it is of that type.
type memberNode struct {
	name string
	ext  string // "_" + name, precomputed to avoid allocation while navigating
	term bool   // first step of a path
	at   int
}

func (n *memberNode) eval(ec *evalCtx, focus Collection) (Collection, error) {
	if n.term && n.name != "" && n.name[0] >= 'A' && n.name[0] <= 'Z' {
		if out, ok, err := ec.typeStep(n, focus); ok || err != nil {
			return out, err
		}
	}
	var out Collection
	for _, it := range focus {
		var err error
		out, err = ec.member(out, it, n)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// typeStep handles a leading type name: Patient.name on a Patient.
func (ec *evalCtx) typeStep(n *memberNode, focus Collection) (Collection, bool, error) {
	for _, it := range focus {
		if it.typ == n.name || ec.itemDerivesFrom(it, n.name) {
			return focus, true, nil
		}
	}
	if ec.model != nil && ec.model.Kind(n.name) == KindResource {
		if ec.env.Strict && len(focus) > 0 {
			return nil, false, &Error{Kind: SemanticError, Pos: n.at, Msg: "the context is not a " + n.name}
		}
		return nil, true, nil
	}
	return nil, false, nil
}

// itemDerivesFrom is derivesFrom for an item; without a model it still knows that a
// resource node is a Resource, and a DomainResource unless it is a Bundle, Binary or
// Parameters (FHIR R4 resource hierarchy).
func (ec *evalCtx) itemDerivesFrom(it Item, base string) bool {
	if ec.derivesFrom(it.typ, base) {
		return true
	}
	if ec.model != nil || base != "Resource" && base != "DomainResource" {
		return false
	}
	rt, ok := isResourceNode(it.val)
	if !ok {
		return false
	}
	return base == "Resource" || rt != "Bundle" && rt != "Binary" && rt != "Parameters"
}

// derivesFrom reports whether typ is base or a specialisation of it.
func (ec *evalCtx) derivesFrom(typ, base string) bool {
	for t := typ; t != ""; t = baseType(ec.model, t) {
		if t == base {
			return true
		}
	}
	return false
}

// orderedFunctions depend on the order of their input (FHIRPath § 5.3).
var orderedFunctions = map[string]bool{"first": true, "last": true, "tail": true, "skip": true, "take": true, "single": false}

// strictCheck applies the static checks of strict mode that need no full type inference:
// navigating to an element the declared type of an `as` cast does not have, and ordered
// functions applied to the unordered output of children() or descendants().
func (ec *evalCtx) strictCheck(n *invokeNode) error {
	switch r := n.right.(type) {
	case *memberNode:
		t, ok := n.left.(*typeOpNode)
		if !ok || t.op != "as" || ec.model == nil || ec.model.Kind(t.typ) == KindUnknown {
			return nil
		}
		if _, ok := ec.model.Element(t.typ, r.name); !ok {
			return &Error{Kind: SemanticError, Pos: r.at, Msg: "type " + t.typ + " has no element " + r.name}
		}
	case *funcNode:
		left := n.left
		if inv, ok := left.(*invokeNode); ok {
			left = inv.right
		}
		if l, ok := left.(*funcNode); ok && orderedFunctions[r.name] && (l.name == "children" || l.name == "descendants") {
			return &Error{Kind: SemanticError, Pos: r.at, Msg: r.name + "() applied to the unordered result of " + l.name + "()"}
		}
	}
	return nil
}
