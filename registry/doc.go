// Package registry keeps clinical registries (cancer, diabetes, stroke,
// and whatever a site defines): it finds each registry's cases in the
// record as data arrives and over history, keeps the registrars'
// decisions (accept with an abstraction form, or reject with a reason),
// schedules follow-up and lists the overdue, and exports a registry as
// CSV or as FHIR (a Group of the patients in a Bundle with each case).
//
// A registry is a Definition, written in JSON (definitions/*.json are the
// shipped ones, for a site to copy and change): criteria over the record
// (ICD-10-CM diagnosis and ICD-10-PCS procedure code sets with hierarchy,
// laboratory results, encounter classes) and a form whose fields are
// filled from the record (date of diagnosis, stage where documented,
// treatments, last contact, vital status, …) or by a registrar.
//
// The record is read through measure.Record, the in-memory projection
// that measures use; the cases are FHIR Tasks in the store (one per
// registry and patient, see TaskID), mirrored in memory by the Service's
// watcher, so no table of the registry's own is needed and every decision
// is versioned and audited like any other write.
package registry
