// Package synth generates a synthetic hospital: people, their
// registrations, encounters, diagnoses and procedures coded in ICD-10-CM
// and ICD-10-PCS, vital signs and laboratory results, medications,
// allergies, imaging, consents and clinical notes — all valid FHIR R4 —
// together with the ground truth of what it injected for Custodian's HIM
// modules to score themselves against.
//
// # Use
//
//	w, _ := synth.NewDirWriter("out", false)
//	sum, err := synth.Generate(ctx, synth.Config{Patients: 1000, Seed: 1}, w)
//	err = w.Close()
//
// Generate hands every resource (compact JSON) and every Fact to a
// Writer, from one goroutine, in a fixed order; DirWriter writes the
// Bulk Data layout, Collector keeps everything in memory, Discard drops
// it (benchmarks). The same Config always produces byte-identical output,
// whatever Config.Workers is: each person is generated from random
// streams seeded by (Seed, person number), people are generated in
// parallel and written in order, and nothing depends on map order or the
// clock. Memory stays flat in Config.Patients.
//
// # Output layout (DirWriter)
//
//	DIR/Organization.ndjson       the hospital and its departments
//	DIR/Location.ndjson           a unit or clinic per department
//	DIR/Practitioner.ndjson       attendings and residents (NPI identifiers)
//	DIR/PractitionerRole.ndjson   role "attending" or "resident", NUCC specialty
//	DIR/Patient.ndjson            registrations (duplicates included)
//	DIR/Encounter.ndjson          inpatient (IMP), emergency (EMER), office (AMB)
//	DIR/Condition.ndjson          problem-list items and encounter diagnoses (ICD-10-CM)
//	DIR/Procedure.ndjson          ICD-10-PCS
//	DIR/Observation.ndjson        vital signs and laboratory results (LOINC, UCUM)
//	DIR/DiagnosticReport.ndjson   laboratory panels and radiology reports
//	DIR/ImagingStudy.ndjson       x-ray, CT, ultrasound, mammography (no pixels)
//	DIR/MedicationRequest.ndjson  RxNorm
//	DIR/AllergyIntolerance.ndjson
//	DIR/Consent.ndjson            informed consent before each operation
//	DIR/DocumentReference.ndjson  notes, text/plain base64 in content.attachment.data
//	DIR/ground-truth.ndjson       one Fact per line
//
// With gzip every name ends in .gz. References are literal "Type/id"
// between the files. Ids are deterministic: a Patient id is 16 opaque hex
// digits (so ids say nothing about which registrations are the same
// person); the person's other resources are "<patient id>-<kind><n>"
// under the person's first registration's id; shared resources are
// "org-", "loc-", "prac-" and "role-" ids with a prefix derived from the
// seed, so data sets made with different seeds can share a store.
//
// # Conventions
//
//   - Medical record numbers: Patient.identifier with type MR and system
//     SystemMRN (https://custodian.example/fhir/mrn); SSNs (999-xx-xxxx,
//     never issued) under http://hl7.org/fhir/sid/us-ssn; phone numbers in
//     the unassigned 555 area code.
//   - Dates are in the hospital's local time, UTC-05:00. Config.End is the
//     data's "as of" date: every inpatient stay ends at least 10 days
//     before it, so that its notes are in.
//   - A note's DocumentReference.date is when it was signed
//     (authenticated); content.attachment.creation is when it was written;
//     authenticator is the signer; a resident's note is signed (co-signed)
//     by the attending. An unsigned note has docStatus "preliminary" and no
//     authenticator. Operative and procedure notes name their Procedure in
//     context.related. A Consent names its Procedure in provision.data.
//   - Chart rules the data meets except where ground truth says otherwise:
//     an H&P signed within 24 h of admission (and before any operation);
//     a progress note on every calendar day strictly between the admission
//     and discharge days; an operative or procedure note and a prior
//     consent for every surgical Procedure (category 387713003); a
//     discharge (or death) summary signed within 30 days of discharge;
//     every note signed, and a resident's co-signed by an attending.
//   - Encounter diagnoses follow ICD-10-CM conventions: the principal (or
//     first-listed) diagnosis is the encounter's first Condition;
//     hypertension with heart failure or CKD is coded I11.0 / I12.9 /
//     I13.0, diabetes with CKD E11.22; long-term drug therapy and status Z
//     codes are added. Codes are consistent with age and sex (the MCE edits)
//     and valid for the whole default window (FY2023–FY2025).
//   - Notes mention the coded conditions in clinical language (HTN, T2DM,
//     CHF, …), with negated symptoms ("denies chest pain") that are never
//     among the patient's conditions. Patient names, MRNs, birth dates,
//     phone numbers and SSNs appear in notes only where planted, and every
//     planted one (and every age over 89) is a FactIdentifier with its
//     byte span. Practitioners' names appear and are not recorded.
//
// # Ground truth
//
// See Fact and the Fact*/Def*/Var*/Trap* constants: duplicate
// registrations (with how the second differs), look-alike different
// people (twins, junior/senior, namesakes), chart deficiencies,
// readmissions within 30 days (planned or not), deaths, identifiers
// planted in notes, and the expected coding (principal diagnosis,
// secondary diagnoses with present-on-admission, procedures) of every
// inpatient stay. Claims are not generated: coders make them.
package synth
