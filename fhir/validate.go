package fhir

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/custodian-him/custodian"
)

// Issue severities used by the validator.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
)

// ConstraintChecker evaluates FHIRPath invariants. It is the extension point
// through which package fhirpath (or any other engine) adds constraint
// checking to Definitions.ValidateWith without package fhir depending on it.
type ConstraintChecker interface {
	// Check reports whether constraint c holds for focus, a value (an
	// object, array item or primitive) within resource, the resource that
	// contains it (%resource).
	Check(c Constraint, resource map[string]any, focus any) (bool, error)
}

// structuralConstraints are invariants the validator enforces itself, so
// they are never passed to a ConstraintChecker.
var structuralConstraints = map[string]bool{
	"ele-1": true, // no empty elements
	"ext-1": true, // an extension has a value or extensions, not both
	"dom-2": true, // contained resources contain no resources
}

// Validate checks resource, as decoded by encoding/json with UseNumber,
// against the structure definitions and returns every problem found,
// sorted by path; nil means the resource is valid. It checks the JSON
// representation, element names, cardinality, choice types, primitive
// formats, primitive extensions, contained and nested resources,
// extensions, the resource types of literal references and required
// bindings. FHIRPath invariants are not checked; see ValidateWith.
// Messages name elements and types but never quote values, so they carry
// no patient data. Issues at the same path keep the order they were found
// in; paths sort as strings, so name[10] comes before name[2].
func (d *Definitions) Validate(resource map[string]any) []custodian.Issue {
	return d.ValidateWith(resource, nil)
}

// ValidateWith is Validate that also evaluates the FHIRPath invariants of
// every type and element through checker, when checker is not nil.
func (d *Definitions) ValidateWith(resource map[string]any, checker ConstraintChecker) []custodian.Issue {
	v := validator{d: d, checker: checker, path: make([]segment, 0, 16)}
	v.resource(resource, true)
	if len(v.issues) > 1 {
		slices.SortStableFunc(v.issues, func(a, b custodian.Issue) int {
			return cmp.Compare(a.Path, b.Path)
		})
	}
	return v.issues
}

// segment is one step of the path to the value being checked.
type segment struct {
	name  string
	index int // -1 when the step is not an array item
}

type validator struct {
	d         *Definitions
	checker   ConstraintChecker
	issues    []custodian.Issue
	path      []segment
	resources []map[string]any // the enclosing resources, innermost last
}

func (v *validator) push(name string) { v.path = append(v.path, segment{name, -1}) }
func (v *validator) pop()             { v.path = v.path[:len(v.path)-1] }
func (v *validator) index(i int)      { v.path[len(v.path)-1].index = i }

// pathString renders the current path, plus child if not empty.
func (v *validator) pathString(child string) string {
	var b strings.Builder
	for i, s := range v.path {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.name)
		if s.index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
		}
	}
	if child != "" {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(child)
	}
	return b.String()
}

// report records an issue at the current path (plus child, if not empty).
func (v *validator) report(severity, code, child, msg string) {
	v.issues = append(v.issues, custodian.Issue{Severity: severity, Code: code, Path: v.pathString(child), Message: msg})
}

func (v *validator) errorf(code, child, msg string) { v.report(SeverityError, code, child, msg) }

// resource checks a resource: at the root (which starts the path) or as
// the value of a resource-typed element (contained, Bundle.entry.resource,
// Parameters.parameter.resource).
func (v *validator) resource(m map[string]any, root bool) {
	rt, present := m["resourceType"]
	name, _ := rt.(string)
	n := v.d.nodes[TypeRef(name)]
	if n == nil || !n.isResource || v.d.types[name].Abstract {
		if root {
			v.push("Resource")
			defer v.pop()
		}
		switch {
		case !present:
			v.errorf("required", "", "resourceType is missing")
		case name == "":
			v.errorf("structure", "", "resourceType must be a non-empty string")
		default:
			v.errorf("structure", "", "unknown resource type")
		}
		return
	}
	if root {
		v.push(name)
		defer v.pop()
	}
	v.resources = append(v.resources, m)
	v.object(n, m)
	if v.checker != nil {
		v.constraints(n.constraints, m, "")
	}
	v.resources = v.resources[:len(v.resources)-1]
}

