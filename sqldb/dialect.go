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
	// InProcess is set when the engine runs inside this process (SQLite):
	// its single writer then needs a core of its own among the goroutines
	// preparing writes for it (store.CoreGate). A server engine's writer
	// mostly waits for the server, which runs on cores of its own.
	InProcess bool
	// Lock serialises transactions on key; nil when the engine already
	// serialises every write (SQLite).
	Lock func(ctx context.Context, tx *sql.Tx, key string) error
	// LockAll takes Lock's lock on each of keys, in their order, in one
	// statement; nil takes them one by one with Lock (see conn.LockAll).
	LockAll func(ctx context.Context, tx *sql.Tx, keys []string) error
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
	// PlanEach, when set, is passed to the driver before a search
	// statement's arguments (see searchArgs); nil for engines that need
	// nothing of the kind.
	PlanEach any
	// DriveArray says a search's driving set is written
	// "rid = ANY(ARRAY(subquery))" rather than "rid IN (subquery)" (see
	// driveSet).
	DriveArray bool
	// CostPlanner says the engine picks indexes and join orders from table
	// statistics (PostgreSQL), so SQLite's ways of steering its planner
	// (a unary + that keeps it off an index) do not work on it and others
	// are needed (see memberOf, eachRow).
	CostPlanner bool
}

// eachRow ends a subquery that a search checks for each candidate row
// (EXISTS … WHERE rid = r.rid), which the search code writes when it has
// chosen to walk the candidates in rid order until a page is full rather
// than to gather every match. PostgreSQL turns such an EXISTS into a join
// and, from a guess at how many rows match a list of codes, may read the
// whole index range first (I10 and its children at 1M resources: 188,531
// index rows read, 743 ms); OFFSET 0 keeps it a per-row check (733
// candidates, 13 ms). Other engines get nothing.
func (d *Dialect) eachRow() string {
	if d.CostPlanner {
		return " OFFSET 0"
	}
	return ""
}

// memberOf is the condition that col is among the rids sub returns, for
// a check made row by row against a set read once (hasSet): the set is
// not to be searched with col. SQLite is told with a unary + on col.
// PostgreSQL would turn "col IN (sub)" into a join, and from a guess of a
// few rows for a common code read the set again for every row (E78.5 at
// 100k resources: 1,384 rows read 1,524 times, 3.5 s); as
// "(col IN (sub)) IS TRUE" (the same truth in a WHERE) it hashes the set
// once and looks each row up in it (13 ms).
func (d *Dialect) memberOf(col, sub string) string {
	if d.CostPlanner {
		return "(" + col + " IN (" + sub + ")) IS TRUE"
	}
	return "+" + col + " IN (" + sub + ")"
}

// driveSet renders a search's driving clause, written "r.rid IN
// (subquery)", for the engine. PostgreSQL plans "IN (subquery)" as a join
// from the subquery's rows, estimated from statistics that know little of
// a list of codes or one patient's references: when the set is larger
// than guessed (a common code's 1,218 Conditions estimated at 5) it joins
// every match to resources and versions before it sorts them for the
// page (95 ms). As "= ANY(ARRAY(subquery))" the set is gathered first
// and the primary key is read in rid order until the page is full
// (0.9 ms). A clause of another form is returned as it is.
func (d *Dialect) driveSet(w string) string {
	if !d.DriveArray {
		return w
	}
	col, sub, ok := strings.Cut(w, " IN (")
	if !ok || strings.ContainsAny(col, " ()'") || !strings.HasPrefix(sub, "SELECT ") || closing(sub) != len(sub)-1 {
		return w
	}
	return col + " = ANY(ARRAY(" + sub + ")"
}

// closing is the index in s of the parenthesis that closes one opened
// just before s, -1 if none does. The search SQL has no parentheses inside
// string literals (values are bound).
func closing(s string) int {
	depth := 1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return i
			}
		}
	}
	return -1
}

// searchArgs returns the arguments of a search statement (a page, a count,
// a probe), with PlanEach in front when the dialect has one. A search's
// cost depends on its values far more than on its shape: the same text
// "code = ? AND ref_id = ?" should start from the reference for one
// patient's rows and from the code for a rare code. PostgreSQL plans a
// prepared statement for its values only the first five times, then keeps
// a generic plan made without them, which can start from the wrong index
// (260 ms instead of 1.4 ms for Observation?subject&code&date at 100k
// resources); with PlanEach it plans each search for its values. The
// small statements around a search (includes, reads) keep their cached
// plans: planning them again would cost more than running them.
func (d *Dialect) searchArgs(args []any) []any {
	if d.PlanEach == nil {
		return args
	}
	return append([]any{d.PlanEach}, args...)
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
