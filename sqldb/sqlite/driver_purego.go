//go:build !cgo

package sqlite

import (
	"net/url"

	_ "modernc.org/sqlite" // SQLite translated to Go
)

// Without cgo the database is modernc.org/sqlite, SQLite translated to Go:
// no C compiler needed, slower than the native library (driver_native.go).
const driverName = "sqlite"

var pragmas = url.Values{"_pragma": {
	"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(ON)",
	"temp_store(MEMORY)", "cache_size(-65536)", "wal_autocheckpoint(32768)",
}}

const (
	immediate = "_txlock=immediate"
	queryOnly = "_pragma=query_only(1)"
)
