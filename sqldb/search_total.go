package sqldb

import (
	"database/sql"
	"math"

	"github.com/custodian-him/custodian/store"
)

// estimateSample is how many matches _total=estimate reads before it
// extrapolates; below it the estimate is the exact count.
const estimateSample = 1000

// countMatches counts the resources that meet cond: exactly, or for
// _total=estimate (q.Estimate) from the first estimateSample matches in
// row-id order. When there are more, the estimate assumes the matches are
// spread over the searched types' row ids as the first ones are: the
// sample's size divided by the share of the types' row-id span (lowest to
// highest row id of the types, from the resources (type, rid) index) that
// the sample covers. Its cost is bounded by the sample, not by the matches.
func (c *conn) countMatches(q *store.Query, cond string, args []any) (int64, error) {
	if !q.Estimate {
		var n int64
		if err := c.queryRow(`SELECT count(*) FROM resources r WHERE `+cond, c.db.dialect.searchArgs(args)...).Scan(&n); err != nil {
			return 0, translate(err)
		}
		return n, nil
	}
	rows, err := c.query(`SELECT r.rid FROM resources r WHERE `+cond+` ORDER BY r.rid LIMIT ?`, c.db.dialect.searchArgs(append(args, estimateSample))...)
	if err != nil {
		return 0, translate(err)
	}
	var n, first, nth int64
	for rows.Next() {
		if err := rows.Scan(&nth); err != nil {
			rows.Close()
			return 0, translate(err)
		}
		if n == 0 {
			first = nth
		}
		n++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, translate(err)
	}
	if n < estimateSample {
		return n, nil
	}
	lo, hi, err := c.ridSpan(q.Types)
	if err != nil {
		return 0, err
	}
	lo = min(lo, first)
	if hi <= nth {
		return n, nil
	}
	share := float64(nth-lo+1) / float64(hi-lo+1)
	return int64(math.Round(float64(n) / share)), nil
}

// ridSpan is the lowest and highest row id of the resources of types
// (every type when there are none), two index probes a type.
func (c *conn) ridSpan(types []string) (lo, hi int64, err error) {
	if len(types) == 0 {
		var l, h sql.NullInt64
		if err := c.queryRow(`SELECT min(rid), max(rid) FROM resources`).Scan(&l, &h); err != nil {
			return 0, 0, translate(err)
		}
		return l.Int64, h.Int64, nil
	}
	lo, hi = math.MaxInt64, math.MinInt64
	for _, t := range types {
		var l, h sql.NullInt64
		if err := c.queryRow(`SELECT (SELECT min(rid) FROM resources WHERE type = ?), (SELECT max(rid) FROM resources WHERE type = ?)`, t, t).Scan(&l, &h); err != nil {
			return 0, 0, translate(err)
		}
		if l.Valid {
			lo, hi = min(lo, l.Int64), max(hi, h.Int64)
		}
	}
	return lo, hi, nil
}
