package sqldb

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// Dialect is what differs between SQL engines.
type Dialect struct {
	// Name is "sqlite" or "postgres".
	Name string
	// Numbered placeholders ($1, $2, …) instead of "?".
	Numbered bool
	// GroupCommit runs all writes through one connection and one goroutine
	// that commits several callers' work together (SQLite has one writer).
	GroupCommit bool
	// Lock serialises transactions on key; nil when the engine already
	// serialises every write (SQLite).
	Lock func(ctx context.Context, tx *sql.Tx, key string) error
	// Relax, for group-commit engines, makes the next commit on db skip
	// waiting for the disk and returns what restores full durability.
	Relax func(ctx context.Context, db *sql.DB) (restore func())
	// Sync makes every commit so far durable, those that skipped waiting
	// for the disk (Relax) among them; nil: see DB.Sync.
	Sync func(ctx context.Context) error
	// AutoPrepare is set when the driver prepares and caches statements by
	// itself (pgx does, per connection), so sqldb does not prepare any.
	AutoPrepare bool
	// LastInsertID is set when an INSERT's sql.Result gives the new row's
	// id (SQLite): a resource is created with an Exec, cheaper than a query
	// with RETURNING.
	LastInsertID bool
	// DDL translates a schema statement written for SQLite into this
	// engine's; nil leaves statements as they are.
	DDL func(stmt string) string
}

// rebind rewrites "?" placeholders for engines that number them. The SQL
// in this package never has "?" inside string literals.
func (d *Dialect) rebind(q string) string {
	if !d.Numbered {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
