// Package fhir is Custodian's model of FHIR R4 (4.0.1): which resources and
// datatypes exist, what elements they have, and whether a resource is valid.
//
// Resources are handled as the JSON trees encoding/json produces with
// Decoder.UseNumber (map[string]any, []any, string, json.Number, bool,
// nil); there are no generated structs. The structure model comes from the
// official R4 StructureDefinitions, distilled by internal/gendefs into
// definitions/r4.json.gz and embedded in the binary (see
// definitions/PROVENANCE.md). R4 returns the decoded, precompiled
// definitions, shared and immutable.
//
// # Structure model
//
// A TypeRef names something with children: a type ("Patient", "HumanName")
// or a backbone element defined inline ("Observation.component"). Child
// resolves a JSON property name against it, which is what a FHIRPath engine
// or a search indexer needs to walk a resource:
//
//	defs := fhir.R4()
//	c, _ := defs.Child("Observation", "valueQuantity")
//	// c.Element.Path == "Observation.value[x]", c.Type == "Quantity", c.Ref == "Quantity"
//	c, _ = defs.Child("Observation", "component")
//	// c.Type == "BackboneElement", c.Ref == "Observation.component"
//	c, _ = defs.Child("Questionnaire.item", "item")
//	// contentReference: c.Ref == "Questionnaire.item"
//
// Choice resolves a FHIRPath name of a choice element ("effective") to its
// JSON names and types; Element looks up an element by its definition path
// ("Observation.value[x]"); Elements lists a TypeRef's elements.
// IsResourceType, ResourceTypes, IsPrimitive, Type and IsSubtype answer
// questions about types.
//
// # Validation
//
// Definitions.Validate reports every problem in a resource as a
// custodian.Issue with a FHIRPath-style path (Patient.name[0].given[1]) and
// an OperationOutcome issue type: structure (unknown elements, wrong JSON
// kind, arrays versus single values, empty objects, arrays or nulls,
// misaligned primitive extensions), required (missing elements), value
// (primitive formats, references to resource types the element does not
// allow), code-invalid (codes outside an enumerable required
// value set) and invariant (ext-1, dom-2). Paths name JSON properties, so a
// primitive's extension object appears as Patient._birthDate; a resource
// whose resourceType is missing or unknown is reported at the path
// "Resource". Every issue has severity error except those a
// ConstraintChecker reports as warnings.
//
// The regular expressions of the R4 primitive types are written out by
// hand (dates are also checked against month lengths), and all lookups are
// precompiled into maps when the definitions load, so validation costs a
// few microseconds per resource and allocates almost nothing.
//
// FHIRPath invariants (constraints) are in the definitions but are not
// evaluated by Validate; ValidateWith takes a ConstraintChecker that does.
package fhir

//go:generate go run ./internal/gendefs -src ../../shared/data/fhir-r4 -out definitions/r4.json.gz
