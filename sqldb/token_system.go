package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/custodian-him/custodian"
)

// Token systems are stored in the index as small numbers (table
// token_systems, migration 0012): a system's string was the largest part
// of a token row, and it was stored twice, in the table and in its value
// index.
//
// A number, once committed, never changes and is never deleted, so a cache
// of committed numbers is never wrong. The cache holds only numbers read
// from committed rows: a number added inside a write transaction is used by
// that transaction without being cached, so a rollback (of the whole
// transaction or of one write's savepoint) cannot leave a number in the
// cache that the database does not have. The next lookup reads it again
// once it is committed.
//
// The cache is DB.systems, guarded by DB.mu like the search parameters'
// numbers.

// reloadEvery bounds how often a miss outside a write reads the systems
// again. Until a new system's first write commits, every resource that has
// it misses; without the bound each would read the table (5% of an
// import's CPU when measured). A resource packed without its system's
// number has it numbered in its write instead.
const reloadEvery = 50 * time.Millisecond

// errUnknownSystem says a token system has no number in the cache.
var errUnknownSystem = errors.New("sqldb: token system not numbered yet")

// noSystem is bound for a system the dictionary lacks: no row has it.
const noSystem = int64(-1)

// cachedSystem returns the cached number of system; the caller holds db.mu
// (for reading at least).
func (db *DB) cachedSystem(system string) (int64, bool) {
	sid, ok := db.systems[system]
	return sid, ok
}

// loadSystems reads every committed system number into the cache.
func (db *DB) loadSystems(ctx context.Context) error {
	rows, err := db.readDB.QueryContext(ctx, `SELECT sid, system FROM token_systems`)
	if err != nil {
		return err
	}
	defer rows.Close()
	type entry struct {
		sid    int64
		system string
	}
	var got []entry
	for rows.Next() {
		var e entry
		if err := rows.Scan(&e.sid, &e.system); err != nil {
			return err
		}
		got = append(got, e)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, e := range got {
		db.systems[e.system] = e.sid
	}
	return nil
}

// packSystems resolves systems outside any transaction (PackIndex): from
// the committed rows, read again into the cache. A system not committed
// yet is left out; the write then numbers it (conn.numberSystems).
func (db *DB) packSystems(systems []string) (map[string]int64, error) {
	if db.readDB == db.writeDB {
		// One pool for both: a read here could wait for a connection the
		// caller holds.
		return nil, errUnknownSystem
	}
	now := time.Now().UnixNano()
	db.mu.RLock()
	last := db.systemsLoaded
	db.mu.RUnlock()
	if now-last < int64(reloadEvery) {
		return nil, errUnknownSystem
	}
	if err := db.loadSystems(context.Background()); err != nil {
		return nil, err
	}
	db.mu.Lock()
	db.systemsLoaded = now
	db.mu.Unlock()
	db.mu.RLock()
	defer db.mu.RUnlock()
	out := make(map[string]int64, len(systems))
	for _, s := range systems {
		sid, ok := db.cachedSystem(s)
		if !ok {
			return nil, errUnknownSystem
		}
		out[s] = sid
	}
	return out, nil
}

// numberSystems returns the numbers of systems inside the write
// transaction c, adding those the dictionary lacks (most often a system is
// there already, committed since the cache was read). An insert that meets
// another transaction's insert of the same system waits for it and then
// does nothing (ON CONFLICT); the number is then read back. The numbers are
// not cached (see above). Systems are numbered in sorted order so that two
// writers adding the same new systems take their locks in the same order.
func (c *conn) numberSystems(systems []string) (map[string]int64, error) {
	systems = slices.Clone(systems)
	slices.Sort(systems)
	out := make(map[string]int64, len(systems))
	for _, s := range slices.Compact(systems) {
		var sid int64
		err := c.queryRow(`SELECT sid FROM token_systems WHERE system = ?`, s).Scan(&sid)
		if errors.Is(err, sql.ErrNoRows) {
			if _, err := c.exec(`INSERT INTO token_systems (system) VALUES (?) ON CONFLICT (system) DO NOTHING`, s); err != nil {
				return nil, err
			}
			err = c.queryRow(`SELECT sid FROM token_systems WHERE system = ?`, s).Scan(&sid)
		}
		if err != nil {
			return nil, translate(err)
		}
		out[s] = sid
	}
	return out, nil
}

// systemArg is the value a search binds for system in idx_tok's sid
// column: its number, or noSystem if no row has it. A number the cache
// lacks is read in the search's own transaction, and cached if that is a
// read (it is then committed).
func (c *conn) systemArg(system string) (any, error) {
	c.db.mu.RLock()
	sid, ok := c.db.cachedSystem(system)
	c.db.mu.RUnlock()
	if ok {
		return sid, nil
	}
	err := c.queryRow(`SELECT sid FROM token_systems WHERE system = ?`, system).Scan(&sid)
	if errors.Is(err, sql.ErrNoRows) {
		return noSystem, nil
	} else if err != nil {
		return nil, translate(err)
	}
	if c.stmts == nil {
		c.db.mu.Lock()
		c.db.systems[system] = sid
		c.db.mu.Unlock()
	}
	return sid, nil
}

// errSystemLost reports a system that had no number after numbering.
func errSystemLost(system string) error {
	return custodian.Errorf(custodian.EINTERNAL, "token system %q has no number", system)
}