// object checks the properties of a JSON object against node n.
func (v *validator) object(n *node, m map[string]any) {
	if len(m) == 0 {
		v.errorf("structure", "", "empty object is not allowed")
		return
	}
	var seenBuf [4]*Element
	seen := seenBuf[:0]
	for key, val := range m {
		if key == "resourceType" && n.isResource {
			continue
		}
		if len(key) > 1 && key[0] == '_' {
			v.primitiveExtension(n, key, val, m)
			continue
		}
		c := n.children[key]
		if c == nil {
			v.errorf("structure", key, "unknown element")
			continue
		}
		if c.choice {
			if slices.Contains(seen, c.el) {
				v.errorf("structure", strings.TrimSuffix(c.el.Name(), "[x]"), "more than one type given for choice element "+c.el.Name())
			} else {
				seen = append(seen, c.el)
			}
		}
		v.property(c, key, val, m)
	}
	for _, r := range n.required {
		if !present(m, r.keys) {
			v.errorf("required", strings.TrimSuffix(r.el.Name(), "[x]"), "missing required element")
		}
	}
	if n.isExtension {
		v.extension(m)
	}
}

// present reports whether m has any of keys, or the primitive extension of one.
func present(m map[string]any, keys []string) bool {
	for _, k := range keys {
		if _, ok := m[k]; ok {
			return true
		}
		if _, ok := m["_"+k]; ok {
			return true
		}
	}
	return false
}

// extension enforces ext-1: an extension has either a value[x] or nested
// extensions, never both and never neither.
func (v *validator) extension(m map[string]any) {
	_, nested := m["extension"]
	value := false
	for k := range m {
		if strings.HasPrefix(k, "value") || strings.HasPrefix(k, "_value") {
			value = true
			break
		}
	}
	switch {
	case nested && value:
		v.errorf("invariant", "", "ext-1: an extension must have either extensions or value[x], not both")
	case !nested && !value:
		v.errorf("invariant", "", "ext-1: an extension must have either extensions or value[x]")
	}
}

// property checks the value of one JSON property: an array where the
// element repeats, a single value where it does not.
func (v *validator) property(c *child, key string, val any, m map[string]any) {
	v.push(key)
	defer v.pop()
	if val == nil {
		v.errorf("structure", "", "null is not allowed here")
		return
	}
	arr, isArray := val.([]any)
	if !c.el.IsArray() {
		if isArray {
			v.errorf("structure", "", "element does not repeat: expected a single value, not an array")
			return
		}
		v.value(c, val)
		return
	}
	if !isArray {
		v.errorf("structure", "", "element repeats: expected an array")
		return
	}
	switch {
	case len(arr) == 0:
		v.errorf("structure", "", "empty array is not allowed")
		return
	case c.el.Max > 1 && len(arr) > c.el.Max:
		v.errorf("structure", "", "too many items: at most "+strconv.Itoa(c.el.Max)+" allowed")
	case len(arr) < c.el.Min:
		v.errorf("required", "", "too few items: at least "+strconv.Itoa(c.el.Min)+" required")
	}
	var ext []any
	if c.kind == kindPrimitive {
		ext, _ = m["_"+key].([]any)
	}
	for i, item := range arr {
		v.index(i)
		if item == nil {
			if i < len(ext) && ext[i] != nil {
				continue // a value-less primitive with extensions
			}
			v.errorf("structure", "", "null is only allowed in a primitive array, aligned with an extension")
			continue
		}
		v.value(c, item)
	}
}

// value checks one (non-null, non-array) value of element c.
func (v *validator) value(c *child, val any) {
	switch c.kind {
	case kindPrimitive:
		if code, msg := checkPrimitive(c.prim, val); code != "" {
			v.errorf(code, "", msg)
			return
		}
		if c.bind == bindCode {
			if s, _ := val.(string); !c.vs.codes[s] {
				v.errorf("code-invalid", "", "code is not in the required value set "+c.vs.url)
			}
		}
		if v.checker != nil && len(c.el.Constraints) > 0 {
			v.constraints(c.el.Constraints, val, "")
		}
	case kindComplex:
		obj, ok := val.(map[string]any)
		if !ok {
			v.errorf("structure", "", "expected a JSON object ("+c.typ+")")
			return
		}
		v.object(c.next, obj)
		v.notOnlyID(obj)
		if c.targets != nil {
			v.reference(c, obj)
		}
		switch c.bind {
		case bindCoding:
			v.coding(c.vs, obj, "code")
		case bindCodeableConcept:
			v.codeableConcept(c.vs, obj)
		}
		if v.checker != nil {
			v.constraints(c.el.Constraints, obj, "")
			if c.next.typeName != "" {
				v.constraints(c.next.constraints, obj, "")
			}
		}
	case kindResource:
		obj, ok := val.(map[string]any)
		if !ok {
			v.errorf("structure", "", "expected a resource (JSON object)")
			return
		}
		if _, nested := obj["contained"]; nested && c.el.Name() == "contained" {
			v.errorf("invariant", "contained", "dom-2: a contained resource must not contain resources")
		}
		v.resource(obj, false)
	}
}

