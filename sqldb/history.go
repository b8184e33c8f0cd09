package sqldb

import (
	"context"
	"strings"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// History implements store.Reader.
func (c *conn) History(_ context.Context, f store.HistoryFilter) (*store.HistoryPage, error) {
	var where []string
	var args []any
	if f.Type != "" && f.ID == "" {
		// With an id the row id below is narrower than the type, and a type
		// condition would lead the planner to walk every version of the type.
		where = append(where, "v.type = ?")
		args = append(args, f.Type)
	}
	if f.ID != "" {
		var rid int64
		err := c.queryRow(`SELECT rid FROM resources WHERE type = ? AND id = ?`, f.Type, f.ID).Scan(&rid)
		if err != nil {
			return nil, custodian.Errorf(custodian.ENOTFOUND, "%s/%s does not exist", f.Type, f.ID)
		}
		where = append(where, "v.rid = ?")
		args = append(args, rid)
	}
	if f.Since != 0 {
		where = append(where, "v.ts >= ?")
		args = append(args, f.Since)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	page := &store.HistoryPage{Total: -1}
	if f.Before == 0 {
		if err := c.queryRow(`SELECT count(*) FROM versions v`+cond, args...).Scan(&page.Total); err != nil {
			return nil, translate(err)
		}
	}
	if f.Before != 0 {
		if cond == "" {
			cond = " WHERE v.seq < ?"
		} else {
			cond += " AND v.seq < ?"
		}
		args = append(args, f.Before)
	}
	args = append(args, f.Count+1)
	rows, err := c.query(`SELECT `+versionColumns+`, v.seq
		FROM versions v JOIN resources r ON r.rid = v.rid`+cond+` ORDER BY v.seq DESC LIMIT ?`, args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var lastSeq int64
	for rows.Next() {
		var seq int64
		r, err := scanVersion(rows, &seq)
		if err != nil {
			return nil, translate(err)
		}
		if len(page.Versions) == f.Count {
			page.Next = lastSeq
			break
		}
		page.Versions = append(page.Versions, r)
		lastSeq = seq
	}
	return page, translate(rows.Err())
}
