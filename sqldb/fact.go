package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/projection"
	"github.com/custodian-him/custodian/store"
)

// FactTables names where a FactStore keeps a projection's facts: a table
// with one row per resource (columns type, id, version, fact; primary key
// type and id) and a state table (columns name, position, replay, format,
// saved) with the row Row. The names are the migrations' own, never input.
type FactTables struct {
	Facts, State, Row string
}

// FactStore keeps a projection's saved facts (projection.Store) in the
// database beside the store, and reads the store's change feed for it.
//
// The rows are derived data written by Custodian itself, like the search
// index: not versioned or audited; the record they come from is. They are
// written in short transactions of their own on the store's write
// connection, between the store's group commits, a few thousand rows at a
// time so that a save never holds the writer for long.
type FactStore struct {
	db *DB
	t  FactTables
}

var _ projection.Store = (*FactStore)(nil)

// NewFactStore returns the facts kept in db's tables t.
func NewFactStore(db *DB, t FactTables) *FactStore { return &FactStore{db: db, t: t} }

// factRowsPerStatement and factRowsPerTx bound a save's statements and
// transactions.
const (
	factRowsPerStatement = 250
	factRowsPerTx        = 2500
)

func (f *FactStore) q(query string) string { return f.db.dialect.rebind(query) }

// fail names the tables in an error.
func (f *FactStore) fail(what string, err error) error {
	return fmt.Errorf("sqldb: %s: %s: %w", f.t.Facts, what, err)
}

// Saved implements projection.Store.
func (f *FactStore) Saved(ctx context.Context) (projection.SavedState, bool, error) {
	var st projection.SavedState
	var ms int64
	err := f.db.SQL().QueryRowContext(ctx, f.q(`SELECT position, replay, format, saved FROM `+f.t.State+` WHERE name = ?`), f.t.Row).
		Scan(&st.Position, &st.Replay, &st.Format, &ms)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return st, false, nil
	case err != nil:
		return st, false, f.fail("reading the saved state", err)
	}
	st.Saved = time.UnixMilli(ms).UTC()
	return st, true, nil
}

// Scan implements projection.Store.
func (f *FactStore) Scan(ctx context.Context, fn func(projection.Fact) error) error {
	rows, err := f.db.SQL().QueryContext(ctx, `SELECT type, id, version, fact FROM `+f.t.Facts)
	if err != nil {
		return f.fail("reading the facts", err)
	}
	defer rows.Close()
	for rows.Next() {
		var x projection.Fact
		if err := rows.Scan(&x.Type, &x.ID, &x.Version, &x.Data); err != nil {
			return f.fail("reading the facts", err)
		}
		if err := fn(x); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return f.fail("reading the facts", err)
	}
	return nil
}

// Newest implements projection.Store.
func (f *FactStore) Newest(ctx context.Context) (int64, error) {
	var n sql.NullInt64
	if err := f.db.SQL().QueryRowContext(ctx, `SELECT max(seq) FROM versions`).Scan(&n); err != nil {
		return 0, f.fail("the newest change", err)
	}
	return n.Int64, nil
}

// Changes implements projection.Store: the versions table after the
// position (its primary key), a page at a time, without bodies.
func (f *FactStore) Changes(ctx context.Context, after int64, types []string, fn func(typ, id string, version int64, deleted bool) error) (int64, error) {
	const page = 10000
	in := strings.TrimSuffix(strings.Repeat("?, ", len(types)), ", ")
	query := f.q(`SELECT v.seq, v.type, r.id, v.version, CASE WHEN v.body IS NULL THEN 1 ELSE 0 END
		FROM versions v JOIN resources r ON r.rid = v.rid
		WHERE v.seq > ? AND v.type IN (` + in + `) ORDER BY v.seq LIMIT ` + strconv.Itoa(page))
	// Every change up to the newest position before the reading is in it,
	// whatever its type.
	newest, err := f.Newest(ctx)
	if err != nil {
		return 0, err
	}
	newest = max(newest, after)
	args := make([]any, 1+len(types))
	for i, t := range types {
		args[1+i] = t
	}
	for {
		args[0] = after
		got, err := f.changePage(ctx, query, args, &after)
		if err != nil {
			return 0, err
		}
		newest = max(newest, after)
		// The page is read before fn runs, so fn may read the store.
		for _, c := range got {
			if err := fn(c.Type, c.ID, c.Version, c.Deleted); err != nil {
				return 0, err
			}
		}
		if len(got) < page {
			return newest, nil
		}
	}
}

