// Package deid writes de-identified copies of the record store: NDJSON per
// resource type with the 18 HIPAA Safe Harbor identifiers of 45 CFR
// 164.514(b)(2) removed or generalised, or a limited data set
// (164.514(e)) that keeps dates and town, state and ZIP code under a
// data-use agreement.
//
// What each method does to a resource:
//
//   - ids and references are replaced by keyed pseudonyms (HMAC-SHA256),
//     the same for the same resource everywhere, so a patient's records
//     still link inside the export; the key never goes into the output;
//   - names (HumanName), telecom (phone, fax, email, URLs), photos and
//     the display text of references are removed; identifiers that are
//     direct identifiers (SSN, MRN, health plan, account, licence, device
//     and vehicle numbers) are removed and the others pseudonymised;
//   - addresses keep only the state and country, and the first three
//     digits of the ZIP code where the three-digit area has more than
//     20,000 people ("000" for the restricted list); a limited data set
//     keeps city, state and ZIP code;
//   - dates keep only their year, or with date shifting move by a keyed,
//     per-patient number of days (so intervals inside one patient's record
//     are kept); a birth date that shows an age over 89 is removed and
//     the person (contained ones too) marked as aged 90 or over, and any
//     other date more than 89 years back is removed, its year alone
//     showing such an age;
//   - free text (narratives, notes kept as text attachments, annotations,
//     CodeableConcept.text, Coding.display, valueString, descriptions,
//     titles, and every other string that is not a code, URI or other
//     machine value) is scrubbed of names (every name of a patient,
//     relative or practitioner in the record, and titled names), dates in
//     the forms people write them (2024-03-14, 3/14/2024, 3/14/24,
//     03-14-2024, 3/14, March 14, 14 Mar, March 2024), street addresses,
//     ZIP codes, phone numbers, SSNs, record numbers and other long
//     numbers, emails, URLs and IP addresses, and ages over 89 (92-year-old,
//     92 y.o., 92yo, aged 92, in her 90s, ninety-two years) become "90+";
//     a reference's display, and a display with no code, are removed;
//   - with ExcludeSensitive, resources labelled sensitive, and unlabelled
//     ones in the site's sensitive categories by their codes, document
//     type or name (roi.Sensitive), are left out;
//   - attachment content that is not text (images may show faces or
//     burned-in text) and Binary resources are dropped and counted.
//
// Reading is page by page through the store's bulk export reader, as the
// actor of the context (so access rules and sensitive labels apply), and
// the export is recorded in the audit trail as an export of every
// patient's record. Memory is bounded by the page size and the
// vocabulary of names and places, whatever the size of the store.
package deid
