package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// Bulk loading on PostgreSQL: the new resources of an import batch go in
// with COPY (binary, through pgx) instead of one INSERT per row and a few
// multi-row INSERTs of index rows, which on a client/server engine costs a
// round trip per statement and a parse and plan per row group. The rows
// are the ones the ordinary path writes (resources, versions, the typed
// index tables; the index rows are made by writeIndex itself), so a store
// loaded either way is the same, and searched and read the same.
//
// COPY cannot skip a row that conflicts: a resource that exists already
// (an import run again, or resumed after an interruption whose last
// batches were stored but not checkpointed) would fail the whole COPY. So
// the batch's types and ids are looked up first, in one query, and those
// found are left to the ordinary path (an update, or no change) — as is an
// item repeating an earlier one of the batch. A resource another writer
// creates between the look-up and the COPY fails it; the caller then writes
// the batch the ordinary way.
//
// Row ids (resources.rid) are taken from the table's identity sequence in
// one query per batch; versions.seq is left to its default, so history
// keeps the commit order of the sequence.
//
// The COPY runs in a transaction of its own on a connection of the read
// pool, beside the single writer connection, so an import's batches load
// in parallel with each other and with ordinary writes; the audit entry is
// appended in the same transaction (under the chain's advisory lock, taken
// last, so it is held only until the commit).

// CopyNew implements store.BulkCopier: on PostgreSQL, with COPY; other
// engines return errors.ErrUnsupported.
func (db *DB) CopyNew(ctx context.Context, items []store.CopyItem, unsynced bool, fn func(store.Tx, []int) error) ([]int, error) {
	if db.dialect.Name != "postgres" || db.readDB == db.writeDB {
		return nil, errors.ErrUnsupported
	}
	sc, err := db.readDB.Conn(ctx)
	if err != nil {
		return nil, translate(err)
	}
	defer sc.Close()
	tx, err := sc.BeginTx(ctx, nil)
	if err != nil {
		return nil, translate(err)
	}
	defer tx.Rollback()
	if unsynced {
		// As Record's commits: durable at the next synchronous commit
		// (Sync).
		if _, err := tx.ExecContext(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
			return nil, translate(err)
		}
	}
	c := &conn{db: db, tx: tx, ctx: ctx, stmts: map[string]*sql.Stmt{}}
	fresh, skipped, err := c.newItems(items)
	if err != nil {
		return nil, translate(err)
	}
	if len(fresh) > 0 {
		rids, err := c.takeRIDs(len(fresh))
		if err != nil {
			return nil, translate(err)
		}
		rows, err := c.copyRows(items, fresh, rids)
		if err != nil {
			return nil, err
		}
		if err := sc.Raw(func(dc any) error { return rows.copy(ctx, dc) }); err != nil {
			return nil, translate(err)
		}
	}
	if err := fn(c, fresh); err != nil {
		return nil, err
	}
	if err := c.flushIndex(); err != nil {
		return nil, translate(err)
	}
	if err := tx.Commit(); err != nil {
		return nil, translate(err)
	}
	return skipped, nil
}

// newItems splits items into those to copy (their resource does not exist
// and no earlier item has its type and id) and those skipped, both as
// positions in order.
func (c *conn) newItems(items []store.CopyItem) (fresh, skipped []int, err error) {
	types := make([]string, len(items))
	ids := make([]string, len(items))
	for k, it := range items {
		types[k], ids[k] = it.Resource.Type, it.Resource.ID
	}
	// The lateral subquery with a LIMIT keeps the plan a probe of the
	// (type, id) index per item: a join would let the planner scan the
	// whole table, which grows with every batch.
	rows, err := c.tx.QueryContext(c.ctx, `SELECT k.n FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(type, id, n)
		CROSS JOIN LATERAL (SELECT 1 FROM resources r WHERE r.type = k.type AND r.id = k.id LIMIT 1) found`, types, ids)
	if err != nil {
		return nil, nil, err
	}
	exists := map[int]bool{}
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, nil, err
		}
		exists[n-1] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	seen := make(map[[2]string]bool, len(items))
	for k := range items {
		key := [2]string{types[k], ids[k]}
		if exists[k] || seen[key] {
			skipped = append(skipped, k)
			continue
		}
		seen[key] = true
		fresh = append(fresh, k)
	}
	return fresh, skipped, nil
}

