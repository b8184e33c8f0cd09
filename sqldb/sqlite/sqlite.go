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
	"sync"
	"time"

	"github.com/custodian-him/custodian/sqldb"
	_ "modernc.org/sqlite" // the pure-Go SQLite driver
)

//go:embed migration/*.sql
var migrationFiles embed.FS

// Dialect is SQLite's: "?" placeholders, one writer, group commit.
func Dialect() *sqldb.Dialect {
	return &sqldb.Dialect{Name: "sqlite", GroupCommit: true, InProcess: true, Relax: relax, DDL: translateDDL, LastInsertID: true}
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
	// The WAL is copied into the database by a checkpointer of its own
	// (checkpointer); the writer does it only when the WAL reaches 32,768
	// pages (128 MiB), if the checkpointer falls behind.
	pragmas := url.Values{"_pragma": {
		"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(ON)",
		"temp_store(MEMORY)", "cache_size(-65536)", "wal_autocheckpoint(32768)",
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
	d.Sync = func(context.Context) error { return syncFile(path + "-wal") }
	db := sqldb.New(writeDB, readDB, d)
	cp, err := startCheckpointer(dsn, checkpointEvery)
	if err != nil {
		db.Close()
		return nil, err
	}
	db.CloseWith(cp.stop)
	return db, nil
}

// checkpointEvery is how often the checkpointer copies the WAL into the
// database file: about 32 MiB of WAL at the writer's fastest (an import),
// so a page written again by the commits of that second is copied once.
const checkpointEvery = time.Second

// checkpointer copies committed pages from the WAL into the database file
// on a connection of its own, in the background. Otherwise SQLite does it
// in the connection whose commit takes the WAL past wal_autocheckpoint:
// the single writer, which then stops writing for the copy and its two
// fsyncs. A PASSIVE checkpoint waits for no one: it copies what no reader
// still needs and leaves the rest for the next round; once all is copied,
// the writer starts the WAL again from its beginning.
type checkpointer struct {
	db   *sql.DB
	done chan struct{}
	wg   sync.WaitGroup
}

func startCheckpointer(dsn string, every time.Duration) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	cp := &checkpointer{db: db, done: make(chan struct{})}
	cp.wg.Add(1)
	go func() {
		defer cp.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-cp.done:
				return
			case <-t.C:
				// An error (the disk, a busy lock) leaves the work to the
				// next round or to the writer's own checkpoint.
				var busy, frames, copied int
				db.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
			}
		}
	}()
	return cp, nil
}

func (cp *checkpointer) stop() error {
	close(cp.done)
	cp.wg.Wait()
	return cp.db.Close()
}

// syncFile flushes the file at path, the WAL, to the disk, so that the
// commits made with synchronous=NORMAL (relax) are durable, as a commit with
// synchronous=FULL is. fsync flushes a file's written pages whichever
// descriptor wrote them; the file is opened each time because another
// process may remove and create it again. The database file needs no
// flush: pages reach it only through checkpoints, which flush it before the
// WAL's copies may be overwritten. A WAL that does not exist has nothing
// to flush (SQLite removes it after copying it into the database and
// flushing that).
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("sqlite: sync: %w", err)
	}
	err = f.Sync()
	f.Close()
	if err != nil {
		return fmt.Errorf("sqlite: sync: %w", err)
	}
	return nil
}
