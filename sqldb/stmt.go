package sqldb

import (
	"container/list"
	"context"
	"database/sql"
	"strings"
	"sync"
)

// Prepared statements, so SQLite does not parse the same SQL text again for
// every resource and every search: parsing was a quarter of the write
// path's CPU before the fixed statements were prepared, and a quarter of an
// HL7 v2 message's CPU went to the conditional searches' SQL after.
//
// Statements are kept by their SQL text (a search's text depends only on
// its shape: parameters, modifiers, number of values; the values are bound
// arguments), least recently used out, in two caches:
//
//   - the writer's, prepared on the single write connection between group
//     commits: preparing on that pool while its one connection is inside a
//     transaction would wait for it forever. A text first seen inside a
//     group is prepared in that transaction for the rest of the group, and
//     kept for the following groups once the group has committed.
//   - the readers', prepared on the read pool in the background the first
//     time a text is seen (a read transaction holds a connection of the
//     pool, so preparing on the pool from inside it could wait forever when
//     every connection is taken); the first search of a shape runs
//     unprepared. A connection of the pool prepares a cached statement the
//     first time it runs it (database/sql keeps it per connection).
//
// Engines whose driver caches statements by itself (Dialect.AutoPrepare:
// pgx) are left to do so; explicit preparation would only add round trips.

// Cache sizes, in distinct SQL texts. The index INSERTs alone take up to
// eight tables × the row counts seen; searches add one text per shape.
const (
	writerStmts = 512
	readerStmts = 256
)

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

// stmtCache keeps statements prepared on one pool, by SQL text, evicting
// the least recently used beyond max. Closing an evicted statement waits,
// inside database/sql, until the transactions using it are done.
type stmtCache struct {
	pool *sql.DB
	max  int

	mu      sync.Mutex
	byText  map[string]*list.Element // of *cachedStmt
	lru     list.List                // front: most recently used
	pending map[string]bool          // texts waiting to be prepared
	closed  bool
}

type cachedStmt struct {
	query string
	st    *sql.Stmt
}

func newStmtCache(pool *sql.DB, max int) *stmtCache {
	return &stmtCache{pool: pool, max: max, byText: map[string]*list.Element{}, pending: map[string]bool{}}
}

// get returns the statement kept for query, or nil.
func (sc *stmtCache) get(query string) *sql.Stmt {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if e, ok := sc.byText[query]; ok {
		sc.lru.MoveToFront(e)
		return e.Value.(*cachedStmt).st
	}
	return nil
}

// want notes that query (already rebound for the engine) should be
// prepared, and reports whether it was not noted yet.
func (sc *stmtCache) want(query string) bool {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.closed || sc.pending[query] || sc.byText[query] != nil {
		return false
	}
	sc.pending[query] = true
	return true
}

// prepare prepares query on the pool and keeps it. The key is the text
// before rebinding, as conn.stmt looks it up.
func (sc *stmtCache) prepare(ctx context.Context, key, query string) {
	st, err := sc.pool.PrepareContext(ctx, query)
	sc.mu.Lock()
	delete(sc.pending, key)
	if err != nil || sc.closed || sc.byText[key] != nil {
		sc.mu.Unlock()
		if st != nil {
			st.Close()
		}
		return
	}
	sc.byText[key] = sc.lru.PushFront(&cachedStmt{query: key, st: st})
	var evicted []*sql.Stmt
	for sc.lru.Len() > sc.max {
		e := sc.lru.Back()
		cs := sc.lru.Remove(e).(*cachedStmt)
		delete(sc.byText, cs.query)
		evicted = append(evicted, cs.st)
	}
	sc.mu.Unlock()
	for _, st := range evicted {
		st.Close()
	}
}

// pendingTexts returns the texts waiting to be prepared.
func (sc *stmtCache) pendingTexts() []string {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	var qs []string
	for q := range sc.pending {
		qs = append(qs, q)
	}
	return qs
}

