package sqldb

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// Search implements store.Reader.
func (c *conn) Search(ctx context.Context, q *store.Query) (*store.SearchPage, error) {
	p, _, err := c.SearchPaged(ctx, q)
	return p, err
}

// SearchPaged implements store.Pager: a page of matches and the cursor of
// the page before it.
//
// Pages are keysets, never offsets. Without _sort results come in storage
// order (rid, which an update keeps) and a cursor is the rid a page
// continues after ("123") or ends before ("b123"), so pages stay stable
// while others write: a new resource can only appear after the pages
// already read, and walking back gives the pages walked forward. With
// _sort a cursor carries the sort key values and the rid of a row
// ("s…" after it, "p…" before it; keyset paging on (keys…, rid)).
// store.LastCursor asks for the last page.
func (c *conn) SearchPaged(ctx context.Context, q *store.Query) (*store.SearchPage, string, error) {
	if err := c.flushIndex(); err != nil { // a search in a write sees its rows
		return nil, "", err
	}
	b := &sqlBuilder{c: c}
	cond, args, err := b.where(q)
	if err != nil {
		return nil, "", err
	}
	if err := checkText(args); err != nil {
		return nil, "", err
	}
	page := &store.SearchPage{Total: -1}
	if q.CountTotal {
		countCond, countArgs := cond, args
		if !q.Estimate && b.reconsidered {
			// An accurate total reads every match: written without
			// reconsidering the driving clause for a page's sake
			// (gathering a _has's referrers beats walking every
			// candidate).
			cb := &sqlBuilder{c: c, whole: true}
			if countCond, countArgs, err = cb.where(q); err != nil {
				return nil, "", err
			}
		}
		countStatement(ctx)
		if page.Total, err = c.countMatches(q, countCond, countArgs); err != nil {
			return nil, "", err
		}
	}
	if q.Count == 0 {
		return page, "", nil
	}
	countStatement(ctx)
	if len(q.Sort) > 0 {
		return c.sortedSearch(b, q, cond, args, page)
	}
	back, last := false, q.Cursor == store.LastCursor
	var bound int64
	if q.Cursor != "" && !last {
		raw := q.Cursor
		raw, back = strings.CutPrefix(raw, "b")
		if bound, err = strconv.ParseInt(raw, 10, 64); err != nil || bound < 0 {
			return nil, "", custodian.Errorf(custodian.EINVALID, "the paging cursor is not valid")
		}
		if back {
			cond += " AND r.rid < ?"
		} else {
			cond += " AND r.rid > ?"
		}
		args = append(args, bound)
	}
	back = back || last
	order := "r.rid"
	if back {
		order = "r.rid DESC"
	}
	args = append(args, q.Count+1)
	rows, err := c.query(`SELECT `+versionColumns+`, r.rid
		FROM resources r JOIN versions v ON v.rid = r.rid AND v.version = r.version
		WHERE `+cond+` ORDER BY `+order+` LIMIT ?`, c.db.dialect.searchArgs(args)...)
	if err != nil {
		return nil, "", translate(err)
	}
	defer rows.Close()
	var rids []int64
	for rows.Next() {
		var rid int64
		r, err := scanVersion(rows, &rid)
		if err != nil {
			return nil, "", translate(err)
		}
		page.Resources = append(page.Resources, r)
		rids = append(rids, rid)
	}
	if err := rows.Err(); err != nil {
		return nil, "", translate(err)
	}
	more := len(rids) > q.Count
	if more {
		page.Resources, rids = page.Resources[:q.Count], rids[:q.Count]
	}
	var prev string
	if back {
		slices.Reverse(page.Resources)
		slices.Reverse(rids)
		if more {
			prev = "b" + strconv.FormatInt(rids[0], 10)
		}
		switch {
		case last:
		case len(rids) > 0:
			page.Next = strconv.FormatInt(rids[len(rids)-1], 10)
		default:
			page.Next = strconv.FormatInt(bound-1, 10)
		}
		return page, prev, nil
	}
	if more {
		page.Next = strconv.FormatInt(rids[len(rids)-1], 10)
	}
	if q.Cursor != "" {
		first := bound + 1
		if len(rids) > 0 {
			first = rids[0]
		}
		prev = "b" + strconv.FormatInt(first, 10)
	}
	return page, prev, nil
}

