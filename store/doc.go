// Package store is Custodian's versioned FHIR resource store: create, read,
// vread, update, patch and delete (each plain or conditional), history,
// search, and transaction and batch bundles.
//
// Store holds the FHIR rules (ids, versions, meta, preconditions, reference
// rewriting in transactions) once; a Backend (package sqldb, one per engine)
// only keeps rows. Every change is a new version: an update never overwrites
// and a delete is a version too, so the whole history of a record stays.
package store