// takeRIDs returns n new row ids for resources, from its identity
// sequence, in one round trip.
func (c *conn) takeRIDs(n int) ([]int64, error) {
	rows, err := c.tx.QueryContext(c.ctx, `WITH s AS (SELECT pg_get_serial_sequence('resources', 'rid')::regclass AS seq)
		SELECT nextval(s.seq) FROM s, generate_series(1, $1)`, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	rids := make([]int64, 0, n)
	for rows.Next() {
		var rid int64
		if err := rows.Scan(&rid); err != nil {
			return nil, err
		}
		rids = append(rids, rid)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(rids) != n {
		return nil, fmt.Errorf("sqldb: %d row ids taken of %d", len(rids), n)
	}
	return rids, nil
}

// copyTable is the rows of one table for COPY, flattened: width values a
// row.
type copyTable struct {
	table string
	cols  []string
	width int
	vals  []any
}

func (t *copyTable) rows() int { return len(t.vals) / t.width }

// copyBatch is every table's rows of a batch, in the order they are
// copied (resources before versions, which refer to them).
type copyBatch []*copyTable

var (
	resourceCols = []string{"rid", "type", "id", "version", "ts", "deleted", "compartment", "sensitive"}
	versionCols  = []string{"rid", "version", "type", "ts", "method", "author", "body"}
)

// copyRows makes the rows of the items at positions fresh, with row ids
// rids: the same rows PutPacked writes for a first version.
func (c *conn) copyRows(items []store.CopyItem, fresh []int, rids []int64) (copyBatch, error) {
	res := &copyTable{table: "resources", cols: resourceCols, width: len(resourceCols), vals: make([]any, 0, len(fresh)*len(resourceCols))}
	ver := &copyTable{table: "versions", cols: versionCols, width: len(versionCols), vals: make([]any, 0, len(fresh)*len(versionCols))}
	index := map[store.ParamKind]*copyTable{}
	for k, i := range fresh {
		it := items[i]
		r := it.Resource
		if r.VersionID != 1 {
			return nil, custodian.Errorf(custodian.EINTERNAL, "a bulk copy of %s/%s as version %d", r.Type, r.ID, r.VersionID)
		}
		rid, ts := rids[k], r.LastUpdated.UnixMilli()
		var deleted, sensitive int64
		var body []byte
		if r.Deleted {
			deleted = 1
		} else if body = it.Packed; body == nil {
			body = c.db.codec.pack(r.Body)
		}
		if r.Sensitive {
			sensitive = 1
		}
		res.vals = append(res.vals, rid, r.Type, r.ID, int64(1), ts, deleted, r.Compartment, sensitive)
		ver.vals = append(ver.vals, rid, int64(1), r.Type, ts, string(r.Method), r.Author, body)
		// The rows the ordinary path would insert, made beforehand
		// (PackIndex) or here, are taken from the transaction's pending
		// rows into the COPY.
		var err error
		if ir, ok := it.Rows.(*indexRows); ok && ir != nil && ir.typ == r.Type {
			err = c.addIndexRows(rid, ir)
		} else {
			err = c.writeIndex(r.Type, rid, it.Index)
		}
		if err != nil {
			return nil, err
		}
		for kind, p := range c.pending {
			t := index[kind]
			if t == nil {
				var err error
				if t, err = indexCopyTable(kind); err != nil {
					return nil, err
				}
				index[kind] = t
			}
			t.vals = append(t.vals, p.args...)
		}
		c.pending, c.npending = nil, 0
	}
	batch := copyBatch{res, ver}
	for _, t := range index {
		batch = append(batch, t)
	}
	return batch, nil
}

// indexCopyTable names the table and columns of kind's index rows, read
// from the INSERT the ordinary path uses, so both write the same columns.
func indexCopyTable(kind store.ParamKind) (*copyTable, error) {
	ins, ok := indexInserts[kind]
	if !ok {
		return nil, custodian.Errorf(custodian.EINTERNAL, "no index table for kind %v", kind)
	}
	rest, ok := strings.CutPrefix(ins.head, "INSERT INTO ")
	table, rest, ok2 := strings.Cut(rest, " (")
	list, _, ok3 := strings.Cut(rest, ")")
	if !ok || !ok2 || !ok3 {
		return nil, custodian.Errorf(custodian.EINTERNAL, "cannot read the index insert %q", ins.head)
	}
	var cols []string
	for _, col := range strings.Split(list, ",") {
		cols = append(cols, strings.TrimSpace(col))
	}
	if len(cols) != ins.cols {
		return nil, custodian.Errorf(custodian.EINTERNAL, "index insert %q has %d columns, want %d", ins.head, len(cols), ins.cols)
	}
	return &copyTable{table: table, cols: cols, width: ins.cols}, nil
}

// copy runs the COPYs on dc, the driver connection of the transaction.
func (b copyBatch) copy(ctx context.Context, dc any) error {
	pc, ok := dc.(interface{ Conn() *pgx.Conn })
	if !ok {
		return errors.ErrUnsupported
	}
	for _, t := range b {
		n := t.rows()
		if n == 0 {
			continue
		}
		w, vals := t.width, t.vals
		copied, err := pc.Conn().CopyFrom(ctx, pgx.Identifier{t.table}, t.cols, pgx.CopyFromSlice(n, func(i int) ([]any, error) {
			return vals[i*w : (i+1)*w], nil
		}))
		if err != nil {
			return fmt.Errorf("sqldb: copy into %s: %w", t.table, err)
		}
		if copied != int64(n) {
			return fmt.Errorf("sqldb: copy into %s: %d rows of %d", t.table, copied, n)
		}
	}
	return nil
}
