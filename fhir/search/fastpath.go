package search

import (
	"strconv"
	"strings"

	"github.com/custodian-him/custodian/fhir/fhirpath"
	"github.com/custodian-him/custodian/store"
)

// Most R4 search parameter expressions are plain paths (Patient.name,
// Observation.subject.where(resolve() is Patient), (X.value as Quantity)).
// A plan evaluates such a branch by walking the JSON directly, with every
// model lookup done once at compile time; it gives the same items as the
// FHIRPath engine (fastpath_test.go checks that on every example resource).
// Branches of any other form are left to the engine.

// plan is one compiled branch.
type plan struct {
	steps []step
}

type stepOp uint8

const (
	opChild     stepOp = iota // navigate to a child element
	opIndex                   // [n]
	opAsOp                    // the `as T` operator: filters like ofType
	opAsFunc                  // .as(T): filters, but fails on several items
	opOfType                  // .ofType(T)
	opResolveIs               // .where(resolve() is T)
	opWhereEq                 // .where(field = 'literal')
)

type step struct {
	op stepOp
	// opChild and opWhereEq: the JSON keys of the element for each parent
	// type the step can meet.
	keys map[string][]childKey
	// oneType and oneKeys are keys' only entry, when it has one (the
	// usual case), to save a map lookup per item.
	oneType string
	oneKeys []childKey
	// opIndex
	index int
	// opAs*, opOfType, opResolveIs: the type tested; match caches the
	// answer for each static input type.
	typ   string
	match map[string]bool
	// opWhereEq
	lit string
}

// childKey is one JSON key an element may be stored under, with the FHIR
// type of the values found there ("" when it depends on the value, as for
// a Resource element).
type childKey struct {
	key, ext string // ext is "" for complex types, which have no "_" sibling
	typ      string
	path     string // the element's path in the definitions
}

// node is one item during a plan's evaluation.
type node struct {
	val any // nil for a primitive that only has extensions
	typ string
}

// compilePlan compiles branch br for resource type t, or returns nil if the
// branch is not of a form plans handle.
func (r *Registry) compilePlan(t, br string) *plan { return r.compileBranch(t, br, false) }

// compileRelative compiles expr (with "|" unions) as paths from a value of
// type t, or returns nil.
func (r *Registry) compileRelative(t, expr string) []*plan {
	var out []*plan
	for _, br := range splitUnion(expr) {
		pl := r.compileBranch(t, br, true)
		if pl == nil {
			return nil
		}
		out = append(out, pl)
	}
	return out
}

