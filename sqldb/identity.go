package sqldb

import (
	"context"
	"time"

	"github.com/custodian-him/custodian/store"
)

// identifyColumns are what an identity lookup reads of a resource: its
// resources row only, never the versions table (no body to read and
// decompress).
const identifyColumns = `SELECT r.id, r.version, r.ts, r.compartment FROM resources r WHERE r.deleted = 0 AND `

// Identify implements store.IdentityReader: the current, non-deleted
// resources of typ that meet cl, at most two, from cl's index alone. The
// condition is the search's own for a driving clause (sqlBuilder.clause),
// so it follows the index tables' layout as search does; unlike a search
// it plans nothing (no density probe, no paging) and reads no body. In a
// write it first inserts the index rows the transaction holds back, so it
// sees the transaction's own writes.
func (c *conn) Identify(_ context.Context, typ string, cl store.Clause) ([]*store.Resource, error) {
	b := &sqlBuilder{c: c}
	cond, args, err := b.clause("r", []string{typ}, cl, true)
	if err != nil {
		return nil, err
	}
	if err := checkText(args); err != nil {
		return nil, err
	}
	rows, err := c.query(identifyColumns+cond+` LIMIT 2`, args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []*store.Resource
	for rows.Next() {
		r := &store.Resource{Type: typ}
		var ts int64
		if err := rows.Scan(&r.ID, &r.VersionID, &ts, &r.Compartment); err != nil {
			return nil, translate(err)
		}
		r.LastUpdated = time.UnixMilli(ts).UTC()
		out = append(out, r)
	}
	return out, translate(rows.Err())
}