// checkText refuses search values that are not text an engine can
// compare: PostgreSQL rejects a NUL character and bytes that are not UTF-8
// (SQLite would compare them, and find nothing).
func checkText(args []any) error {
	for _, a := range args {
		if s, ok := a.(string); ok && (!utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0) {
			return custodian.Errorf(custodian.EINVALID, "a search value is not valid text: it holds a NUL character or bytes that are not UTF-8")
		}
	}
	return nil
}

// sortedSearch runs a search with _sort: the keys are computed in a
// subquery, and the page continues after (or, going back, ends before) the
// cursor's (keys…, rid).
func (c *conn) sortedSearch(b *sqlBuilder, q *store.Query, cond string, args []any, page *store.SearchPage) (*store.SearchPage, string, error) {
	last := q.Cursor == store.LastCursor
	back := last || strings.HasPrefix(q.Cursor, "p")
	var vals []any
	if q.Cursor != "" && !last {
		var err error
		if vals, err = decodeSortCursor(q.Cursor, q.Sort); err != nil {
			return nil, "", err
		}
	}
	var keys [][]any
	var err error
	if pid, ok := b.walkable(q); ok {
		page.Resources, keys, err = c.walkSorted(q, pid, cond, args, back, vals)
	} else {
		page.Resources, keys, err = c.sortedRows(b, q, cond, args, back, vals)
	}
	if err != nil {
		return nil, "", err
	}
	more := len(keys) > q.Count
	if more {
		page.Resources, keys = page.Resources[:q.Count], keys[:q.Count]
	}
	var prev string
	if back {
		slices.Reverse(page.Resources)
		slices.Reverse(keys)
		if more {
			prev = encodeSortCursor("p", keys[0])
		}
		if !last && len(keys) > 0 {
			page.Next = encodeSortCursor("s", keys[len(keys)-1])
		}
		return page, prev, nil
	}
	if more {
		page.Next = encodeSortCursor("s", keys[len(keys)-1])
	}
	if q.Cursor != "" && len(keys) > 0 {
		// (An empty page after a cursor, everything after it deleted,
		// has no previous link: the first page is the way back.)
		prev = encodeSortCursor("p", keys[0])
	}
	return page, prev, nil
}

// sortedRows computes the sort keys of every match in a subquery and
// returns up to q.Count+1 rows after (or, going back, before) the cursor
// values vals, in the query's direction, with their keys and rid.
func (c *conn) sortedRows(b *sqlBuilder, q *store.Query, cond string, args []any, back bool, vals []any) ([]*store.Resource, [][]any, error) {
	var cols []string
	var keyArgs []any
	for i, k := range q.Sort {
		e, a, err := b.sortKey(q.Types, k)
		if err != nil {
			return nil, nil, err
		}
		cols = append(cols, e+" AS s"+strconv.Itoa(i))
		keyArgs = append(keyArgs, a...)
	}
	inner := `SELECT r.rid AS rid, ` + strings.Join(cols, ", ") + ` FROM resources r WHERE ` + cond
	all := append(keyArgs, args...)
	// desc reports whether key i (len(q.Sort) is the rid) runs downwards
	// in this query: going back, every direction turns round.
	desc := func(i int) bool { return (i < len(q.Sort) && q.Sort[i].Desc) != back }
	var where string
	if vals != nil {
		// (s0, s1, …, rid) after vals in the mixed directions of the keys.
		var ors []string
		for i := 0; i <= len(q.Sort); i++ {
			var ands []string
			for j := 0; j < i; j++ {
				ands = append(ands, "t.s"+strconv.Itoa(j)+" = ?")
				all = append(all, vals[j])
			}
			col := "t.rid"
			if i < len(q.Sort) {
				col = "t.s" + strconv.Itoa(i)
			}
			op := " > ?"
			if desc(i) {
				op = " < ?"
			}
			ands = append(ands, col+op)
			all = append(all, vals[i])
			ors = append(ors, "("+strings.Join(ands, " AND ")+")")
		}
		where = " WHERE (" + strings.Join(ors, " OR ") + ")"
	}
	var order, sel []string
	for i := 0; i <= len(q.Sort); i++ {
		o := "t.rid"
		if i < len(q.Sort) {
			o = "t.s" + strconv.Itoa(i)
			sel = append(sel, o)
		}
		if desc(i) {
			o += " DESC"
		}
		order = append(order, o)
	}
	all = append(all, q.Count+1)
	rows, err := c.query(`SELECT `+versionColumns+`, t.rid, `+strings.Join(sel, ", ")+`
		FROM (`+inner+`) t JOIN resources r ON r.rid = t.rid JOIN versions v ON v.rid = r.rid AND v.version = r.version`+
		where+` ORDER BY `+strings.Join(order, ", ")+` LIMIT ?`, c.db.dialect.searchArgs(all)...)
	if err != nil {
		return nil, nil, translate(err)
	}
	defer rows.Close()
	return scanSorted(rows, len(q.Sort))
}

