// Package sqldb is the one SQL implementation of Custodian's stores. It is
// written once against database/sql; a Dialect carries what differs between
// engines (placeholders, locks, group commit). Packages sqldb/sqlite and
// sqldb/postgres open a database, run its migrations and return a *DB.
//
// Search is materialised at write time: the index entries of a resource are
// written to typed tables (token, string, date, reference, uri) in the same
// transaction as the resource, so a search is plain joins both engines run.
package sqldb
