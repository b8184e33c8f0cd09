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
//	DIR/Claim.ndjson              the institutional claim of each coded stay (POA)
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
//     SystemMRN (https://custodian.example/fhir/mrn); SSNs under
//     http://hl7.org/fhir/sid/us-ssn in areas 900–999 (never issued as
//     SSNs), one per person, unique up to 98,990,100 people (see
//     identity.go); phone numbers in the unassigned 555 area code; e-mail
//     addresses at the reserved example.com/.net/.org, about a third
//     unrelated to the name.
//   - Households: some people live with another patient (spouse, parent
//     or child) at the same address and home phone; they are
//     FactNotDuplicate traps like twins. Overlays: a few visits are filed
//     under another person's record (FactOverlay).
//   - Config.PatientsOnly writes only the Patient resources (without
//     generalPractitioner and managingOrganization, so the file stands
//     alone) and the identity facts, for master patient index tests at
//     scale.
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
//     every note signed, and a resident's co-signed by an attending; an
//     operative note within 24 h of the procedure's end; required
//     encounter data (attending, admission source, discharge disposition);
//     dates in order; plausible vital signs; codes consistent with sex and
//     age and valid on the date of service; a signed discharge summary
//     that states every coded diagnosis and no uncoded one from chart
//     review's query terms. An amendment is a new DocumentReference whose
//     relatesTo replaces the original, which is marked superseded.
//   - Sensitive records carry meta.security labels: alcohol and opioid
//     use disorder diagnoses ETH and R, the substance use treatment
//     program's notes also 42CFRPart2, HIV diagnoses HIV and R,
//     psychotherapy notes PSYTHPN and R (v3 ActCode, v3 Confidentiality).
//   - Cancers on the problem list are staged (AJCC stage group):
//     Condition.stage.summary (SNOMED CT) citing an Observation with LOINC
//     21908-9.
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
// planted in notes, the expected coding (principal diagnosis, secondary
// diagnoses with present-on-admission, procedures) of every inpatient
// stay, overlays, transfers in and out and discharges against advice,
// sensitive resources, and cancer stages. Every stay whose discharge
// summary is on file has a Claim with that coding (ids "<patient
// id>-clm<n>", never the coder's own).
package synth
