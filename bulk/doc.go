// Package bulk runs FHIR Bulk Data exports ($export, Bulk Data Access IG
// v2): a client kicks off a job, a background worker writes the resources
// the job asks for into NDJSON files, one set of files per resource type,
// and the client polls the job's status until the manifest lists the files
// to download. Files expire (24 hours by default) and are removed.
//
// A job is a row in the database (Jobs, implemented by package sqldb), not
// state in memory: a job survives a restart of the server and continues,
// type by type, on whichever node takes its lease next. The files are
// written under a directory (Exporter.Dir, by default
// <data directory>/export). With several Custodian nodes on one PostgreSQL
// database that directory must be shared storage (an NFS or similar mount
// at the same path on every node): any node may run a job, and any node may
// be asked for its files. Keeping the files in the database instead would
// make every export double the database's write volume and its backups;
// a shared directory is what large hospital exports (hundreds of GB)
// need anyway.
//
// The worker reads through the store as the requester (the actor is kept
// with the job): the same authorisation as a search, sensitive records left
// out unless the requester may see them. Each page it reads is bounded by
// bytes as well as by count, and pages are written out as they arrive, so
// memory stays flat however large the export. The audit trail gets one
// entry per job (when it ends, or when its kick-off is refused) and one per
// file downloaded, in the requester's name.
package bulk