// close closes every kept statement; nothing is kept afterwards.
func (sc *stmtCache) close() {
	sc.mu.Lock()
	sc.closed = true
	var sts []*sql.Stmt
	for _, e := range sc.byText {
		sts = append(sts, e.Value.(*cachedStmt).st)
	}
	sc.byText = map[string]*list.Element{}
	sc.lru.Init()
	sc.mu.Unlock()
	for _, st := range sts {
		st.Close()
	}
}

// len is the number of statements kept.
func (sc *stmtCache) len() int {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.lru.Len()
}

// prepareWanted prepares, on the write connection, the texts first seen in
// the groups since the last call. Only the writer goroutine calls it,
// between groups, when no transaction holds the connection.
func (db *DB) prepareWanted() {
	if db.wstmts == nil {
		return
	}
	for _, q := range db.wstmts.pendingTexts() {
		db.wstmts.prepare(context.Background(), q, db.dialect.rebind(q))
	}
}

// stmt returns query (with "?" placeholders) prepared for this
// transaction, or nil to run it unprepared.
func (c *conn) stmt(query string) (*sql.Stmt, error) {
	if c.stmts == nil {
		return c.readStmt(query), nil
	}
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	if c.db.dialect.AutoPrepare {
		return nil, nil
	}
	var st *sql.Stmt
	if c.writer && c.db.wstmts != nil {
		if parent := c.db.wstmts.get(query); parent != nil {
			st = c.tx.StmtContext(c.ctx, parent)
		} else {
			c.db.wstmts.want(query)
		}
	}
	if st == nil {
		var err error
		if st, err = c.tx.PrepareContext(c.ctx, c.q(query)); err != nil {
			return nil, err
		}
	}
	c.stmts[query] = st
	return st, nil
}

// readStmt returns query prepared for a read transaction, or nil (and
// prepares it in the background for the next time).
func (c *conn) readStmt(query string) *sql.Stmt {
	if st, ok := c.db.readStmts[query]; ok {
		return c.tx.StmtContext(c.ctx, st)
	}
	rs := c.db.rstmts
	if rs == nil || c.db.dialect.AutoPrepare {
		return nil
	}
	if parent := rs.get(query); parent != nil {
		return c.tx.StmtContext(c.ctx, parent)
	}
	if rs.want(query) {
		c.db.bg.Add(1)
		go func() {
			defer c.db.bg.Done()
			rs.prepare(context.Background(), query, c.db.dialect.rebind(query))
		}()
	}
	return nil
}

// seeIndex makes the index rows this transaction holds back visible to
// query, if query reads or changes the index tables.
func (c *conn) seeIndex(query string) error {
	if c.npending == 0 || !strings.Contains(query, "idx_") {
		return nil
	}
	return c.flushIndex()
}

// exec runs a statement, prepared where it pays.
func (c *conn) exec(query string, args ...any) (sql.Result, error) {
	if err := c.seeIndex(query); err != nil {
		return nil, err
	}
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

// queryRow runs a single-row query, prepared where it pays. It does not
// make held-back index rows visible (a Row cannot carry that error):
// queries of the index tables flush them first (Search does).
func (c *conn) queryRow(query string, args ...any) *sql.Row {
	if st, err := c.stmt(query); err == nil && st != nil {
		return st.QueryRowContext(c.ctx, args...)
	}
	return c.tx.QueryRowContext(c.ctx, c.q(query), args...)
}

// query runs a query, prepared where it pays.
func (c *conn) query(query string, args ...any) (*sql.Rows, error) {
	if err := c.seeIndex(query); err != nil {
		return nil, err
	}
	st, err := c.stmt(query)
	if err != nil {
		return nil, err
	}
	if st != nil {
		return st.QueryContext(c.ctx, args...)
	}
	return c.tx.QueryContext(c.ctx, c.q(query), args...)
}
