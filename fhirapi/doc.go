// Package fhirapi serves the FHIR R4 REST API over the store: create, read,
// vread, update, patch, delete (plain and conditional), history, search,
// transaction and batch bundles, and the CapabilityStatement.
//
// Handlers are thin: they parse the request, call the store and render the
// result. Every error becomes an OperationOutcome with the status its code
// maps to (see status.go); nothing a client sends ever produces a 500 unless
// something inside Custodian went wrong.
package fhirapi
