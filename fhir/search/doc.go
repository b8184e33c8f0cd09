// Package search knows the FHIR R4 search parameters and extracts their
// index values from resources.
//
// Every SearchParameter of the R4 specification (definitions/, embedded) is
// compiled once: its FHIRPath expression is split into the branches that
// apply to each resource type and compiled with package fhirpath. Index
// evaluates the branches of a resource's type and turns the values into
// typed store.IndexEntry values (token, reference, date, string, uri), which
// the store writes in the same transaction as the resource.
package search
