package sqldb

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian/store"
)

// maxIdentifyParts bounds the lookups one statement answers; it is a
// power of two, and a run of lookups is cut into statements of
// power-of-two sizes, so that their texts are few and each is prepared
// once.
const maxIdentifyParts = 32

// Identify implements store.IdentityReader: for each lookup, the current,
// non-deleted resources of its type that meet its clause, at most two,
// from the clause's index and the resources row alone. The condition is
// the search's own for a driving clause (sqlBuilder.clause), so it
// follows the index tables' layout as search does; unlike a search it
// plans nothing (no density probe, no paging) and reads no body. Lookups
// go together into one statement (a UNION ALL of one LIMIT 2 part each),
// one round trip on a client/server engine. In a write it first inserts
// the index rows the transaction holds back, so it sees the
// transaction's own writes.
func (c *conn) Identify(_ context.Context, qs []store.IdentityQuery) ([][]*store.Resource, error) {
	out := make([][]*store.Resource, len(qs))
	for start := 0; start < len(qs); {
		n := maxIdentifyParts
		for n > len(qs)-start {
			n /= 2
		}
		if err := c.identify(qs[start:start+n], out[start:start+n]); err != nil {
			return nil, err
		}
		start += n
	}
	return out, nil
}

// identify answers qs in one statement, into out.
func (c *conn) identify(qs []store.IdentityQuery, out [][]*store.Resource) error {
	b := &sqlBuilder{c: c}
	var text strings.Builder
	var args []any
	for i, q := range qs {
		cond, a, err := b.clause("r", []string{q.Type}, q.Clause, true)
		if err != nil {
			return err
		}
		if i > 0 {
			text.WriteString(" UNION ALL ")
		}
		k := strconv.Itoa(i)
		text.WriteString("SELECT * FROM (SELECT " + k + " AS k, r.id, r.version, r.ts, r.compartment FROM resources r WHERE r.deleted = 0 AND " +
			cond + " LIMIT 2) AS t" + k)
		args = append(args, a...)
	}
	if err := checkText(args); err != nil {
		return err
	}
	rows, err := c.query(text.String(), args...)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k int
		var ts int64
		r := &store.Resource{}
		if err := rows.Scan(&k, &r.ID, &r.VersionID, &ts, &r.Compartment); err != nil {
			return translate(err)
		}
		r.Type, r.LastUpdated = qs[k].Type, time.UnixMilli(ts).UTC()
		out[k] = append(out[k], r)
	}
	return translate(rows.Err())
}
