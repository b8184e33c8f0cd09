//go:build cgo

package sqlite

import (
	"database/sql"
	"net/url"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// With cgo (a C compiler at build time) the database is SQLite's own C
// library, linked in (mattn/go-sqlite3): faster than the same code
// translated to Go, and SQLite's own work is most of the single writer's
// cost — transaction Bundles are about 1.2× faster with it
// (docs/benchmarks.md, session 6). Without cgo the build falls back to the
// pure-Go translation (driver_purego.go); the file format is the same, so
// one store opens with either build.
const driverName = "custodian-sqlite3"

// Options that are the driver's own DSN parameters.
var pragmas = url.Values{
	"_busy_timeout": {"10000"}, // first, so the others wait rather than fail
	"_journal_mode": {"WAL"},
	"_synchronous":  {"FULL"},
	"_foreign_keys": {"on"},
	"_cache_size":   {"-65536"},
}

const (
	immediate = "_txlock=immediate"
	queryOnly = "_query_only=1"
)

func init() {
	// The pragmas the driver has no DSN parameter for run on each new
	// connection.
	sql.Register(driverName, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec("PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=32768", nil)
		return err
	}})
}
