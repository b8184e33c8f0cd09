package sqldb

import (
	"context"
	"time"

	"github.com/custodian-him/custodian/store"
)

// CustomSearchParams implements search.CustomSource: the current
// SearchParameter resources, each Active if custodian reindex has indexed
// every resource by its current version.
func (db *DB) CustomSearchParams(ctx context.Context) ([]store.CustomParam, error) {
	var out []store.CustomParam
	err := db.Read(ctx, func(rd store.Reader) error {
		c := rd.(*conn)
		rows, err := c.query(`SELECT ` + versionColumns + `, COALESCE(a.version, 0)
			FROM resources r JOIN versions v ON v.rid = r.rid AND v.version = r.version
			LEFT JOIN search_param_active a ON a.id = r.id
			WHERE r.type = 'SearchParameter' AND r.deleted = 0 ORDER BY r.rid`)
		if err != nil {
			return translate(err)
		}
		defer rows.Close()
		for rows.Next() {
			var active int64
			r, err := scanVersion(rows, &active)
			if err != nil {
				return translate(err)
			}
			out = append(out, store.CustomParam{ID: r.ID, Version: r.VersionID, Body: r.Body, Active: active == r.VersionID})
		}
		return translate(rows.Err())
	})
	return out, err
}

// ActivateSearchParams records that every resource has been indexed by
// these versions of their SearchParameters (custodian reindex, at the end
// of a complete pass).
func (db *DB) ActivateSearchParams(ctx context.Context, ps []store.CustomParam) error {
	if len(ps) == 0 {
		return nil
	}
	now := time.Now().UnixMilli()
	return db.Write(ctx, func(tx store.Tx) error {
		c := tx.(*conn)
		for _, p := range ps {
			if _, err := c.exec(`INSERT INTO search_param_active (id, version, ts) VALUES (?, ?, ?)
				ON CONFLICT (id) DO UPDATE SET version = excluded.version, ts = excluded.ts`, p.ID, p.Version, now); err != nil {
				return err
			}
		}
		return nil
	})
}
