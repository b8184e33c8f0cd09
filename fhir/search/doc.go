// Package search knows the FHIR R4 search parameters and extracts their
// index values from resources.
//
// Every SearchParameter of the R4 specification (definitions/, embedded) is
// compiled once: its FHIRPath expression is split into the branches that
// apply to each resource type. Branches that are plain paths (nearly all:
// Patient.name, Observation.subject.where(resolve() is Patient),
// (X.value as Quantity)) become plans that walk the JSON directly with every
// model lookup done at compile time; the few others run on package
// fhirpath. TestPlansMatchEngine checks that both give the same entries on
// every official example.
//
// Index turns a resource into typed store.IndexEntry values (token,
// reference, date, string, uri, number, quantity in UCUM base units, and
// two-part composites), plus the extra values some modifiers need: a
// token's display texts (:text), an identifier's type (:of-type), a
// reference's identifier (:identifier), a code's code system from the value
// set its element is bound to, and the narrative's words (_text). The store
// writes them in the same transaction as the resource.
package search
