package sqldb

import (
	"context"
	"database/sql"
)

// Prepared statements for the fixed SQL of the hot paths (reads by id,
// version and index inserts, audit appends), so SQLite does not parse the
// same text for every resource: parsing was a quarter of the write path's
// CPU before.
//
// Writes prepare per transaction (a group commit carries hundreds of
// writes, so each text is parsed once per group). Preparing on the pool
// while the single writer connection is inside a transaction would wait for
// that connection forever. Reads use statements prepared once at open.

// readQueries are prepared on the read pool when the database opens.
var readQueries = []string{currentQuery, versionQuery}

// prepareReads prepares readQueries on db.
func prepareReads(ctx context.Context, db *sql.DB, d *Dialect) (map[string]*sql.Stmt, error) {
	m := map[string]*sql.Stmt{}
	for _, q := range readQueries {
		st, err := db.PrepareContext(ctx, d.rebind(q))
		if err != nil {
			return nil, err
		}
		m[q] = st
	}
	return m, nil
}

// stmt returns query (with "?" placeholders) prepared for this transaction,
// or nil if it is not worth preparing here.
func (c *conn) stmt(query string) (*sql.Stmt, error) {
	if st, ok := c.db.readStmts[query]; ok && c.stmts == nil {
		return c.tx.StmtContext(c.ctx, st), nil
	}
	if c.stmts == nil {
		return nil, nil
	}
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	st, err := c.tx.PrepareContext(c.ctx, c.q(query))
	if err != nil {
		return nil, err
	}
	c.stmts[query] = st
	return st, nil
}

// exec runs a statement, prepared where it pays.
func (c *conn) exec(query string, args ...any) (sql.Result, error) {
	st, err := c.stmt(query)
	if err != nil {
		return nil, translate(err)
	}
	var res sql.Result
	if st != nil {
		res, err = st.ExecContext(c.ctx, args...)
	} else {
		res, err = c.tx.ExecContext(c.ctx, c.q(query), args...)
	}
	return res, translate(err)
}

// queryRow runs a single-row query, prepared where it pays.
func (c *conn) queryRow(query string, args ...any) *sql.Row {
	if st, err := c.stmt(query); err == nil && st != nil {
		return st.QueryRowContext(c.ctx, args...)
	}
	return c.tx.QueryRowContext(c.ctx, c.q(query), args...)
}
