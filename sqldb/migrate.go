package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"
)

// Migrate applies, in name order, every *.sql file of migrations that the
// database has not recorded yet, each in its own transaction, and records
// it in schema_migrations. Migrations only go forward; an applied file is
// never edited.
func Migrate(ctx context.Context, db *sql.DB, d *Dialect, migrations fs.FS) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil &&
		!strings.Contains(err.Error(), "already exists") { // two nodes starting at once
		return fmt.Errorf("sqldb: create schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrations, "*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	for _, name := range names {
		if err := migrateFile(ctx, db, d, migrations, name); err != nil {
			return fmt.Errorf("sqldb: migration %s: %w", name, err)
		}
	}
	return nil
}

func migrateFile(ctx context.Context, db *sql.DB, d *Dialect, migrations fs.FS, name string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if d.Lock != nil {
		// Two nodes starting together must not both migrate.
		if err := d.Lock(ctx, tx, "schema_migrations"); err != nil {
			return err
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, d.rebind(`SELECT count(*) FROM schema_migrations WHERE name = ?`), name).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	src, err := fs.ReadFile(migrations, name)
	if err != nil {
		return err
	}
	for _, stmt := range strings.Split(string(src), ";\n") {
		if strings.TrimSpace(stripComments(stmt)) == "" || !forEngine(stmt, d.Name) {
			continue
		}
		if d.DDL != nil {
			stmt = d.DDL(stmt)
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, d.rebind(`INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`), name, time.Now().Unix()); err != nil {
		return err
	}
	return tx.Commit()
}

// forEngine reports whether a migration statement runs on the engine
// named: all do except those that begin with "/* only OTHER */".
func forEngine(stmt, engine string) bool {
	body := strings.TrimSpace(stripComments(stmt))
	rest, ok := strings.CutPrefix(body, "/* only ")
	if !ok {
		return true
	}
	name, _, ok := strings.Cut(rest, " */")
	return !ok || name == engine
}

func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
