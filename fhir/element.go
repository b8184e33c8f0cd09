package fhir

import (
	"fmt"
	"slices"
	"strings"
)

// TypeRef names something that has child elements: a type name such as
// "Patient" or "HumanName", or the path of a backbone element defined inline
// in a type, such as "Observation.component" or "Timing.repeat".
type TypeRef string

// Unbounded is the Max of an element that may repeat without limit ("*").
const Unbounded = -1

// Element is the definition of one element of a type, taken from the
// StructureDefinition snapshot. Values returned by Definitions share their
// slices with the definitions; they must not be modified.
type Element struct {
	// Path is the element's path in its type's definition, e.g.
	// "Observation.value[x]" or "Observation.component.code".
	Path string
	// Min and Max are the cardinality; Max is Unbounded for "*".
	Min, Max int
	// Types are the allowed type codes: one, except for choice elements.
	// Elements defined inline have BackboneElement or Element, and elements
	// with a ContentRef have the type of the element they refer to.
	Types []string
	// Targets are the resource types (or profile names) a Reference or
	// canonical may point to; empty means any.
	Targets []string
	// ContentRef is the path of the element whose definition this element
	// reuses, e.g. "Questionnaire.item" for Questionnaire.item.item.
	ContentRef string
	// Binding is the URL of the value set this element is bound to with
	// required strength, without a version; empty if none.
	Binding string
	// Constraints are the FHIRPath invariants declared on this element.
	Constraints []Constraint
}

// Name is the last segment of the path, e.g. "value[x]" or "given".
func (e *Element) Name() string { return e.Path[strings.LastIndexByte(e.Path, '.')+1:] }

// IsChoice reports whether the element is a choice of types (value[x]).
func (e *Element) IsChoice() bool { return strings.HasSuffix(e.Path, "[x]") }

// IsArray reports whether the element may repeat, so that its JSON form is
// always an array.
func (e *Element) IsArray() bool { return e.Max != 1 && e.Max != 0 }

// Child is a JSON property name resolved against its parent's definition.
type Child struct {
	// Name is the JSON property name, e.g. "valueQuantity".
	Name string
	// Element is the definition of the element; for the JSON name
	// "valueQuantity" it is the element "value[x]".
	Element Element
	// Type is the concrete type of the value: "Quantity" for valueQuantity,
	// the single type of an ordinary element, "BackboneElement" or
	// "Element" for elements defined inline, and "Resource" for contained
	// and other resource-valued elements (their type is in resourceType).
	Type string
	// Ref is where to continue a lookup of the value's own children: the
	// type name for complex types and resources, the backbone path for
	// inline elements (following a contentReference), and empty for
	// primitives and "Resource".
	Ref TypeRef
}

// Child resolves the JSON property jsonName of a value of parent. For a
// choice element the name carries the type (valueQuantity, valueString).
// Primitive-extension names ("_given") are not resolved; strip the
// underscore to find the primitive element. It reports false when parent
// is unknown or has no such element.
func (d *Definitions) Child(parent TypeRef, jsonName string) (Child, bool) {
	n, ok := d.nodes[parent]
	if !ok {
		return Child{}, false
	}
	c, ok := n.children[jsonName]
	if !ok {
		return Child{}, false
	}
	return c.public(jsonName), true
}

func (c *child) public(jsonName string) Child {
	out := Child{Name: jsonName, Element: *c.el, Type: c.typ}
	if c.next != nil {
		out.Ref = c.next.ref
	}
	return out
}

// Choice resolves a FHIRPath name of a choice element ("value" for
// value[x]) to one Child per allowed type, in definition order, each with
// the JSON name that carries that type (valueQuantity, valueString, ...).
// It reports false when parent has no choice element of that name.
func (d *Definitions) Choice(parent TypeRef, name string) ([]Child, bool) {
	n, ok := d.nodes[parent]
	if !ok {
		return nil, false
	}
	keys, ok := n.choiceKeys[name]
	if !ok {
		return nil, false
	}
	out := make([]Child, len(keys))
	for i, k := range keys {
		out[i] = n.children[k].public(k)
	}
	return out, true
}

// Element returns the element at path, as written in the definitions:
// "Observation.value[x]", "Observation.component.code".
func (d *Definitions) Element(path string) (Element, bool) {
	e, ok := d.elements[path]
	if !ok {
		return Element{}, false
	}
	return *e, true
}

// Elements lists the elements directly under parent, in definition order.
// It returns nil when parent is unknown or primitive.
func (d *Definitions) Elements(parent TypeRef) []Element {
	n, ok := d.nodes[parent]
	if !ok {
		return nil
	}
	out := make([]Element, len(n.elements))
	for i, e := range n.elements {
		out[i] = *e
	}
	return out
}

