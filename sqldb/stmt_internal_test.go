package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"
)

// PreparedCounts is the number of statements the writer's and the readers'
// caches keep, for the tests of package sqldb_test.
func PreparedCounts(db *DB) (writer, reader int) {
	db.bg.Wait()
	if db.wstmts != nil {
		writer = db.wstmts.len()
	}
	if db.rstmts != nil {
		reader = db.rstmts.len()
	}
	return writer, reader
}

// TestStmtCacheEvicts keeps the most recently used statements, closes the
// others, and leaves a statement a transaction is using usable until the
// transaction ends.
func TestStmtCacheEvicts(t *testing.T) {
	ctx := context.Background()
	pool, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	pool.SetMaxOpenConns(2)
	if _, err := pool.Exec(`CREATE TABLE t (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	sc := newStmtCache(pool, 3)
	text := func(i int) string { return fmt.Sprintf("SELECT %d + count(*) FROM t WHERE x <> ?", i) }
	for i := range 3 {
		if !sc.want(text(i)) {
			t.Fatalf("text %d was wanted already", i)
		}
		if sc.want(text(i)) {
			t.Fatalf("text %d wanted twice", i)
		}
		sc.prepare(ctx, text(i), text(i))
	}
	tx, err := pool.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	inTx := tx.StmtContext(ctx, sc.get(text(1)))
	held := sc.get(text(0)) // now the most recently used, then 1, then 2
	for i := 3; i < 5; i++ {
		sc.want(text(i))
		sc.prepare(ctx, text(i), text(i))
	}
	if n := sc.len(); n != 3 {
		t.Fatalf("kept %d statements, want 3", n)
	}
	for i, want := range []bool{true, false, false, true, true} /* 2 and then 1 evicted */ {
		if got := sc.get(text(i)) != nil; got != want {
			t.Errorf("text %d kept = %v, want %v", i, got, want)
		}
	}
	var n int
	if err := inTx.QueryRowContext(ctx, 7).Scan(&n); err != nil || n != 1 {
		t.Fatalf("evicted statement inside its transaction: %d, %v", n, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := held.QueryRowContext(ctx, 7).Scan(&n); err != nil || n != 0 {
		t.Fatalf("kept statement: %d, %v", n, err)
	}
	sc.close()
	if sc.len() != 0 || sc.want(text(0)) {
		t.Fatal("a closed cache still keeps or wants statements")
	}
}
