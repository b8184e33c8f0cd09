// Package chartdb keeps the chart review index between starts (see
// chart.Facts) in the SQL database beside the store, on SQLite and
// PostgreSQL alike: table chart_fact holds one row per resource the index
// reads (its version and what the index keeps of it) and chart_state the
// change position the rows reflect (migration 0014).
//
// The rows are derived data written by Custodian itself, like the search
// index: not versioned or audited; the record they come from is. They are
// written in short transactions of their own on the store's write
// connection, between the store's group commits.
package chartdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/chart"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/store"
)

// stateName names the chart_state row of the review index.
const stateName = "index"

// rowsPerStatement and rowsPerTx bound a save's statements and
// transactions, so a save never holds the writer for long.
const (
	rowsPerStatement = 250
	rowsPerTx        = 2500
)

// Facts implements chart.Facts over a Custodian database.
type Facts struct {
	db *sqldb.DB
}

// New returns the facts kept in db.
func New(db *sqldb.DB) *Facts { return &Facts{db: db} }

// bind numbers "?" placeholders for engines that number them.
func (f *Facts) bind(query string) string {
	if !f.db.Dialect().Numbered {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Saved implements chart.Facts.
func (f *Facts) Saved(ctx context.Context) (chart.SavedState, bool, error) {
	var st chart.SavedState
	var ms int64
	err := f.db.SQL().QueryRowContext(ctx, f.bind(`SELECT position, replay, format, saved FROM chart_state WHERE name = ?`), stateName).
		Scan(&st.Position, &st.Replay, &st.Format, &ms)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return st, false, nil
	case err != nil:
		return st, false, fmt.Errorf("chartdb: reading the saved state: %w", err)
	}
	st.Saved = time.UnixMilli(ms).UTC()
	return st, true, nil
}

// Scan implements chart.Facts.
func (f *Facts) Scan(ctx context.Context, fn func(chart.Fact) error) error {
	rows, err := f.db.SQL().QueryContext(ctx, `SELECT type, id, version, fact FROM chart_fact`)
	if err != nil {
		return fmt.Errorf("chartdb: reading the facts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var x chart.Fact
		if err := rows.Scan(&x.Type, &x.ID, &x.Version, &x.Data); err != nil {
			return fmt.Errorf("chartdb: reading the facts: %w", err)
		}
		if err := fn(x); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("chartdb: reading the facts: %w", err)
	}
	return nil
}

// Newest implements chart.Facts.
func (f *Facts) Newest(ctx context.Context) (int64, error) {
	var n sql.NullInt64
	if err := f.db.SQL().QueryRowContext(ctx, `SELECT max(seq) FROM versions`).Scan(&n); err != nil {
		return 0, fmt.Errorf("chartdb: the newest change: %w", err)
	}
	return n.Int64, nil
}

// Changes implements chart.Facts: the versions table after the position
// (its primary key), a page at a time, without bodies.
func (f *Facts) Changes(ctx context.Context, after int64, types []string, fn func(typ, id string, version int64) error) (int64, error) {
	const page = 10000
	in := strings.TrimSuffix(strings.Repeat("?, ", len(types)), ", ")
	query := f.bind(`SELECT v.seq, v.type, r.id, v.version FROM versions v JOIN resources r ON r.rid = v.rid
		WHERE v.seq > ? AND v.type IN (` + in + `) ORDER BY v.seq LIMIT ` + strconv.Itoa(page))
	// Every change up to the newest position before the reading is in it,
	// whatever its type.
	newest, err := f.Newest(ctx)
	if err != nil {
		return 0, err
	}
	newest = max(newest, after)
	type row struct {
		typ, id string
		version int64
	}
	for {
		args := make([]any, 0, 1+len(types))
		args = append(args, after)
		for _, t := range types {
			args = append(args, t)
		}
		rs, err := f.db.SQL().QueryContext(ctx, query, args...)
		if err != nil {
			return 0, fmt.Errorf("chartdb: reading the changes: %w", err)
		}
		var got []row
		for rs.Next() {
			var x row
			if err := rs.Scan(&after, &x.typ, &x.id, &x.version); err != nil {
				rs.Close()
				return 0, fmt.Errorf("chartdb: reading the changes: %w", err)
			}
			got = append(got, x)
		}
		err = rs.Err()
		rs.Close()
		if err != nil {
			return 0, fmt.Errorf("chartdb: reading the changes: %w", err)
		}
		newest = max(newest, after)
		// The page is read before fn runs, so fn may read the store.
		for _, x := range got {
			if err := fn(x.typ, x.id, x.version); err != nil {
				return 0, err
			}
		}
		if len(got) < page {
			return newest, nil
		}
	}
}

// Current implements chart.Facts through the store's reader (which
// decompresses bodies), in one read transaction.
func (f *Facts) Current(ctx context.Context, refs []chart.Fact, fn func(*store.Resource) error) error {
	return f.db.Read(ctx, func(rd store.Reader) error {
		for _, ref := range refs {
			r, err := rd.Current(ctx, ref.Type, ref.ID)
			if custodian.ErrorCode(err) == custodian.ENOTFOUND {
				r = &store.Resource{Type: ref.Type, ID: ref.ID, VersionID: ref.Version, Deleted: true}
			} else if err != nil {
				return err
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// Save implements chart.Facts: upserts that keep a newer stored version
// and deletes, a few thousand rows per transaction, the state with the
// last of them.
func (f *Facts) Save(ctx context.Context, facts []chart.Fact, state *chart.SavedState) error {
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

func (f *Facts) write(ctx context.Context, tx *sql.Tx, facts []chart.Fact) error {
	var puts, dels []chart.Fact
	for _, x := range facts {
		if x.Data == nil {
			dels = append(dels, x)
		} else {
			puts = append(puts, x)
		}
	}
	for i := 0; i < len(dels); i += rowsPerStatement {
		part := dels[i:min(i+rowsPerStatement, len(dels))]
		var b strings.Builder
		b.WriteString(`DELETE FROM chart_fact WHERE `)
		args := make([]any, 0, 3*len(part))
		for j, x := range part {
			if j > 0 {
				b.WriteString(" OR ")
			}
			b.WriteString("(type = ? AND id = ? AND version <= ?)")
			args = append(args, x.Type, x.ID, x.Version)
		}
		if _, err := tx.ExecContext(ctx, f.bind(b.String()), args...); err != nil {
			return fmt.Errorf("chartdb: removing facts: %w", err)
		}
	}
	for i := 0; i < len(puts); i += rowsPerStatement {
		part := puts[i:min(i+rowsPerStatement, len(puts))]
		var b strings.Builder
		b.WriteString(`INSERT INTO chart_fact (type, id, version, fact) VALUES `)
		args := make([]any, 0, 4*len(part))
		for j, x := range part {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?)")
			args = append(args, x.Type, x.ID, x.Version, x.Data)
		}
		b.WriteString(` ON CONFLICT (type, id) DO UPDATE SET version = excluded.version, fact = excluded.fact
			WHERE excluded.version >= chart_fact.version`)
		if _, err := tx.ExecContext(ctx, f.bind(b.String()), args...); err != nil {
			return fmt.Errorf("chartdb: saving facts: %w", err)
		}
	}
	return nil
}

func (f *Facts) putState(ctx context.Context, tx *sql.Tx, st *chart.SavedState) error {
	_, err := tx.ExecContext(ctx, f.bind(`INSERT INTO chart_state (name, position, replay, format, saved) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET position = excluded.position, replay = excluded.replay, format = excluded.format, saved = excluded.saved`),
		stateName, st.Position, st.Replay, st.Format, st.Saved.UnixMilli())
	if err != nil {
		return fmt.Errorf("chartdb: saving the state: %w", err)
	}
	return nil
}

// Clear implements chart.Facts: the state goes first (in the same
// transaction), so facts half rewritten are never taken for saved ones.
func (f *Facts) Clear(ctx context.Context) error {
	return f.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, f.bind(`DELETE FROM chart_state WHERE name = ?`), stateName); err != nil {
			return fmt.Errorf("chartdb: clearing the state: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM chart_fact`); err != nil {
			return fmt.Errorf("chartdb: clearing the facts: %w", err)
		}
		return nil
	})
}

// tx runs fn in a transaction on the store's write connection.
func (f *Facts) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := f.db.Raw().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("chartdb: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("chartdb: %w", err)
	}
	return nil
}
