// Package ingest loads FHIR data in bulk into the store: NDJSON files (one
// resource a line, as Bulk Data exports write them; gzip-compressed or not),
// Bundle files (transaction, batch, collection, searchset) and directories
// of them, such as Synthea's output.
//
// It streams: NDJSON is read a line at a time, so memory stays flat
// whatever the size of a file. Lines are grouped into batches that several
// workers decode, validate and index in parallel and then write with one
// store call (store.PutBatch), so the store commits once per batch.
//
// Resources keep their ids: each is written as an update to its id that
// creates it when it does not exist and adds no version when it is
// unchanged. Loading the same data twice therefore changes nothing, which
// makes resuming safe: a checkpoint per input file records how far it is
// committed, a re-run skips that part, and any overlap is harmless. For the
// same reason a POST entry of a transaction or batch Bundle whose resource
// carries an id is loaded as a PUT to that id (Synthea's bundles are written
// this way), so re-importing a Bundle does not duplicate its resources.
//
// A record that cannot be loaded never stops the others: it is counted and
// written to the error report with where it was (file and line, or Bundle
// entry) and an OperationOutcome saying why. References may point at
// resources loaded later; at the end the references that still name nothing
// in the store are reported as dangling.
package ingest
