// Package drg assigns Medicare Severity Diagnosis Related Groups (MS-DRG) to
// inpatient claims, following the CMS MS-DRG grouper's own definition tables
// for versions 41.0, 42.0, 43.0 and 43.1, which are embedded.
//
// The tables carry, per code, the attributes the DRG logic tests and, per
// MDC, DRG formulas written in a small boolean language; this package
// evaluates those formulas (it holds no table of answers). Grouping runs
// twice, as CMS's does: the initial DRG uses every secondary diagnosis, the
// final DRG leaves out the severity of hospital-acquired conditions that were
// not present on admission.
//
// The steps, in order: the principal diagnosis's validity and its MDC (some
// MDCs depend on the patient's sex); each secondary diagnosis's severity
// (CC or MCC) unless the principal diagnosis excludes it or the patient died
// and it only counts for the living; the claim-level facts (discharge status,
// multiple significant trauma, bilateral joints, stents and vessels, spinal
// fusion counts); the pre-MDC formulas (transplants, ECMO, tracheostomy, …,
// and the return-code formulas for an invalid or unacceptable principal
// diagnosis, sex or discharge status), with their reroutes to another MDC;
// then the formulas of the principal diagnosis's MDC in rank order, the first
// that holds giving the DRG; and the HAC logic with the POA indicators.
//
// Relative weights and length-of-stay figures are not part of the CMS
// grouper tables; a site can load its own (CMS "Table 5") with ReadWeights.
package drg

//go:generate go run ./internal/gentables -src ../../shared/data -out data
