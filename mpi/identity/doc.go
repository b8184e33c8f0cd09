// Package identity is the master patient index at work inside the record:
// the duplicate-candidate queue, merge and unmerge, "not a duplicate"
// decisions, overlay detection, HL7 v2 identity changes and the reports.
// Package mpi scores records; this package acts on the store.
//
// # Merge
//
// The user chooses the survivor. One store transaction then writes:
//
//   - every resource in the retired patient's compartment (found by a
//     compartment search over every type) as a new version whose
//     references to the retired patient point at the survivor instead:
//     the data moves, its history keeps where it was;
//   - the retired Patient with active false and a link of type
//     replaced-by to the survivor;
//   - the survivor with a link of type replaces to the retired patient,
//     and the retired patient's identifiers it lacks, marked use "old"
//     (as FHIR R5 Patient/$merge does), so a search by an old number
//     finds the record that lives on;
//   - a Task with code patient-merge (focus and for the survivor) whose
//     inputs list every resource changed with its pre-merge version
//     ("Observation/7/_history/2").
//
// Each write carries If-Match on the version read, so a change made while
// the merge was being planned fails the merge rather than being lost.
// Merging never happens automatically: a pair scored as a certain match is
// queued for a person like any other (two records that look the same may
// be twins).
//
// The merge is authorised as the user: they must be allowed to update
// Patient (the him-director is; a coder is not). The writes then run with
// the system's reach under the user's id, because the merge must move
// resources (observations, notes, sensitive records) the user could not
// write or see one by one; the audit trail names the user on the
// transaction's entry.
//
// # Unmerge
//
// Unmerge reads the merge Task and rewrites every resource it lists back
// to the content of its pre-merge version (so the retired patient's
// active flag, links and identifiers return exactly as they were), in one
// transaction, and records a patient-unmerge Task based on the merge. A
// resource changed since the merge (its current version is not the one
// the merge wrote) makes unmerge refuse with ECONFLICT naming it: its new
// content would be lost, so a person must decide.
//
// # Queue
//
// Watcher notes each Patient a write creates or updates; Sync scores them
// against the live mpi.Index and writes a duplicate-candidate Task for each
// pair in the review or automatic-link class (priority urgent for the
// latter), with the other patient, the match probability and the evidence
// per field as inputs. A pair is keyed by an identifier on its Task, so a
// pair whose Task exists in any state — open, merged or declared not a
// duplicate — is never queued again. NotDuplicate completes a candidate
// Task with businessStatus not-duplicate.
//
// An update that changes a patient's name and also their birth date or
// sex, on a patient who already has clinical data, may have written a
// second person over the first (an overlay): Sync writes a possible-overlay
// Task for it.
//
// # HL7 v2
//
// Service implements hl7v2.IdentityChanger: an A40 merges the patient
// holding the retired identifier into the one holding the surviving
// identifier (again a no-op once done, so a replay changes nothing); an
// A47 replaces the retired identifier of one patient by the surviving one,
// keeping the retired one marked use "old".
package identity
