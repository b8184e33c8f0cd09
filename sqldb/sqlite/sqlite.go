// Package sqlite opens Custodian's embedded database: one SQLite file in
// WAL mode, one writer connection with group commit and a pool of readers.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/custodian-him/custodian/sqldb"
	_ "modernc.org/sqlite" // the pure-Go SQLite driver
)

//go:embed migration/*.sql
var migrationFiles embed.FS

// Dialect is SQLite's: "?" placeholders, one writer, group commit.
func Dialect() *sqldb.Dialect {
	return &sqldb.Dialect{Name: "sqlite", GroupCommit: true, Relax: relax, DDL: translateDDL, LastInsertID: true}
}

// translateDDL makes the tables whose CREATE TABLE ends with the marker
// comment "/* clustered */" WITHOUT ROWID tables: stored in the order of
// their primary key, with no hidden row id and no b-tree of their own
// beside it. Other engines read the marker as the comment it is.
func translateDDL(stmt string) string {
	return strings.ReplaceAll(stmt, ClusteredMarker, "WITHOUT ROWID")
}

// ClusteredMarker ends the CREATE TABLE of a table stored in primary key
// order (see translateDDL).
const ClusteredMarker = "/* clustered */"

// relax makes the next commits on the single writer connection skip the
// fsync (WAL with synchronous=NORMAL: safe against a crash of the process,
// durable from the next FULL commit or checkpoint on), until restored.
func relax(ctx context.Context, db *sql.DB) func() {
	if _, err := db.ExecContext(ctx, "PRAGMA synchronous=NORMAL"); err != nil {
		return func() {}
	}
	return func() { db.ExecContext(ctx, "PRAGMA synchronous=FULL") }
}

// Migrations are the schema's numbered migration files. They are written
// in SQLite's SQL; other engines translate the types (see sqldb.Dialect.DDL).
func Migrations() fs.FS {
	mfs, _ := fs.Sub(migrationFiles, "migration")
	return mfs
}

// Open opens (creating if needed) the database in dir and migrates it.
func Open(ctx context.Context, dir string) (*sqldb.DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: create data directory: %w", err)
	}
	path := filepath.Join(dir, "custodian.db")
	// busy_timeout comes first so the other pragmas wait rather than fail.
	// synchronous=FULL makes every commit durable (group commit keeps that
	// affordable); foreign keys catch a version without its resource.
	// The writer copies the WAL into the database once it holds 8,192 pages
	// (32 MiB) rather than SQLite's 1,000: a bulk write fills 1,000 pages
	// at every commit, and pages written again by the next commits (the
	// ends of tables, index pages) are then copied once, not each time;
	// the writer's time in checkpoints halves on an import.
	pragmas := url.Values{"_pragma": {
		"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(ON)",
		"temp_store(MEMORY)", "cache_size(-65536)", "wal_autocheckpoint(8192)",
	}}
	dsn := "file:" + path + "?" + pragmas.Encode()
	writeDB, err := sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	writeDB.SetMaxOpenConns(1)
	writeDB.SetConnMaxLifetime(0)
	writeDB.SetConnMaxIdleTime(0)
	if err := sqldb.Migrate(ctx, writeDB, Dialect(), Migrations()); err != nil {
		writeDB.Close()
		return nil, err
	}
	readDB, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		writeDB.Close()
		return nil, err
	}
	readDB.SetMaxOpenConns(max(4, 2*runtime.NumCPU()))
	readDB.SetMaxIdleConns(max(4, 2*runtime.NumCPU()))
	d := Dialect()
	d.Sync = func(context.Context) error { return syncFiles(path+"-wal", path) }
	return sqldb.New(writeDB, readDB, d), nil
}

// syncFiles flushes the files at paths to the disk: the WAL and the
// database file, so that commits made with synchronous=NORMAL (relax) are
// durable. fsync flushes a file's written pages whichever descriptor wrote
// them. A file that does not exist has nothing to flush (SQLite removes the
// WAL only after copying it into the database and syncing that).
func syncFiles(paths ...string) error {
	for _, p := range paths {
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return fmt.Errorf("sqlite: sync: %w", err)
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return fmt.Errorf("sqlite: sync: %w", err)
		}
	}
	return nil
}
