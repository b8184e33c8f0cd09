// Package codeset holds the coding classifications a coder works with —
// ICD-10-CM (diagnoses) and ICD-10-PCS (inpatient procedures) — with their
// hierarchy, tabular instructions, validity by date of service and Medicare
// Code Editor (MCE) attributes, and searches them in clinical language.
//
// The code sets are embedded in the binary (data/, see data/PROVENANCE.md)
// and read by Load. Each system is a CodeSystem; a code is a Concept. A
// Concept's notes follow the ICD-10-CM tabular conventions: instructional
// notes (includes, excludes1, excludes2, code first, use additional code,
// code also, notes, 7th characters) written at a chapter, block, category or
// subcategory apply to every code below it, while inclusion terms belong to
// the code they are written under.
//
// Dates of service are Dates (YYYYMMDD). Validity comes from the CMS MCE
// code masters, which date every reportable code back to FY2016; titles and
// notes are those of the FY2025 edition (codes added in FY2026 have no title
// in the public source data and say so).
//
// The embedded files are made by internal/gencodes from /work/shared/data:
//
//go:generate go run ./internal/gencodes -src ../../shared/data -out data
package codeset