// node is the precompiled form of a TypeRef.
type node struct {
	ref      TypeRef
	typeName string // set for type roots; empty for backbone elements
	elements []*Element
	children map[string]*child // by JSON name, choice variants expanded
	required []required
	// choiceKeys maps a choice element's FHIRPath name ("value") to its
	// JSON names, in type order.
	choiceKeys  map[string][]string
	isResource  bool
	isExtension bool
	constraints []Constraint // of the type and its bases, for type roots
}

// required is an element with min > 0 and the JSON names that satisfy it.
type required struct {
	el   *Element
	keys []string
}

type childKind uint8

const (
	kindComplex childKind = iota
	kindPrimitive
	kindResource
)

type bindKind uint8

const (
	bindNone bindKind = iota
	bindCode
	bindCoding
	bindCodeableConcept
)

// child is a precompiled JSON property of a node.
type child struct {
	el     *Element
	typ    string
	kind   childKind
	prim   primKind
	next   *node
	vs     *valueSet
	bind   bindKind
	choice bool
	// targets are the resource types a Reference may point to; nil for any.
	targets map[string]bool
}

type valueSet struct {
	url      string
	codes    map[string]bool            // every code, any system
	bySystem map[string]map[string]bool // system -> codes
}

// builder assembles nodes from the flat element lists.
type builder struct {
	d      *Definitions
	byPath map[string]*Element
}

func newBuilder(d *Definitions) *builder {
	return &builder{d: d, byPath: make(map[string]*Element, 8192)}
}

func (b *builder) node(ref TypeRef) *node {
	n, ok := b.d.nodes[ref]
	if !ok {
		n = &node{ref: ref, children: map[string]*child{}}
		b.d.nodes[ref] = n
	}
	return n
}

func (b *builder) add(e *Element) {
	b.byPath[e.Path] = e
	parent := e.Path[:strings.LastIndexByte(e.Path, '.')]
	n := b.node(TypeRef(parent))
	n.elements = append(n.elements, e)
}

func (b *builder) finish() error {
	d := b.d
	d.elements = b.byPath
	for _, n := range d.nodes {
		if n.typeName != "" {
			t := d.types[n.typeName]
			n.isResource = t.Kind == KindResource
			n.isExtension = n.typeName == "Extension"
			for t != nil {
				n.constraints = append(n.constraints, t.Constraints...)
				t = d.types[t.Base]
			}
		}
		for _, e := range n.elements {
			if e.ContentRef != "" {
				target, ok := b.byPath[e.ContentRef]
				if !ok {
					return fmt.Errorf("%s: unknown contentReference %q", e.Path, e.ContentRef)
				}
				e.Types = target.Types
			}
			if len(e.Types) == 0 {
				return fmt.Errorf("%s: no type", e.Path)
			}
			if err := b.addChildren(n, e); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b *builder) addChildren(n *node, e *Element) error {
	name := e.Name()
	choice := e.IsChoice()
	var keys []string
	for _, typ := range e.Types {
		key := name
		if choice {
			key = strings.TrimSuffix(name, "[x]") + choiceSuffix(typ)
		}
		c, err := b.child(e, typ)
		if err != nil {
			return err
		}
		c.choice = choice
		n.children[key] = c
		keys = append(keys, key)
		if !choice {
			break
		}
	}
	if choice {
		if n.choiceKeys == nil {
			n.choiceKeys = map[string][]string{}
		}
		n.choiceKeys[strings.TrimSuffix(name, "[x]")] = keys
	}
	if e.Min > 0 {
		n.required = append(n.required, required{el: e, keys: keys})
	}
	return nil
}

func (b *builder) child(e *Element, typ string) (*child, error) {
	d := b.d
	c := &child{el: e, typ: typ}
	switch {
	case typ == "Resource":
		c.kind = kindResource
	case d.nodes[TypeRef(e.Path)] != nil && len(d.nodes[TypeRef(e.Path)].elements) > 0:
		c.next = d.nodes[TypeRef(e.Path)] // inline backbone element
	case e.ContentRef != "":
		c.next = d.nodes[TypeRef(e.ContentRef)]
	default:
		t, ok := d.types[typ]
		if !ok {
			return nil, fmt.Errorf("%s: unknown type %q", e.Path, typ)
		}
		if t.Kind == KindPrimitive {
			c.kind, c.prim = kindPrimitive, t.prim
		} else {
			c.next = d.nodes[TypeRef(typ)]
		}
	}
	if c.kind == kindComplex && c.next == nil {
		return nil, fmt.Errorf("%s: no definition for %q", e.Path, typ)
	}
	if typ == "Reference" && len(e.Targets) > 0 && !slices.Contains(e.Targets, "Resource") {
		c.targets = make(map[string]bool, len(e.Targets))
		for _, t := range e.Targets {
			c.targets[t] = true
		}
	}
	if e.Binding != "" {
		c.vs = d.valueSets[e.Binding]
		switch {
		case c.vs == nil:
		case typ == "Coding":
			c.bind = bindCoding
		case typ == "CodeableConcept":
			c.bind = bindCodeableConcept
		case c.kind == kindPrimitive:
			c.bind = bindCode
		}
	}
	return c, nil
}
