// Package fhirpath evaluates FHIRPath expressions (FHIRPath 2.0 / N1, as profiled by
// FHIR R4 § 2.1.9) over FHIR resources held as decoded JSON.
//
// Custodian uses it to extract search-index values from every resource on every write
// (the R4 SearchParameter expressions), and for invariants. An expression is compiled
// once and evaluated many times; an [Expression] is immutable and safe for concurrent use:
//
//	expr, err := fhirpath.Compile("Observation.subject.where(resolve() is Patient)")
//	...
//	items, err := expr.Evaluate(ctx, resource, &fhirpath.Env{Model: model})
//	for _, it := range items {
//		_ = it.Type()  // "Reference"
//		_ = it.JSON()  // map[string]any{"reference": "Patient/123"}
//	}
//
// # Data model
//
// Resources are what encoding/json produces with Decoder.UseNumber: map[string]any,
// []any, string, json.Number, bool and nil. Primitive extensions are read from "_name"
// siblings (aligned by index for arrays), so Patient.birthDate.extension(url) works and a
// primitive that has only extensions is an item without a value (hasValue() is false).
//
// A [Model] supplies FHIR type information: the types of child elements (including choice
// elements such as Observation.value[x]), the type hierarchy for is/as/ofType, and which
// names are resources. Without a model the engine still works: types are inferred from
// the JSON (resourceType, choice-key suffixes such as valueQuantity, JSON kinds), which is
// enough for most search-parameter expressions but not for every type test.
//
// # Values
//
// Results are a [Collection] of [Item]s. Items taken from the resource keep their JSON
// value and FHIR type; computed values are System values: bool, int64, [Decimal] (exact,
// keeping its precision: 1.50 stays 1.50), string, [Temporal] (Date, DateTime, Time with
// precision and zone) and [Quantity] (with simple UCUM canonicalisation for comparison).
//
// # Errors
//
// [Compile] and [Expression.Evaluate] return *[Error] with a [ErrorKind] that matches the
// official test suite's classification (syntax, semantic, execution). Messages never
// include resource content.
//
// # Conformance
//
// The package passes all 935 tests of the official FHIRPath R4 suite (testdata, see
// TestOfficialSuite) and compiles all 1,375 R4 SearchParameter expressions. Not
// implemented: full static type checking (strict mode only catches unknown elements, as
// casts to a type without the element, and ordered functions on children()), terminology
// (memberOf needs Env.MemberOf), profile validation in conformsTo() beyond core types, and
// the full UCUM grammar (common clinical units and prefixes only).
package fhirpath
