package fhirpath

// Model is the FHIR type information the engine needs to navigate choice elements, to
// give items their FHIR types, and to answer is/as/ofType. Package fhir's Definitions
// can satisfy it through a small adapter; tests build one from the R4 StructureDefinitions.
//
// Type names are FHIR type names ("HumanName", "Patient", "code"). Backbone elements
// (elements defined inline, such as Patient.contact) are named by their element path
// ("Patient.contact"), and contentReference elements name the path they refer to
// (Questionnaire.item.item has type "Questionnaire.item").
type Model interface {
	// Element describes the child element name of the type or backbone path parent,
	// including inherited elements (Patient has id, meta, extension, ...). For a choice
	// element, name is given without "[x]" ("value"), Choice is true and Types lists the
	// allowed types. ok is false if parent has no such element. It is called on every
	// navigation step, so it should be two map lookups, not a search.
	Element(parent, name string) (info ElementInfo, ok bool)
	// BaseType returns the type that typ specialises ("Age" → "Quantity", "Patient" →
	// "DomainResource", "code" → "string", a backbone path → "BackboneElement"), or "" at
	// the root of the hierarchy or for an unknown type.
	BaseType(typ string) string
	// Kind classifies a type name; KindUnknown if the model does not define it. The
	// abstract Resource and DomainResource are KindResource.
	Kind(typ string) TypeKind
}

// ElementInfo is what a [Model] knows about one child element.
type ElementInfo struct {
	Types  []string // the element's type(s); several only for a choice element
	Choice bool     // a choice element (value[x]); the JSON key is name + capitalised type
}

// TypeKind classifies the types of a [Model].
type TypeKind uint8

// Kinds of type.
const (
	KindUnknown   TypeKind = iota
	KindPrimitive          // FHIR primitive types: boolean, string, code, date, ...
	KindComplex            // data types: HumanName, Quantity, ...
	KindResource           // resources, including abstract Resource and DomainResource
	KindBackbone           // inline backbone elements, named by path
)

// fhirPrimitiveBase is the FHIR R4 primitive type hierarchy, used when no model is
// supplied (it is part of the FHIR specification, not of any particular model).
var fhirPrimitiveBase = map[string]string{
	"boolean": "", "integer": "", "string": "", "decimal": "", "uri": "", "base64Binary": "",
	"instant": "", "date": "", "dateTime": "", "time": "", "xhtml": "",
	"code": "string", "id": "string", "markdown": "string",
	"url": "uri", "canonical": "uri", "oid": "uri", "uuid": "uri",
	"positiveInt": "integer", "unsignedInt": "integer",
}

// choiceDataTypes are the R4 data types a choice element ([x]) may take, besides the
// primitives; without a model they tell a choice key (valueQuantity) from an ordinary
// element that shares a prefix (performerType is not performer[x]).
var choiceDataTypes = map[string]bool{
	"Address": true, "Age": true, "Annotation": true, "Attachment": true, "CodeableConcept": true,
	"Coding": true, "ContactDetail": true, "ContactPoint": true, "Contributor": true, "Count": true,
	"DataRequirement": true, "Distance": true, "Dosage": true, "Duration": true, "Expression": true,
	"HumanName": true, "Identifier": true, "Meta": true, "Money": true, "ParameterDefinition": true,
	"Period": true, "Quantity": true, "Range": true, "Ratio": true, "Reference": true,
	"RelatedArtifact": true, "SampledData": true, "Signature": true, "Timing": true,
	"TriggerDefinition": true, "UsageContext": true,
}

// quantityTypes are the FHIR types that behave as a System.Quantity.
var quantityTypes = map[string]bool{
	"Quantity": true, "Age": true, "Count": true, "Distance": true, "Duration": true,
	"SimpleQuantity": true, "MoneyQuantity": true,
}

// baseType returns the base of typ using the model, or the built-in primitive hierarchy.
func baseType(m Model, typ string) string {
	if m != nil {
		if b := m.BaseType(typ); b != "" {
			return b
		}
	}
	if b, ok := fhirPrimitiveBase[typ]; ok {
		return b
	}
	switch {
	case quantityTypes[typ] && typ != "Quantity":
		return "Quantity"
	}
	return ""
}

// isKnownFHIRType reports whether name is a FHIR type (with the model when there is one).
func isKnownFHIRType(m Model, name string) bool {
	if _, ok := fhirPrimitiveBase[name]; ok {
		return true
	}
	if m != nil {
		return m.Kind(name) != KindUnknown
	}
	// Without a model, any capitalised name may be a FHIR complex type or resource.
	return name != "" && name[0] >= 'A' && name[0] <= 'Z' && (!systemTypes[name] || quantityTypes[name])
}

var systemTypes = map[string]bool{
	"Boolean": true, "String": true, "Integer": true, "Long": true, "Decimal": true, "Date": true,
	"DateTime": true, "Time": true, "Quantity": true, "Any": true,
}
