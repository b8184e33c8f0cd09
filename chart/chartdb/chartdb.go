// Package chartdb keeps the chart review index between starts (see
// chart.Facts) in the SQL database beside the store, on SQLite and
// PostgreSQL alike: table chart_fact holds one row per resource the index
// reads (its version and what the index keeps of it) and chart_state the
// change position the rows reflect (migration 0014). The tables are kept
// by sqldb.FactStore, as the measures' are.
package chartdb

import (
	"github.com/custodian-him/custodian/chart"
	"github.com/custodian-him/custodian/sqldb"
)

// tables are the chart review index's tables and state row.
var tables = sqldb.FactTables{Facts: "chart_fact", State: "chart_state", Row: "index"}

// Facts implements chart.Facts over a Custodian database.
type Facts = sqldb.FactStore

var _ chart.Facts = (*Facts)(nil)

// New returns the facts kept in db.
func New(db *sqldb.DB) *Facts { return sqldb.NewFactStore(db, tables) }