// scanSorted reads rows of versionColumns, rid and n sort keys.
func scanSorted(rows *sql.Rows, n int) ([]*store.Resource, [][]any, error) {
	defer rows.Close()
	var out []*store.Resource
	var keys [][]any // each row's sort keys and rid
	for rows.Next() {
		var rid int64
		k := make([]any, n)
		dest := []any{&rid}
		for i := range k {
			dest = append(dest, &k[i])
		}
		r, err := scanVersion(rows, dest...)
		if err != nil {
			return nil, nil, translate(err)
		}
		out = append(out, r)
		keys = append(keys, append(k, rid))
	}
	if err := rows.Err(); err != nil {
		return nil, nil, translate(err)
	}
	return out, keys, nil
}

// encodeSortCursor writes a row's sort key values and rid as a cursor
// after (prefix "s") or before (prefix "p") it.
func encodeSortCursor(prefix string, vals []any) string {
	vals = slices.Clone(vals)
	for i, v := range vals {
		if b, ok := v.([]byte); ok {
			vals[i] = string(b)
		}
	}
	raw, _ := json.Marshal(vals)
	return prefix + base64.RawURLEncoding.EncodeToString(raw)
}

// decodeSortCursor reads the values encodeSortCursor wrote, typed for the
// sort keys (and the rid last).
func decodeSortCursor(cur string, keys []store.SortKey) ([]any, error) {
	bad := custodian.Errorf(custodian.EINVALID, "the paging cursor is not valid")
	if cur == "" || (cur[0] != 's' && cur[0] != 'p') {
		return nil, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(cur[1:])
	if err != nil {
		return nil, bad
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var vals []any
	if err := dec.Decode(&vals); err != nil || len(vals) != len(keys)+1 {
		return nil, bad
	}
	for i, v := range vals {
		switch x := v.(type) {
		case json.Number:
			if n, err := x.Int64(); err == nil && (i == len(keys) || sortNumeric(keys[i]) == "int") {
				vals[i] = n
			} else if f, err := x.Float64(); err == nil && i < len(keys) {
				vals[i] = f
			} else {
				return nil, bad
			}
		case string:
			if i == len(keys) {
				return nil, bad
			}
		default:
			return nil, bad
		}
	}
	return vals, nil
}

// sortNumeric says how a sort key's values compare: "int", "real" or
// "text".
func sortNumeric(k store.SortKey) string {
	switch {
	case k.Param == "_lastUpdated" || k.Kind == store.KindDate:
		return "int"
	case k.Param == "_id":
		return "text"
	case k.Kind == store.KindNumber || k.Kind == store.KindQuantity:
		return "real"
	}
	return "text"
}