func (r *Registry) compileBranch(t, br string, relative bool) *plan {
	src := strings.TrimSpace(br)
	// "(path as T)" and "(path as T).rest".
	var asType, rest string
	if strings.HasPrefix(src, "(") {
		end := strings.IndexByte(src, ')')
		if end < 0 {
			return nil
		}
		inner, after := src[1:end], src[end+1:]
		p, ty, ok := strings.Cut(inner, " as ")
		if !ok || strings.ContainsAny(inner, "()") {
			return nil
		}
		if after != "" && !strings.HasPrefix(after, ".") {
			return nil
		}
		src, asType, rest = strings.TrimSpace(p), strings.TrimSpace(ty), strings.TrimPrefix(after, ".")
	} else if p, ty, ok := strings.Cut(src, " as "); ok {
		src, asType = strings.TrimSpace(p), strings.TrimSpace(ty)
	}
	segs := splitPath(src)
	if segs == nil || (rest != "" && splitPath(rest) == nil) {
		return nil
	}
	if relative {
		// A composite's component: a path from the composite's value.
		segs = append([]string{t}, segs...)
	}
	head := segs[0]
	if head != t && head != "Resource" && head != "DomainResource" {
		return nil
	}
	pl := &plan{}
	types := map[string]bool{t: true} // the static types the current items can have
	dynamic := false                  // items' types are only known at run time
	addSegs := func(segs []string) bool {
		for _, s := range segs {
			var st step
			switch {
			case strings.HasPrefix(s, "where(resolve() is ") && strings.HasSuffix(s, ")"):
				st = step{op: opResolveIs, typ: s[len("where(resolve() is ") : len(s)-1]}
				if r.model.Kind(st.typ) != fhirpath.KindResource {
					return false
				}
			case strings.HasPrefix(s, "where(") && strings.HasSuffix(s, "')"):
				field, lit, ok := strings.Cut(s[len("where("):len(s)-2], "='")
				if !ok || !isIdent(field) || strings.ContainsAny(lit, `'\`) || dynamic {
					return false
				}
				st = step{op: opWhereEq, lit: lit, keys: map[string][]childKey{}}
				for pt := range types {
					keys, _, ok := r.childKeys(pt, field)
					if !ok || len(keys) != 1 || !isStringType(keys[0].typ) {
						return false
					}
					st.keys[pt] = keys
				}
				st.seal()
			case strings.HasPrefix(s, "as(") || strings.HasPrefix(s, "ofType("):
				op, name := opAsFunc, strings.TrimSuffix(strings.TrimPrefix(s, "as("), ")")
				if strings.HasPrefix(s, "ofType(") {
					op, name = opOfType, strings.TrimSuffix(strings.TrimPrefix(s, "ofType("), ")")
				}
				st, ok := r.filterStep(op, name, types, dynamic)
				if !ok {
					return false
				}
				pl.steps = append(pl.steps, st)
				types = narrow(types, st.match)
				continue
			default:
				name, idx := s, -1
				if i := strings.IndexByte(s, '['); i > 0 && strings.HasSuffix(s, "]") {
					n, err := strconv.Atoi(s[i+1 : len(s)-1])
					if err != nil || n < 0 {
						return false
					}
					name, idx = s[:i], n
				}
				if !isIdent(name) || dynamic {
					return false
				}
				st = step{op: opChild, keys: map[string][]childKey{}}
				next := map[string]bool{}
				for pt := range types {
					keys, _, ok := r.childKeys(pt, name)
					if !ok {
						return false
					}
					st.keys[pt] = keys
					for _, k := range keys {
						if k.typ == "" {
							dynamic = true
						}
						next[k.typ] = true
					}
				}
				st.seal()
				pl.steps = append(pl.steps, st)
				types = next
				if idx >= 0 {
					pl.steps = append(pl.steps, step{op: opIndex, index: idx})
				}
				continue
			}
			pl.steps = append(pl.steps, st)
		}
		return true
	}
	if !addSegs(segs[1:]) {
		return nil
	}
	if asType != "" {
		st, ok := r.filterStep(opAsOp, asType, types, dynamic)
		if !ok {
			return nil
		}
		pl.steps = append(pl.steps, st)
		types = narrow(types, st.match)
	}
	if rest != "" && !addSegs(splitPath(rest)) {
		return nil
	}
	return pl
}

// filterStep builds an as/ofType step for the static input types.
func (r *Registry) filterStep(op stepOp, name string, types map[string]bool, dynamic bool) (step, bool) {
	if dynamic || !isIdent(name) {
		return step{}, false
	}
	st := step{op: op, typ: name, match: map[string]bool{}}
	if r.model.Kind(name) == fhirpath.KindUnknown {
		switch name {
		case "Boolean", "String", "Integer", "Decimal", "Date", "DateTime", "Time":
			// A System type (value.as(DateTime) in code-value-date): the
			// engine's cast never matches a FHIR value to one, so neither
			// does the plan.
			return st, true
		}
		return step{}, false
	}
	for t := range types {
		st.match[t] = r.castMatches(t, name)
	}
	return st, true
}

func narrow(types, match map[string]bool) map[string]bool {
	out := map[string]bool{}
	for t := range types {
		if match[t] {
			out[t] = true
		}
	}
	return out
}

// castMatches is the FHIRPath engine's rule for as and ofType: a primitive
// matches only its own type, other types match their base types too.
func (r *Registry) castMatches(typ, name string) bool {
	if r.model.Kind(typ) == fhirpath.KindPrimitive {
		return typ == name
	}
	return r.derivesFrom(typ, name)
}

func (r *Registry) derivesFrom(typ, base string) bool {
	for t := typ; t != ""; t = r.model.BaseType(t) {
		if t == base {
			return true
		}
	}
	return false
}

// childKeys lists the JSON keys of element name of parent and their types.
func (r *Registry) childKeys(parent, name string) ([]childKey, bool, bool) {
	info, ok := r.model.Element(parent, name)
	if !ok {
		return nil, false, false
	}
	if !info.Choice {
		typ := ""
		if len(info.Types) == 1 {
			typ = info.Types[0]
		}
		switch typ {
		case "Resource", "DomainResource", "Element":
			typ = ""
		case "":
			return nil, false, false
		}
		return []childKey{{key: name, ext: r.extKey(name, typ), typ: typ, path: parent + "." + name}}, false, true
	}
	var keys []childKey
	for _, t := range info.Types {
		k := name + strings.ToUpper(t[:1]) + t[1:]
		keys = append(keys, childKey{key: k, ext: r.extKey(k, t), typ: t, path: parent + "." + name + "[x]"})
	}
	return keys, true, true
}

// planCodeSystem returns the code system of the code values the plans
// yield, when every code element they end on is bound (required) to a value
// set of the same single system; otherwise "".
func (r *Registry) planCodeSystem(plans []*plan) string {
	sys, seen := "", false
	for _, pl := range plans {
		var last *step
		for i := range pl.steps {
			if pl.steps[i].op == opChild {
				last = &pl.steps[i]
			}
		}
		if last == nil || last != lastChildOrFilter(pl) {
			continue
		}
		for _, keys := range last.keys {
			for _, k := range keys {
				if k.typ != "code" {
					continue
				}
				el, ok := r.defs.Element(k.path)
				s := ""
				if ok && el.Binding != "" {
					s = valueSetSystem(el.Binding)
				}
				if seen && s != sys {
					return ""
				}
				sys, seen = s, true
			}
		}
	}
	return sys
}

// lastChildOrFilter is the last navigation step of pl, skipping type
// filters (which keep the element).
func lastChildOrFilter(pl *plan) *step {
	for i := len(pl.steps) - 1; i >= 0; i-- {
		switch pl.steps[i].op {
		case opAsOp, opAsFunc, opOfType, opWhereEq, opResolveIs, opIndex:
			continue
		}
		return &pl.steps[i]
	}
	return nil
}

// extKey is the key of the primitive extension sibling of key, "" if the
// type is complex and cannot have one.
func (r *Registry) extKey(key, typ string) string {
	if typ != "" && r.model.Kind(typ) != fhirpath.KindPrimitive {
		return ""
	}
	return "_" + key
}

// keysFor returns the child keys of a step for parent type typ.
func (st *step) keysFor(typ string) []childKey {
	if typ == st.oneType {
		return st.oneKeys
	}
	return st.keys[typ]
}

func (st *step) seal() {
	if len(st.keys) == 1 {
		for t, k := range st.keys {
			st.oneType, st.oneKeys = t, k
		}
	}
}

func isStringType(t string) bool {
	switch t {
	case "string", "code", "uri", "id", "markdown", "canonical", "url", "oid", "uuid":
		return true
	}
	return false
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// splitPath splits "A.b.where(x='y').c" on the dots outside parentheses and
// quotes; nil if the text is not a dotted path.
func splitPath(s string) []string {
	var out []string
	depth, start := 0, 0
	var quote bool
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote:
			if c == '\'' {
				quote = false
			}
		case c == '\'':
			quote = true
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == '.' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		case depth == 0 && (c == ' ' || c == '|'):
			return nil
		}
	}
	out = append(out, s[start:])
	for _, seg := range out {
		if seg == "" {
			return nil
		}
	}
	return out
}

// run evaluates the plan on res. The result lives in sc's buffers and is
// good until the next run; ok is false when the expression fails (.as() on
// several items), which makes the whole parameter contribute nothing.
func (pl *plan) run(r *Registry, res map[string]any, rootType string, sc *scratch) ([]node, bool) {
	return pl.runFrom(r, res, node{val: res, typ: rootType}, sc)
}

// runFrom is run starting at a value of res other than the root.
func (pl *plan) runFrom(r *Registry, res map[string]any, from node, sc *scratch) ([]node, bool) {
	cur := append(sc.a[:0], from)
	dst := sc.b[:0]
	for _, st := range pl.steps {
		dst = dst[:0]
		switch st.op {
		case opChild:
			for _, it := range cur {
				m, isMap := it.val.(map[string]any)
				if !isMap {
					continue
				}
				for _, k := range st.keysFor(it.typ) {
					v := m[k.key]
					var x any
					if k.ext != "" {
						x = m[k.ext]
					}
					if v != nil || x != nil {
						dst = appendValues(dst, v, x, k.typ)
					}
				}
			}
		case opIndex:
			if st.index < len(cur) {
				dst = append(dst, cur[st.index])
			}
		case opAsOp, opOfType:
			for _, it := range cur {
				if st.match[it.typ] {
					dst = append(dst, it)
				}
			}
		case opAsFunc:
			if len(cur) > 1 {
				sc.a, sc.b = cur, dst
				return nil, false
			}
			if len(cur) == 1 && st.match[cur[0].typ] {
				dst = append(dst, cur[0])
			}
		case opWhereEq:
			for _, it := range cur {
				m, isMap := it.val.(map[string]any)
				if !isMap {
					continue
				}
				v := m[st.keysFor(it.typ)[0].key]
				if a, isArr := v.([]any); isArr {
					if len(a) != 1 {
						continue
					}
					v = a[0]
				}
				if s, isStr := v.(string); isStr && s == st.lit {
					dst = append(dst, it)
				}
			}
		case opResolveIs:
			for _, it := range cur {
				if rt := resolveType(r, res, it.val); rt != "" && r.derivesFrom(rt, st.typ) {
					dst = append(dst, it)
				}
			}
		}
		cur, dst = dst, cur
		if len(cur) == 0 {
			break
		}
	}
	sc.a, sc.b = cur, dst
	return cur, true
}

// scratch holds the buffers of plan evaluation, reused between resources.
type scratch struct {
	a, b []node
	out  []node
	// seen is the set of the current parameter's entries once they are
	// many; seenFrom is where they start in the output (-1: none).
	seen     map[store.IndexEntry]struct{}
	seenFrom int
	entries  []store.IndexEntry
}

// appendValues appends the node(s) of a JSON value and its primitive
// extension sibling, as the engine does.
func appendValues(out []node, v, ext any, typ string) []node {
	switch arr := v.(type) {
	case []any:
		extArr, _ := ext.([]any)
		for i, e := range arr {
			var x any
			if i < len(extArr) {
				x = extArr[i]
			}
			out = appendOne(out, e, x, typ)
		}
		return out
	case nil:
		if extArr, ok := ext.([]any); ok {
			for _, x := range extArr {
				out = appendOne(out, nil, x, typ)
			}
			return out
		}
	}
	return appendOne(out, v, ext, typ)
}

func appendOne(out []node, v, ext any, typ string) []node {
	xm, _ := ext.(map[string]any)
	if v == nil && xm == nil {
		return out
	}
	if typ == "" {
		if v == nil {
			typ = "string"
		} else {
			typ = fhirpath.NewItem(v, "").Type()
		}
	}
	return append(out, node{val: v, typ: typ})
}

// resolveType is the type of the resource resolve() finds for a reference
// without a resolver (contained resources, Bundle entries, or the type a
// literal reference names), "" if none.
func resolveType(r *Registry, root map[string]any, v any) string {
	ref := ""
	var refMap map[string]any
	switch x := v.(type) {
	case string:
		ref = x
	case map[string]any:
		refMap = x
		ref, _ = x["reference"].(string)
	}
	if ref == "" {
		return ""
	}
	if strings.HasPrefix(ref, "#") {
		contained, _ := root["contained"].([]any)
		for _, c := range contained {
			if cm, ok := c.(map[string]any); ok && cm["id"] == ref[1:] {
				return fhirpath.NewItem(cm, "").Type()
			}
		}
		return ""
	}
	entries, _ := root["entry"].([]any)
	for _, e := range entries {
		if em, ok := e.(map[string]any); ok && em["fullUrl"] == ref {
			if em["resource"] == nil {
				return ""
			}
			return fhirpath.NewItem(em["resource"], "").Type()
		}
	}
	if strings.HasPrefix(ref, "urn:") || !strings.Contains(ref, "/") {
		typ, _ := refMap["type"].(string)
		if typ == "" {
			return ""
		}
		return typ[strings.LastIndexByte(typ, '/')+1:]
	}
	ref, _, _ = strings.Cut(ref, "/_history/")
	slash := strings.LastIndexByte(ref, '/')
	typ, id := ref[:slash], ref[slash+1:]
	typ = typ[strings.LastIndexByte(typ, '/')+1:]
	if typ == "" || typ[0] < 'A' || typ[0] > 'Z' || id == "" {
		return ""
	}
	if r.model.Kind(typ) != fhirpath.KindResource {
		return ""
	}
	return typ
}