// primitiveExtension checks a property _name holding the id and extensions
// of the primitive element name: an object, or for repeating elements an
// array aligned with name's array, with null where an item has none.
func (v *validator) primitiveExtension(n *node, key string, val any, m map[string]any) {
	c := n.children[key[1:]]
	if c == nil || c.kind != kindPrimitive {
		v.errorf("structure", key, "unknown element")
		return
	}
	v.push(key)
	defer v.pop()
	if !c.el.IsArray() {
		obj, ok := val.(map[string]any)
		if !ok {
			v.errorf("structure", "", "expected a JSON object with id or extension")
			return
		}
		v.object(v.d.elementNode, obj)
		if _, hasValue := m[key[1:]]; !hasValue {
			v.notOnlyID(obj)
		}
		return
	}
	arr, ok := val.([]any)
	if !ok {
		v.errorf("structure", "", "element repeats: expected an array")
		return
	}
	if len(arr) == 0 {
		v.errorf("structure", "", "empty array is not allowed")
		return
	}
	values, hasValues := m[key[1:]].([]any)
	if hasValues && len(values) != len(arr) {
		v.errorf("structure", "", "must have as many items as "+key[1:])
	}
	for i, item := range arr {
		v.index(i)
		if item == nil {
			if i >= len(values) || values[i] == nil {
				v.errorf("structure", "", "null is only allowed when the aligned value is present")
			}
			continue
		}
		obj, ok := item.(map[string]any)
		if !ok {
			v.errorf("structure", "", "expected a JSON object with id or extension")
			continue
		}
		v.object(v.d.elementNode, obj)
		if i >= len(values) || values[i] == nil {
			v.notOnlyID(obj)
		}
	}
}

// notOnlyID enforces the part of ele-1 that an element with no value must
// have children other than its id.
func (v *validator) notOnlyID(obj map[string]any) {
	if _, ok := obj["id"]; ok && len(obj) == 1 {
		v.errorf("structure", "", "element has an id but no value or children")
	}
}

// reference checks that a literal reference names a resource type the
// element allows. Only relative ("Patient/1") and absolute RESTful
// references ("http://host/fhir/Patient/1", optionally with
// /_history/v) are checked; fragments, URNs and other URLs pass.
func (v *validator) reference(c *child, obj map[string]any) {
	ref, _ := obj["reference"].(string)
	typ := referenceType(ref)
	if typ == "" || !v.d.IsResourceType(typ) {
		return
	}
	if !c.targets[typ] {
		v.errorf("value", "reference", "reference to resource type "+typ+" is not allowed here")
	}
}

// referenceType returns the resource type of a RESTful literal reference,
// or "".
func referenceType(ref string) string {
	if ref == "" || ref[0] == '#' || strings.HasPrefix(ref, "urn:") {
		return ""
	}
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.IndexAny(ref, "?#"); i >= 0 {
		return "" // a search URL or fragment: not a plain reference
	}
	slash := strings.LastIndexByte(ref, '/')
	if slash <= 0 {
		return ""
	}
	typ := ref[:slash]
	if i := strings.LastIndexByte(typ, '/'); i >= 0 {
		typ = typ[i+1:]
	}
	return typ
}

// constraints evaluates invariants through the checker; focus is the value
// they apply to.
func (v *validator) constraints(cs []Constraint, focus any, child string) {
	for _, c := range cs {
		if structuralConstraints[c.Key] {
			continue
		}
		ok, err := v.checker.Check(c, v.resources[len(v.resources)-1], focus)
		switch {
		case err != nil:
			v.report(SeverityWarning, "invariant", child, c.Key+": could not be evaluated")
		case !ok:
			sev := SeverityError
			if c.Severity == "warning" {
				sev = SeverityWarning
			}
			v.report(sev, "invariant", child, c.Key+": "+c.Human)
		}
	}
}

// IssuesError turns validation issues into the error a write returns: nil
// when none has severity error, else a *custodian.Error with code EINVALID
// (the FHIR API answers 400: the resource fails the base R4 rules) that
// carries every issue, warnings included.
func IssuesError(issues []custodian.Issue) error {
	n := 0
	for _, is := range issues {
		if is.Severity == SeverityError {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	msg := "Resource is not valid FHIR R4: 1 problem."
	if n > 1 {
		msg = "Resource is not valid FHIR R4: " + strconv.Itoa(n) + " problems."
	}
	return &custodian.Error{Code: custodian.EINVALID, Message: msg, Issues: issues}
}
