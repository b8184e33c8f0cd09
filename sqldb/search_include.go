package sqldb

import (
	"context"

	"github.com/custodian-him/custodian/store"
)

// includeChunk bounds the ids bound in one include query.
const includeChunk = 400

// Include implements store.IncludeReader: one query per type of the
// resources in from (and per chunk of 400 of them), never one per resource.
func (c *conn) Include(ctx context.Context, q *store.Query, inc store.Include, from []*store.Resource) ([]*store.Resource, error) {
	byType := map[string][]any{}
	var order []string
	for _, r := range from {
		if !inc.Rev && r.Type != inc.Type {
			continue
		}
		if _, ok := byType[r.Type]; !ok {
			order = append(order, r.Type)
		}
		byType[r.Type] = append(byType[r.Type], r.ID)
	}
	// A union parameter's values are partly in its parts' rows (union.go).
	pids := c.db.paramPids(inc.Type, inc.Param)
	if len(pids) == 0 {
		return nil, nil
	}
	var out []*store.Resource
	for _, typ := range order {
		ids := byType[typ]
		for start := 0; start < len(ids); start += includeChunk {
			chunk := ids[start:min(start+includeChunk, len(ids))]
			where := []string{"r.deleted = 0"}
			var args []any
			var query string
			if inc.Rev {
				// Resources of inc.Type whose inc.Param refers to these.
				query = `SELECT ` + versionColumns + ` FROM idx_reference x JOIN resources r ON r.rid = x.rid
					JOIN versions v ON v.rid = r.rid AND v.version = r.version
					WHERE x.pid IN (` + placeholders(len(pids)) + `) AND x.ref_type = ? AND x.ref_id IN (` + placeholders(len(chunk)) + `) AND `
				args = append(append(append(args, pids...), typ), chunk...)
			} else {
				// Resources these refer to through inc.Param.
				// (CROSS JOIN: start from the page's resources, in SQLite.)
				query = `SELECT ` + versionColumns + ` FROM resources s CROSS JOIN idx_reference x
					CROSS JOIN resources r CROSS JOIN versions v
					WHERE x.rid = s.rid AND r.type = x.ref_type AND r.id = x.ref_id AND v.rid = r.rid AND v.version = r.version
					AND x.pid IN (` + placeholders(len(pids)) + `) AND s.type = ? AND s.id IN (` + placeholders(len(chunk)) + `) AND `
				args = append(append(append(args, pids...), typ), chunk...)
				if inc.Target != "" {
					where = append(where, "r.type = ?")
					args = append(args, inc.Target)
				}
			}
			where, args = visibilitySQL(q.Visible, where, args)
			countStatement(ctx)
			rows, err := c.query(query+joinAnd(where), args...)
			if err != nil {
				return nil, translate(err)
			}
			for rows.Next() {
				r, err := scanVersion(rows)
				if err != nil {
					rows.Close()
					return nil, translate(err)
				}
				out = append(out, r)
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return nil, translate(err)
			}
		}
	}
	return out, nil
}

func joinAnd(w []string) string {
	s := ""
	for i, x := range w {
		if i > 0 {
			s += " AND "
		}
		s += x
	}
	return s
}
