package fhirpath

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Collection is the result of a FHIRPath expression: an ordered list of items.
type Collection []Item

// Item is one element of a [Collection]. It is either a node of the input resource (a
// FHIR primitive or complex value, with its FHIR type when known) or a System value
// computed by the expression (Boolean, Integer, Decimal, String, Date, DateTime, Time,
// Quantity).
type Item struct {
	typ string         // FHIR type name or backbone path ("Patient.contact"); "" for a System value
	val any            // JSON value (map[string]any, string, json.Number, bool), or a System value
	ext map[string]any // the "_name" sibling of a FHIR primitive, if any
}

// systemItem wraps a Go value (bool, int64, Decimal, string, Temporal, Quantity).
func systemItem(v any) Item { return Item{val: v} }

// NewItem wraps a JSON value (as produced by encoding/json with UseNumber) of the given
// FHIR type; typ may be "" to infer the type from the value.
func NewItem(value any, typ string) Item {
	if typ == "" {
		typ = inferType(value)
	}
	return Item{typ: typ, val: value}
}

// Type returns the item's type name: a FHIR type ("string", "HumanName", "Patient") for
// nodes of the input, or a System type ("System.Integer") for computed values.
func (it Item) Type() string {
	if it.typ != "" {
		if strings.IndexByte(it.typ, '.') >= 0 {
			return "BackboneElement"
		}
		return it.typ
	}
	switch it.val.(type) {
	case bool:
		return "System.Boolean"
	case int64:
		return "System.Integer"
	case Decimal:
		return "System.Decimal"
	case string:
		return "System.String"
	case Quantity:
		return "System.Quantity"
	case Temporal:
		switch it.val.(Temporal).Kind {
		case KindDate:
			return "System.Date"
		case KindTime:
			return "System.Time"
		}
		return "System.DateTime"
	}
	return "System.Any"
}

// JSON returns the underlying JSON value of a node (map[string]any for complex values,
// string/json.Number/bool for primitives, nil for a primitive that only has extensions).
// For a System value it returns a JSON-compatible rendering: bool, json.Number or string.
func (it Item) JSON() any {
	if it.typ != "" {
		return it.val
	}
	switch v := it.val.(type) {
	case int64:
		return json.Number(strconv.FormatInt(v, 10))
	case Decimal:
		return json.Number(v.String())
	case Temporal:
		return v.String()
	case Quantity:
		return map[string]any{"value": json.Number(v.Value.String()), "unit": v.Unit, "system": "http://unitsofmeasure.org", "code": v.Unit}
	}
	return it.val
}

// Extensions returns the primitive extension object ("_name" sibling), or nil.
func (it Item) Extensions() map[string]any { return it.ext }

// Value returns the item as a Go value: bool, int64, Decimal, string, Temporal or
// Quantity for primitives and System values, map[string]any for complex nodes, nil for a
// primitive without a value.
func (it Item) Value() any {
	v, _ := it.system()
	if v == nil && it.typ != "" {
		if m, ok := it.val.(map[string]any); ok {
			return m
		}
	}
	return v
}

// String formats a primitive or System value as FHIRPath's toString() does.
func (it Item) String() string {
	s, _ := toStringValue(it)
	return s
}

// system converts the item to its System value; ok is false for complex nodes
// (except Quantity-like nodes, which convert to Quantity) and primitives without value.
func (it Item) system() (any, bool) {
	if it.typ == "" {
		return it.val, true
	}
	switch v := it.val.(type) {
	case nil:
		return nil, false
	case bool:
		return v, true
	case json.Number:
		if isIntegerType(it.typ) || it.typ == "" {
			if n, err := v.Int64(); err == nil {
				return n, true
			}
		}
		d, err := parseDecimal(string(v))
		if err != nil {
			return nil, false
		}
		return d, true
	case float64:
		d, err := parseDecimal(strconv.FormatFloat(v, 'f', -1, 64))
		return d, err == nil
	case int:
		return int64(v), true
	case int64:
		return v, true
	case string:
		switch it.typ {
		case "date", "dateTime", "instant":
			t, err := parseDateTime(v)
			if err != nil {
				return nil, false
			}
			if it.typ != "date" && t.Kind == KindDate {
				t.Kind = KindDateTime
			}
			return t, true
		case "time":
			t, err := parseTime(v)
			return t, err == nil
		}
		return v, true
	case map[string]any:
		if quantityTypes[it.typ] || it.typ == "Quantity" {
			return nodeQuantity(v)
		}
		return nil, false
	}
	return it.val, true
}

// isComplex reports whether the item is a complex node (not a primitive or System value).
func (it Item) isComplex() bool {
	_, ok := it.val.(map[string]any)
	return ok && it.typ != ""
}

func isIntegerType(t string) bool {
	return t == "integer" || t == "positiveInt" || t == "unsignedInt" || t == "integer64"
}

// nodeQuantity converts a FHIR Quantity node to a System Quantity.
func nodeQuantity(m map[string]any) (any, bool) {
	n, ok := m["value"].(json.Number)
	if !ok {
		return nil, false
	}
	d, err := parseDecimal(string(n))
	if err != nil {
		return nil, false
	}
	unit, _ := m["code"].(string)
	if unit == "" {
		unit, _ = m["unit"].(string)
	}
	return Quantity{Value: d, Unit: unit}, true
}

// inferType guesses a FHIR type from a JSON value when there is no model.
func inferType(v any) string {
	switch v := v.(type) {
	case map[string]any:
		if rt, ok := v["resourceType"].(string); ok {
			return rt
		}
		return "Element"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		if strings.ContainsAny(string(v), ".eE") {
			return "decimal"
		}
		return "integer"
	case float64:
		return "decimal"
	}
	return "Element"
}

// choiceSuffixType turns the suffix of a choice key ("Quantity", "String", "DateTime")
// into a type name, consulting the allowed types when known.
func choiceSuffixType(suffix string, allowed []string) string {
	for _, t := range allowed {
		if len(t) == len(suffix) && t[1:] == suffix[1:] && (t[0] == suffix[0] || t[0]+'a'-'A' == suffix[0] || t[0] == suffix[0]+'a'-'A') {
			return t
		}
	}
	lower := strings.ToLower(suffix[:1]) + suffix[1:]
	if _, ok := fhirPrimitiveBase[lower]; ok {
		return lower
	}
	return suffix
}

// isResourceNode reports whether a JSON object is a resource.
func isResourceNode(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	rt, ok := m["resourceType"].(string)
	return rt, ok
}
