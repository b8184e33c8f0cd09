package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian/sqldb/sqlite"
)

// TestCheckpointerCopiesTheWAL checks that committed pages reach the
// database file within a few seconds without the writer checkpointing
// (its own threshold, 32,768 pages, is far above what the test writes),
// and that Sync succeeds with a WAL and after the last close removed it.
func TestCheckpointerCopiesTheWAL(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "custodian.db")
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	// Let the checkpointer copy what opening wrote (the migrations).
	time.Sleep(1500 * time.Millisecond)
	before := size()
	w := db.Raw()
	if _, err := w.ExecContext(ctx, `CREATE TABLE filler (x TEXT)`); err != nil {
		t.Fatal(err)
	}
	row := strings.Repeat("x", 1000)
	for range 20 {
		if _, err := w.ExecContext(ctx, `INSERT INTO filler (x) SELECT ? FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 100) SELECT i FROM n)`, row); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Sync(ctx); err != nil {
		t.Fatalf("Sync with a WAL: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for size() < before+1<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("the database file is %d bytes, %d before 2 MB were committed: nothing checkpointed in 5 s", size(), before)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		t.Skip("the last close left the WAL file")
	}
	if err := db.Sync(ctx); err != nil {
		t.Errorf("Sync without a WAL file: %v", err)
	}
}
