// Package factdb keeps the measures' projection of the record (see
// measure.Projection) in the SQL database beside the store, on SQLite and
// PostgreSQL alike: table measure_fact holds one row per projected
// resource (its version and the elements the measures read of it) and
// measure_state the change position the rows reflect (migration 0011).
// The tables are kept by sqldb.FactStore, as the chart review's are.
package factdb

import (
	"github.com/custodian-him/custodian/measure"
	"github.com/custodian-him/custodian/sqldb"
)

// tables are the measures' tables and state row.
var tables = sqldb.FactTables{Facts: "measure_fact", State: "measure_state", Row: "record"}

// Facts implements measure.Facts over a Custodian database.
type Facts = sqldb.FactStore

var _ measure.Facts = (*Facts)(nil)

// New returns the facts kept in db.
func New(db *sqldb.DB) *Facts { return sqldb.NewFactStore(db, tables) }
