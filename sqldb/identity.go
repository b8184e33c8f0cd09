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
	shapes, err := c.identityShapes(qs)
	if err != nil {
		return nil, err
	}
	for _, sh := range shapes {
		for start := 0; start < len(sh.parts); {
			n := maxIdentifyParts
			for n > len(sh.parts)-start {
				n /= 2
			}
			if err := c.identify(sh.cond, sh.parts[start:start+n], out); err != nil {
				return nil, err
			}
			start += n
		}
	}
	return out, nil
}

// identityShapes puts the lookups of one shape (their conditions' text)
// together, so a statement's text depends only on the shape and the
// count. Each condition is built afresh: a builder numbers the aliases it
// makes (an _id lookup's x1), and numbered on, lookups of one shape would
// each get a text, and a statement, of their own.
func (c *conn) identityShapes(qs []store.IdentityQuery) ([]*identityShape, error) {
	var shapes []*identityShape
	byText := map[string]*identityShape{}
	for i, q := range qs {
		b := &sqlBuilder{c: c}
		cond, args, err := b.clause("r", []string{q.Type}, q.Clause, true)
		if err != nil {
			return nil, err
		}
		if err := checkText(args); err != nil {
			return nil, err
		}
		sh := byText[cond]
		if sh == nil {
			sh = &identityShape{cond: cond}
			byText[cond] = sh
			shapes = append(shapes, sh)
		}
		sh.parts = append(sh.parts, identityPart{i: i, typ: q.Type, args: args})
	}
	return shapes, nil
}

// identityShape is the lookups whose condition has one text.
type identityShape struct {
	cond  string
	parts []identityPart
}

// identityPart is one lookup: its number, type and condition's arguments.
type identityPart struct {
	i    int
	typ  string
	args []any
}

// identify answers parts, lookups with the condition cond, in one
// statement, into out.
func (c *conn) identify(cond string, parts []identityPart, out [][]*store.Resource) error {
	var text strings.Builder
	var args []any
	for k, p := range parts {
		if k > 0 {
			text.WriteString(" UNION ALL ")
		}
		n := strconv.Itoa(k)
		text.WriteString("SELECT * FROM (SELECT " + n + " AS k, r.id, r.version, r.ts, r.compartment FROM resources r WHERE r.deleted = 0 AND " +
			cond + " LIMIT 2) AS t" + n)
		args = append(args, p.args...)
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
		p := parts[k]
		r.Type, r.LastUpdated = p.typ, time.UnixMilli(ts).UTC()
		out[p.i] = append(out[p.i], r)
	}
	return translate(rows.Err())
}
