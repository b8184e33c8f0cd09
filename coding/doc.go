// Package coding is the coder's workbench behind the encoder: code
// suggestion from clinical notes, claim edits, and the coding work queue.
//
// # Suggestion
//
// Suggester.Suggest reads a note (or an encounter's notes) and returns
// ranked ICD-10-CM diagnoses and ICD-10-PCS procedures, each with the
// byte spans of the text that support it. The note is cut into sections
// by its headings (principal and secondary diagnoses, assessment and plan,
// history of present illness, past medical, surgical, family and social
// history, procedures; medications, vitals, labs and the like are not
// read), then into sentences and list items. Within a sentence, markers in
// the manner of NegEx set how what follows is asserted: negated ("denies",
// "no evidence of", "... was ruled out"), history ("history of", "s/p"),
// family history, or uncertain ("probable", "suspected", "rule out").
// Phrases between markers are searched in the codeset's clinical-language
// search whole, then split at commas and at "and"/"or" when the whole does
// not match; hits are re-ranked for laterality and "with/without"
// conflicts. Negated mentions are dropped; uncertain ones are coded as
// established for inpatients and dropped for outpatients (Guidelines II.H,
// IV.H); family history becomes Z80–Z84; history of tobacco use Z87.891.
// The combination conventions (hypertension with heart failure or CKD,
// diabetes with CKD) and "most specific code" merges are applied to the
// whole, and for inpatients the principal diagnosis and a POA indicator are
// suggested.
//
// # Edits
//
// Check runs the edits a claim scrubber runs before a claim is sent, each
// a structured Edit (code, severity, message, codes concerned, fix): code
// validity on the date of service, the Medicare Code Editor edits from the
// codeset's MCE attributes, Excludes1 pairs, 7th characters, POA
// indicators, duplicates, a missing principal diagnosis.
//
// # Queue
//
// Queue works over the record store: the DNFB list (discharged, not final
// coded), the abstract of an encounter with live edits and MS-DRG, and
// Finalize, which writes the abstract as a FHIR Claim; productivity is
// computed from the Claims' history.
package coding
