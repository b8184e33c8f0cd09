package sqldb

import (
	"context"
	"strconv"
	"strings"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// Search implements store.Reader. Results come in storage order (rid), and
// the cursor is the last rid of a page, so pages stay stable while others
// write: a new resource can only appear after the pages already read.
func (c *conn) Search(_ context.Context, q *store.Query) (*store.SearchPage, error) {
	var where []string
	var args []any
	where = append(where, "r.deleted = 0")
	where, args = visibilitySQL(q.Visible, where, args)
	if len(q.Types) > 0 {
		where = append(where, "r.type IN ("+placeholders(len(q.Types))+")")
		for _, t := range q.Types {
			args = append(args, t)
		}
	}
	for _, cl := range q.Clauses {
		w, a, err := c.clauseSQL(q.Types, cl)
		if err != nil {
			return nil, err
		}
		where = append(where, w)
		args = append(args, a...)
	}
	cond := strings.Join(where, " AND ")
	page := &store.SearchPage{Total: -1}
	if q.CountTotal {
		if err := c.tx.QueryRowContext(c.ctx, c.q(`SELECT count(*) FROM resources r WHERE `+cond), args...).Scan(&page.Total); err != nil {
			return nil, translate(err)
		}
	}
	if q.Count == 0 {
		return page, nil
	}
	if q.Cursor != "" {
		after, err := strconv.ParseInt(q.Cursor, 10, 64)
		if err != nil {
			return nil, custodian.Errorf(custodian.EINVALID, "the paging cursor is not valid")
		}
		cond += " AND r.rid > ?"
		args = append(args, after)
	}
	args = append(args, q.Count+1)
	rows, err := c.tx.QueryContext(c.ctx, c.q(`SELECT `+versionColumns+`, r.rid
		FROM resources r JOIN versions v ON v.rid = r.rid AND v.version = r.version
		WHERE `+cond+` ORDER BY r.rid LIMIT ?`), args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var last int64
	for rows.Next() {
		var rid int64
		r, err := scanVersion(rows, &rid)
		if err != nil {
			return nil, translate(err)
		}
		if len(page.Resources) == q.Count {
			page.Next = strconv.FormatInt(last, 10)
			break
		}
		page.Resources = append(page.Resources, r)
		last = rid
	}
	return page, translate(rows.Err())
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// clauseSQL turns one clause into a condition on r (resources).
func (c *conn) clauseSQL(types []string, cl store.Clause) (string, []any, error) {
	switch cl.Param {
	case "_id":
		var args []any
		for _, v := range cl.Values {
			args = append(args, v.Text)
		}
		return "r.id IN (" + placeholders(len(args)) + ")", args, nil
	case "_lastUpdated":
		var ors []string
		var args []any
		for _, v := range cl.Values {
			w, a := datePredicate(v, "r.ts", "r.ts")
			ors = append(ors, w)
			args = append(args, a...)
		}
		return "(" + strings.Join(ors, " OR ") + ")", args, nil
	}
	var pids []any
	for _, t := range types {
		if pid, ok := c.db.pid(t, cl.Param); ok {
			pids = append(pids, pid)
		}
	}
	if len(pids) == 0 {
		return "1 = 0", nil, nil
	}
	table, ors, args, negate := "", []string(nil), []any(nil), false
	for _, v := range cl.Values {
		var w string
		var a []any
		switch cl.Kind {
		case store.KindToken:
			table = "idx_token"
			switch {
			case v.AnySystem:
				w, a = "code = ?", []any{v.Code}
			case v.Code == "":
				w, a = "system = ?", []any{v.System}
			default:
				w, a = "(code = ? AND system = ?)", []any{v.Code, v.System}
			}
		case store.KindReference:
			table = "idx_reference"
			if v.RefType != "" {
				w, a = "(ref_id = ? AND ref_type = ?)", []any{v.RefID, v.RefType}
			} else {
				w, a = "ref_id = ?", []any{v.RefID}
			}
		case store.KindDate:
			table = "idx_date"
			if v.Prefix == "ne" {
				negate = true
				v.Prefix = "eq"
			}
			w, a = datePredicate(v, "low", "high")
		case store.KindString:
			table = "idx_string"
			w, a = "(value >= ? AND value < ?)", []any{v.Text, v.Text + "\U0010FFFF"}
		case store.KindURI:
			table = "idx_uri"
			w, a = "value = ?", []any{v.Text}
		default:
			return "", nil, custodian.Errorf(custodian.ENOTIMPLEMENTED, "search by %s parameters is not supported yet", cl.Kind)
		}
		ors = append(ors, w)
		args = append(args, a...)
	}
	op := "IN"
	if negate {
		op = "NOT IN"
	}
	sub := "r.rid " + op + " (SELECT rid FROM " + table + " WHERE pid IN (" + placeholders(len(pids)) + ") AND (" + strings.Join(ors, " OR ") + "))"
	return sub, append(pids, args...), nil
}

// datePredicate is the FHIR date comparison of a search value with a stored
// range [lowCol, highCol] (inclusive), per the prefix.
func datePredicate(v store.ClauseValue, lowCol, highCol string) (string, []any) {
	pl, ph := v.Low, v.High
	within := "(" + lowCol + " >= ? AND " + highCol + " <= ?)"
	switch v.Prefix {
	case "ne":
		return "NOT " + within, []any{pl, ph}
	case "gt":
		return highCol + " > ?", []any{ph}
	case "lt":
		return lowCol + " < ?", []any{pl}
	case "ge":
		return "(" + highCol + " > ? OR " + within + ")", []any{ph, pl, ph}
	case "le":
		return "(" + lowCol + " < ? OR " + within + ")", []any{pl, pl, ph}
	case "sa":
		return lowCol + " > ?", []any{ph}
	case "eb":
		return highCol + " < ?", []any{pl}
	case "ap":
		d := max((ph-pl)/10, 86_400_000)
		return "(" + lowCol + " <= ? AND " + highCol + " >= ?)", []any{ph + d, pl - d}
	default: // eq
		return within, []any{pl, ph}
	}
}