// changePage reads one page of Changes, leaving the last position in
// *after.
func (f *FactStore) changePage(ctx context.Context, query string, args []any, after *int64) ([]projection.Change, error) {
	rows, err := f.db.SQL().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, f.fail("reading the changes", err)
	}
	defer rows.Close()
	var got []projection.Change
	for rows.Next() {
		var c projection.Change
		var del int64
		if err := rows.Scan(after, &c.Type, &c.ID, &c.Version, &del); err != nil {
			return nil, f.fail("reading the changes", err)
		}
		c.Deleted = del != 0
		got = append(got, c)
	}
	if err := rows.Err(); err != nil {
		return nil, f.fail("reading the changes", err)
	}
	return got, nil
}

// Current calls fn with the current version of each resource named (Type
// and ID), Deleted set for a delete or a resource that does not exist,
// through the store's reader (which decompresses bodies), in one read
// transaction.
func (f *FactStore) Current(ctx context.Context, refs []projection.Fact, fn func(*store.Resource) error) error {
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

// Versions calls fn with the body of each version asked for (nil for a
// delete), skipping versions that no longer exist, through the store's
// reader in one read transaction.
func (f *FactStore) Versions(ctx context.Context, want []projection.Fact, fn func(typ, id string, version int64, body []byte) error) error {
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

// Save implements projection.Store: upserts that keep a newer stored
// version and deletes, a few thousand rows per transaction, the state
// with the last of them.
func (f *FactStore) Save(ctx context.Context, facts []projection.Fact, state *projection.SavedState) error {
	for i := 0; i < len(facts) || (i == 0 && state != nil); i += factRowsPerTx {
		chunk := facts[i:min(i+factRowsPerTx, len(facts))]
		last := i+factRowsPerTx >= len(facts)
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

func (f *FactStore) write(ctx context.Context, tx *sql.Tx, facts []projection.Fact) error {
	var puts, dels []projection.Fact
	for _, x := range facts {
		if x.Data == nil {
			dels = append(dels, x)
		} else {
			puts = append(puts, x)
		}
	}
	for i := 0; i < len(dels); i += factRowsPerStatement {
		part := dels[i:min(i+factRowsPerStatement, len(dels))]
		var b strings.Builder
		b.WriteString(`DELETE FROM ` + f.t.Facts + ` WHERE `)
		args := make([]any, 0, 3*len(part))
		for j, x := range part {
			if j > 0 {
				b.WriteString(" OR ")
			}
			b.WriteString("(type = ? AND id = ? AND version <= ?)")
			args = append(args, x.Type, x.ID, x.Version)
		}
		if _, err := tx.ExecContext(ctx, f.q(b.String()), args...); err != nil {
			return f.fail("removing facts", err)
		}
	}
	for i := 0; i < len(puts); i += factRowsPerStatement {
		part := puts[i:min(i+factRowsPerStatement, len(puts))]
		var b strings.Builder
		b.WriteString(`INSERT INTO ` + f.t.Facts + ` (type, id, version, fact) VALUES `)
		args := make([]any, 0, 4*len(part))
		for j, x := range part {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?)")
			args = append(args, x.Type, x.ID, x.Version, x.Data)
		}
		b.WriteString(` ON CONFLICT (type, id) DO UPDATE SET version = excluded.version, fact = excluded.fact
			WHERE excluded.version >= ` + f.t.Facts + `.version`)
		if _, err := tx.ExecContext(ctx, f.q(b.String()), args...); err != nil {
			return f.fail("saving facts", err)
		}
	}
	return nil
}

func (f *FactStore) putState(ctx context.Context, tx *sql.Tx, st *projection.SavedState) error {
	_, err := tx.ExecContext(ctx, f.q(`INSERT INTO `+f.t.State+` (name, position, replay, format, saved) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET position = excluded.position, replay = excluded.replay, format = excluded.format, saved = excluded.saved`),
		f.t.Row, st.Position, st.Replay, st.Format, st.Saved.UnixMilli())
	if err != nil {
		return f.fail("saving the state", err)
	}
	return nil
}

// Clear implements projection.Store: the state goes first (in the same
// transaction), so facts half rewritten are never taken for saved ones.
func (f *FactStore) Clear(ctx context.Context) error {
	return f.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, f.q(`DELETE FROM `+f.t.State+` WHERE name = ?`), f.t.Row); err != nil {
			return f.fail("clearing the state", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+f.t.Facts); err != nil {
			return f.fail("clearing the facts", err)
		}
		return nil
	})
}

// tx runs fn in a transaction on the store's write connection.
func (f *FactStore) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := f.db.Raw().BeginTx(ctx, nil)
	if err != nil {
		return f.fail("beginning a transaction", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return f.fail("committing", err)
	}
	return nil
}
