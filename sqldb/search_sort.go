package sqldb

import (
	"math"
	"strings"

	"github.com/custodian-him/custodian/store"
)

// walkable reports whether q can be sorted by walking the date index: one
// _sort key, a date parameter held under one number, and no clause
// selective enough to gather its matches first (then the subquery of
// sortedRows is cheaper). It returns the parameter's number.
func (b *sqlBuilder) walkable(q *store.Query) (int64, bool) {
	if len(q.Sort) != 1 || q.Compartment != nil || drivingClause(q.Clauses) >= 0 {
		return 0, false
	}
	k := q.Sort[0]
	if k.Kind != store.KindDate || k.Param == "_lastUpdated" || k.Param == "_id" {
		return 0, false
	}
	pids := b.pids(q.Types, k.Param)
	if len(pids) != 1 {
		return 0, false
	}
	pid, ok := pids[0].(int64)
	return pid, ok
}

// walkSorted is sortedRows for a walkable query: it reads idx_date in the
// order of (pid, low), so a page costs about its own rows, not every
// match. Each resource is met at its representative value (the latest
// start for a descending sort, the earliest for an ascending one, as
// sortKey computes the key), and the resources with no value follow, in
// row-id order, as sortKey's sentinel puts them. The order and the cursors
// are sortedRows's.
func (c *conn) walkSorted(q *store.Query, pid int64, cond string, args []any, back bool, vals []any) ([]*store.Resource, [][]any, error) {
	k := q.Sort[0]
	missing := int64(math.MaxInt64)
	if k.Desc {
		missing = math.MinInt64
	}
	// In this query's direction: the dated resources, then the others
	// (going back, the other way round).
	inMissing := vals != nil && vals[0] == missing
	limit := q.Count + 1
	var out []*store.Resource
	var keys [][]any
	phases := []bool{false, true} // dated first
	if back {
		phases = []bool{true, false}
	}
	started := vals == nil
	for _, undated := range phases {
		if !started && undated != inMissing {
			continue // the cursor is in the other phase, later in this direction
		}
		var cur []any
		if !started {
			cur, started = vals, true
		}
		var rs []*store.Resource
		var ks [][]any
		var err error
		if undated {
			rs, ks, err = c.walkUndated(pid, cond, args, back, cur, missing, limit-len(out))
		} else {
			rs, ks, err = c.walkDated(k, pid, cond, args, back, cur, limit-len(out))
		}
		if err != nil {
			return nil, nil, err
		}
		out, keys = append(out, rs...), append(keys, ks...)
		if len(out) >= limit {
			break
		}
	}
	return out, keys, nil
}

// walkDated reads the resources with a value of pid in key order.
func (c *conn) walkDated(k store.SortKey, pid int64, cond string, args []any, back bool, cur []any, limit int) ([]*store.Resource, [][]any, error) {
	keyDesc := k.Desc != back
	// The representative row of a resource: no other row of it is
	// further in the key's own direction (by low, then high).
	further := "(d2.low < d.low OR (d2.low = d.low AND d2.high < d.high))"
	if k.Desc {
		further = "(d2.low > d.low OR (d2.low = d.low AND d2.high > d.high))"
	}
	var w []string
	a := []any{pid}
	a = append(a, args...)
	if cur != nil {
		// After (key, rid): a range on low the index can seek, then the
		// ties.
		op, ridOp := ">", ">"
		if keyDesc {
			op = "<"
		}
		if back {
			ridOp = "<"
		}
		w = append(w, "d.low "+op+"= ? AND (d.low "+op+" ? OR r.rid "+ridOp+" ?)")
		a = append(a, cur[0], cur[0], cur[1])
	}
	order := "d.low"
	if keyDesc {
		order += " DESC"
	}
	order += ", r.rid"
	if back {
		order += " DESC"
	}
	extra := ""
	if len(w) > 0 {
		extra = " AND " + strings.Join(w, " AND ")
	}
	a = append(a, limit)
	rows, err := c.query(`SELECT `+versionColumns+`, r.rid, d.low
		FROM idx_date d CROSS JOIN resources r CROSS JOIN versions v
		WHERE d.pid = ? AND r.rid = d.rid AND v.rid = r.rid AND v.version = r.version AND `+cond+extra+`
		AND NOT EXISTS (SELECT 1 FROM idx_date d2 WHERE d2.rid = d.rid AND d2.pid = d.pid AND `+further+`)
		ORDER BY `+order+` LIMIT ?`, a...)
	if err != nil {
		return nil, nil, translate(err)
	}
	return scanSorted(rows, 1)
}

// walkUndated reads the resources without a value of pid in row-id order;
// their key is the sentinel missing.
func (c *conn) walkUndated(pid int64, cond string, args []any, back bool, cur []any, missing int64, limit int) ([]*store.Resource, [][]any, error) {
	a := append([]any{}, args...)
	a = append(a, pid)
	extra, order := "", "r.rid"
	if cur != nil {
		extra = " AND r.rid > ?"
		if back {
			extra = " AND r.rid < ?"
		}
		a = append(a, cur[1])
	}
	if back {
		order += " DESC"
	}
	a = append(a, limit)
	rows, err := c.query(`SELECT `+versionColumns+`, r.rid, r.rid
		FROM resources r JOIN versions v ON v.rid = r.rid AND v.version = r.version
		WHERE `+cond+` AND NOT EXISTS (SELECT 1 FROM idx_date WHERE rid = r.rid AND pid = ?)`+extra+`
		ORDER BY `+order+` LIMIT ?`, a...)
	if err != nil {
		return nil, nil, translate(err)
	}
	rs, ks, err := scanSorted(rows, 1)
	for _, k := range ks {
		k[0] = missing
	}
	return rs, ks, err
}
