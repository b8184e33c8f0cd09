package sqldb

import (
	"context"
	"database/sql"
	"errors"

	"github.com/custodian-him/custodian/store"
)

// ScanCurrent implements store.Reindexer: the current, non-deleted
// resources with row ids above after, in row-id order, at most limit.
func (c *conn) ScanCurrent(_ context.Context, after int64, limit int) ([]*store.Resource, []int64, error) {
	rows, err := c.query(`SELECT `+versionColumns+`, r.rid
		FROM resources r JOIN versions v ON v.rid = r.rid AND v.version = r.version
		WHERE r.rid > ? AND r.deleted = 0 ORDER BY r.rid LIMIT ?`, after, limit)
	if err != nil {
		return nil, nil, translate(err)
	}
	defer rows.Close()
	var out []*store.Resource
	var rids []int64
	for rows.Next() {
		var rid int64
		r, err := scanVersion(rows, &rid)
		if err != nil {
			return nil, nil, translate(err)
		}
		out = append(out, r)
		rids = append(rids, rid)
	}
	return out, rids, translate(rows.Err())
}

// ReplaceIndex implements store.Reindexer: it replaces the index rows of
// the current version of typ/id, and its compartment, if that version is
// still vid (a newer write has indexed itself already).
func (c *conn) ReplaceIndex(_ context.Context, typ, id string, vid int64, compartment string, index []store.IndexEntry) error {
	var rid int64
	err := c.queryRow(`SELECT rid FROM resources WHERE type = ? AND id = ? AND version = ? AND deleted = 0`, typ, id, vid).Scan(&rid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return translate(err)
	}
	if _, err := c.exec(`UPDATE resources SET compartment = ? WHERE rid = ?`, compartment, rid); err != nil {
		return err
	}
	if err := c.clearIndex(rid); err != nil {
		return err
	}
	return c.writeIndex(typ, rid, index)
}
