// Package chart reviews patients' records for completeness, timeliness,
// accuracy and consistency, and keeps the deficiencies it finds as FHIR
// Tasks assigned to the responsible clinician.
//
// # Rules
//
// A RuleSet (rules.json, embedded as the shipped defaults) lists rules,
// each naming one built-in check (Check* constants), the encounter classes
// it applies to, its time limit, who owns its deficiencies, its title and
// what clears it; the set also says which note types count as which kind
// of document, which procedure categories are surgery, which practitioner
// roles are residents and attendings, the hospital's time zone, and how
// many days after discharge the record must be complete (CMS 42 CFR
// 482.24(c)(4)(viii): 30). A site's own set is the FHIR Library
// "chart-rules" (RulesLibraryID) with the JSON as its content, so every
// change is a new, audited version in the store; Reviewer.SetRules writes
// it, and the watcher picks up edits made through the API.
//
// The checks: history and physical within the limit of admission and
// before the first surgery; a progress note on each calendar day strictly
// between the admission and discharge days; an operative or procedure
// note naming each surgical Procedure (context.related); a consent naming
// it (provision.data) dated no later than its start; a discharge summary
// within the limit of discharge; every note authenticated, and a
// resident's co-signed by an attending; required encounter data
// (attending, admission source, discharge disposition); dates in order;
// results within plausible ranges; codes consistent with the patient's
// sex and age (the rule's code edits); codes valid on the date of service
// (through a CodeValidator, when one is set — the codeset package's);
// and consistency between the signed discharge summary and the coded
// diagnoses (see consistency.go), each raising a physician query.
//
// An operative note documented later than the rule's limit after its
// procedure ended, and a consent dated after its procedure began, are
// breaches that have ended (late-operative-note, late-consent).
//
// Amendments: a note that replaces another (DocumentReference.relatesTo
// code "replaces"; the original marked superseded) is judged in its
// place, and its deficiencies are keyed by the first version of the note,
// so an amendment that breaks what the original met — not signed
// (unsigned-amendment), or signed by a resident alone — reopens the
// original's Task rather than opening a new one.
//
// Timing: a note counts from when it was signed, or, while unsigned, from
// when it was written (the authentication rule chases the signature). An
// unmet rule is raised once it is due or the patient has been discharged
// (when the record is analysed); a rule met late is recorded as a breach
// that has already ended (a "late-…" kind, its Task completed).
//
// # Evaluation
//
// Index holds what the rules read, decoded into small structs. Reviewer
// builds it from the store (Load), keeps it current from the store's
// watcher (Watcher: index the new versions, queue the affected
// encounters — no I/O in the writer's goroutine), and evaluates queued
// encounters (Run, every Delay; or Sync) or every encounter discharged in
// a range (Review, ReviewDays). Changes are written as Tasks with
// PutBatch as the system actor. See task.go for the Task's shape.
//
// # Kept between starts
//
// With Reviewer.Facts set (chart/chartdb: tables chart_fact and
// chart_state, migration 0014), what the index keeps of each resource,
// and each chart Task as stored, is saved as a compact fact (fact.go) with
// its version, beside the store's change position the facts reflect. A
// start reads the facts and then only the versions written after the
// saved position (Replay, kept a margin behind, since PostgreSQL hands out
// positions before commit), reading each changed resource's current
// version. The whole record is read instead at a first start, when the
// facts' format differs (factsVersion, the decoded shapes, or what the
// rules say the index keeps: ranges, surgical categories, summary types),
// when a fact is unreadable, or when more than a third of the store's
// history was written since. Run saves every SaveInterval, after SaveAfter
// changes and when it stops; each save first takes in what the change
// feed has that the watcher was not told of (another process's writes).
// Crash safety: the state moves only in the transaction of the last facts
// it covers, so a crash before a save leaves the earlier position and the
// next start reads the unsaved writes again.
//
// # Queues and reports
//
// Queue (the analyst's, filtered by kind, service, owner, class),
// ClinicianList, Delinquency (per month: discharges, delinquent records at
// month end and their rate against the average monthly discharges, and
// the trend of deficiencies raised and cleared), and Tallies per
// clinician.
package chart
