// Package factdb keeps the measures' projection of the record (see
// measure.Projection) in the SQL database beside the store, on SQLite and
// PostgreSQL alike: table measure_fact holds one row per projected
// resource (its version and the elements the measures read of it) and
// measure_state the change position the rows reflect (migration 0010).
//
// The rows are derived data, written by Custodian itself: like the search
// index, they are not versioned or audited; the record they come from is.
// They are written in transactions of their own on the store's write
// connection, between the store's group commits, a few thousand rows at a
// time so a save never holds the writer for long.
package factdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/measure"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/store"
)

// stateName is the measure_state row of the measures' record.
const stateName = "record"

// rowsPerStatement and rowsPerTx bound a save's statements and
// transactions.
const (
	rowsPerStatement = 200
	rowsPerTx        = 2000
)

// Facts implements measure.Facts over a Custodian database.
type Facts struct {
	db *sqldb.DB
}

// New returns the facts kept in db.
func New(db *sqldb.DB) *Facts { return &Facts{db: db} }

// q rewrites "?" placeholders for engines that number them.
func (f *Facts) q(query string) string {
	if !f.db.Dialect().Numbered {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// Saved implements measure.Facts.
func (f *Facts) Saved(ctx context.Context) (measure.SavedState, bool, error) {
	var st measure.SavedState
	var saved int64
	err := f.db.SQL().QueryRowContext(ctx, f.q(`SELECT position, replay, format, saved FROM measure_state WHERE name = ?`), stateName).
		Scan(&st.Position, &st.Replay, &st.Format, &saved)
	if errors.Is(err, sql.ErrNoRows) {
		return st, false, nil
	} else if err != nil {
		return st, false, fmt.Errorf("factdb: reading the saved state: %w", err)
	}
	st.Saved = time.UnixMilli(saved).UTC()
	return st, true, nil
}

// Scan implements measure.Source: every saved fact.
func (f *Facts) Scan(ctx context.Context, _ []string, fn func(typ, id string, version int64, body []byte) error) error {
	rows, err := f.db.SQL().QueryContext(ctx, `SELECT type, id, version, fact FROM measure_fact`)
	if err != nil {
		return fmt.Errorf("factdb: reading the facts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var typ, id string
		var version int64
		var fact []byte
		if err := rows.Scan(&typ, &id, &version, &fact); err != nil {
			return fmt.Errorf("factdb: reading the facts: %w", err)
		}
		if err := fn(typ, id, version, fact); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("factdb: reading the facts: %w", err)
	}
	return nil
}

// Newest implements measure.Facts.
func (f *Facts) Newest(ctx context.Context) (int64, error) {
	var n sql.NullInt64
	if err := f.db.SQL().QueryRowContext(ctx, `SELECT max(seq) FROM versions`).Scan(&n); err != nil {
		return 0, fmt.Errorf("factdb: the newest change: %w", err)
	}
	return n.Int64, nil
}

// Changes implements measure.Facts: the versions table after the
// position, a page at a time (its primary key is the position), without
// bodies.
func (f *Facts) Changes(ctx context.Context, after int64, types []string, fn func(typ, id string, version int64, deleted bool) error) (int64, error) {
	const page = 10000
	in := strings.TrimSuffix(strings.Repeat("?, ", len(types)), ", ")
	query := f.q(`SELECT v.seq, v.type, r.id, v.version, CASE WHEN v.body IS NULL THEN 1 ELSE 0 END
		FROM versions v JOIN resources r ON r.rid = v.rid
		WHERE v.seq > ? AND v.type IN (` + in + `) ORDER BY v.seq LIMIT ` + strconv.Itoa(page))
	type row struct {
		typ, id string
		version int64
		deleted bool
	}
	// Every change up to the newest position before the scan is in the
	// scan, whatever its type.
	newest, err := f.Newest(ctx)
	if err != nil {
		return 0, err
	}
	newest = max(newest, after)
	for {
		args := []any{after}
		for _, t := range types {
			args = append(args, t)
		}
		rows, err := f.db.SQL().QueryContext(ctx, query, args...)
		if err != nil {
			return 0, fmt.Errorf("factdb: reading the changes: %w", err)
		}
		var got []row
		for rows.Next() {
			var x row
			var seq, del int64
			if err := rows.Scan(&seq, &x.typ, &x.id, &x.version, &del); err != nil {
				rows.Close()
				return 0, fmt.Errorf("factdb: reading the changes: %w", err)
			}
			x.deleted = del != 0
			got = append(got, x)
			after = seq
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return 0, fmt.Errorf("factdb: reading the changes: %w", err)
		}
		newest = max(newest, after)
		// The rows are read before fn runs, so fn may read the store.
		for _, x := range got {
			if err := fn(x.typ, x.id, x.version, x.deleted); err != nil {
				return 0, err
			}
		}
		if len(got) < page {
			break
		}
	}
	return newest, nil
}

// Versions implements measure.Facts, through the store's reader (which
// decompresses bodies).
func (f *Facts) Versions(ctx context.Context, want []measure.Fact, fn func(typ, id string, version int64, body []byte) error) error {
	return f.db.Read(ctx, func(rd store.Reader) error {
		for _, w := range want {
			r, err := rd.Version(ctx, w.Type, w.ID, w.Version)
			if custodian.ErrorCode(err) == custodian.ENOTFOUND {
				continue
			} else if err != nil {
				return err
			}
			var body []byte
			if !r.Deleted {
				body = r.Body
			}
			if err := fn(w.Type, w.ID, w.Version, body); err != nil {
				return err
			}
		}
		return nil
	})
}

// Save implements measure.Facts: upserts that keep a newer stored
// version, deletes of what is no longer kept, then the state.
func (f *Facts) Save(ctx context.Context, facts []measure.Fact, state *measure.SavedState) error {
	for i := 0; i < len(facts) || (i == 0 && state != nil); i += rowsPerTx {
		chunk := facts[i:min(i+rowsPerTx, len(facts))]
		last := i+rowsPerTx >= len(facts)
		err := f.tx(ctx, func(tx *sql.Tx) error {
			if err := f.write(ctx, tx, chunk); err != nil {
				return err
			}
			if last && state != nil {
				return f.putState(ctx, tx, state)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (f *Facts) write(ctx context.Context, tx *sql.Tx, facts []measure.Fact) error {
	var puts []measure.Fact
	for _, x := range facts {
		if x.Data == nil {
			if _, err := tx.ExecContext(ctx, f.q(`DELETE FROM measure_fact WHERE type = ? AND id = ? AND version <= ?`), x.Type, x.ID, x.Version); err != nil {
				return fmt.Errorf("factdb: removing a fact: %w", err)
			}
			continue
		}
		puts = append(puts, x)
	}
	for i := 0; i < len(puts); i += rowsPerStatement {
		part := puts[i:min(i+rowsPerStatement, len(puts))]
		var b strings.Builder
		b.WriteString(`INSERT INTO measure_fact (type, id, version, fact) VALUES `)
		args := make([]any, 0, 4*len(part))
		for j, x := range part {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?)")
			args = append(args, x.Type, x.ID, x.Version, x.Data)
		}
		b.WriteString(` ON CONFLICT (type, id) DO UPDATE SET version = excluded.version, fact = excluded.fact
			WHERE excluded.version >= measure_fact.version`)
		if _, err := tx.ExecContext(ctx, f.q(b.String()), args...); err != nil {
			return fmt.Errorf("factdb: saving facts: %w", err)
		}
	}
	return nil
}

func (f *Facts) putState(ctx context.Context, tx *sql.Tx, st *measure.SavedState) error {
	_, err := tx.ExecContext(ctx, f.q(`INSERT INTO measure_state (name, position, replay, format, saved) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET position = excluded.position, replay = excluded.replay, format = excluded.format, saved = excluded.saved`),
		stateName, st.Position, st.Replay, st.Format, st.Saved.UnixMilli())
	if err != nil {
		return fmt.Errorf("factdb: saving the state: %w", err)
	}
	return nil
}

// Clear implements measure.Facts.
func (f *Facts) Clear(ctx context.Context) error {
	return f.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, f.q(`DELETE FROM measure_state WHERE name = ?`), stateName); err != nil {
			return fmt.Errorf("factdb: clearing the state: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM measure_fact`); err != nil {
			return fmt.Errorf("factdb: clearing the facts: %w", err)
		}
		return nil
	})
}

// tx runs fn in a transaction on the store's write connection.
func (f *Facts) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := f.db.Raw().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("factdb: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("factdb: %w", err)
	}
	return nil
}
