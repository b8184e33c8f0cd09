// Package roi is release of information: requests for a patient's records
// from the patient, a personal representative, an attorney, an insurer,
// another provider, an agency or a court; the authorizations behind them;
// the minimum-necessary selection checked against the authorization; the
// packet (a paginated PDF and the same content as a FHIR Bundle); and the
// accounting of disclosures a patient may ask for (45 CFR 164.528).
//
// # How it is stored
//
// Everything is FHIR in the record store, so it is versioned, searchable
// and audited like any record:
//
//   - A request is a Task with code release-of-information (TaskSystem).
//     Task.for is the patient, authoredOn the date received,
//     restriction.period.end the due date, restriction.recipient and the
//     inputs the requester (kind, name, address), the purpose (a v3
//     PurposeOfUse code in reasonCode), the legal basis, the authorization
//     (a Consent), the records asked for (date range, record types,
//     sensitive categories), the identity verification of a patient's own
//     request and the one extension. The queue status is businessStatus
//     (requested, in-review, fulfilled, denied, cancelled) with the Task
//     status beside it (requested, in-progress, completed, rejected,
//     cancelled). Once released, outputs name the packet, its SHA-256, the
//     record counts and the delivery (method, date, recipient).
//   - An authorization is a Consent (scope patient-privacy, category LOINC
//     64292-6 "Release of information consent"): provision.actor with role
//     IRCP is who may receive, provision.class the record types,
//     provision.dataPeriod the dates of the records, provision.period the
//     time the authorization is valid (its end is the expiry),
//     provision.securityLabel the sensitive categories it names and
//     provision.purpose the purposes. Revocation sets status inactive (the
//     history keeps when).
//   - The packet is two Binary resources whose content is kept in the
//     blob store (the PDF and the Bundle) and a DocumentReference
//     (category RoiPacket) with both as content; context.related pins the
//     exact versions released, so Regenerate rebuilds the same bytes
//     however the records have changed since.
//
// # The queue
//
// Page reads the queue a page at a time in due-date order: the store
// searches and sorts the requests (status, patient, due before a date),
// and only the page's requests are decoded. A request is due 30 days
// after it arrived, 60 once extended, so the queue is two searches sorted
// by the date received (extended requests carry a second businessStatus
// coding, ExtendedSystem) merged here. Counts gives the dashboard's
// figures by count-only searches.
//
// # Minimum necessary and sensitive records
//
// The packet is gathered by a system actor (which the store shows
// everything) and every record passes the request's grant: its type must be one
// the selection names, its date inside the selection's range, and a record
// in a sensitive category (Category: security labels, codes such as
// ICD-10-CM F10–F19 but F17 for substance use, document types, how the
// record is named, and the Encounter or Condition it belongs to, so an
// unlabelled note is recognised too) is admitted only when the selection
// names that category and the legal basis allows it (an authorization that
// names it; a patient's own request except psychotherapy notes; a court
// order). A record with a sensitive label no configured category covers is
// always left out. What is left out is counted by reason on the cover
// letter, never listed; records withheld for their sensitivity are counted
// under one general reason (ScopeReason), because naming the category
// would itself disclose it (42 CFR 2.13(c)). The Task keeps the detailed
// reasons for the specialist.
//
// # Accounting of disclosures
//
// The accounting lists, for up to six years back, the disclosures the rule
// asks for: releases whose legal basis is a court order or a law (public
// health, health oversight, law enforcement and the other 164.512
// purposes), Bulk Data exports by the API clients the site names as
// outside recipients (from the audit trail), and, when the site asks,
// break-the-glass access. Releases to the patient or a personal
// representative, for treatment, payment or health care operations, and
// those made under the patient's own authorization are excluded, as
// 164.528(a)(1) excludes them.
package roi
