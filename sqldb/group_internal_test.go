package sqldb

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/custodian-him/custodian/store"
)

// TestGroupTakesInWaitingWrites checks that writes arriving while a group
// runs join a durable group and commit with it, and that a light group
// (committed without waiting for the disk) takes none in.
func TestGroupTakesInWaitingWrites(t *testing.T) {
	ctx := context.Background()
	w := tableDB(t)
	db := New(w, w, &Dialect{Name: "test", GroupCommit: true})
	defer db.Close()

	var mu sync.Mutex
	txOf := map[int]*sql.Tx{} // kept, so no transaction's address is reused
	started, release := make(chan struct{}), make(chan struct{})
	fn := func(x int, block bool) func(store.Tx) error {
		return func(tx store.Tx) error {
			c := tx.(*conn)
			mu.Lock()
			txOf[x] = c.tx
			mu.Unlock()
			if block {
				close(started)
				<-release
			}
			_, err := c.tx.Exec(`INSERT INTO t VALUES (?)`, x)
			return err
		}
	}
	run := func(first func(context.Context, func(store.Tx) error) error, queued func(i int) (func(context.Context, func(store.Tx) error) error, int)) {
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := first(ctx, fn(0, true)); err != nil {
				t.Error(err)
			}
		})
		<-started
		for i := 1; i <= 4; i++ {
			write, x := queued(i)
			wg.Go(func() {
				if err := write(ctx, fn(x, false)); err != nil {
					t.Error(err)
				}
			})
			for deadline := time.Now().Add(5 * time.Second); len(db.writes) < i; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the writes did not queue")
				}
			}
		}
		close(release)
		wg.Wait()
	}

	// Durable writes queued while a durable group runs join it.
	run(db.Write, func(i int) (func(context.Context, func(store.Tx) error) error, int) { return db.Write, i })
	for x := 1; x <= 4; x++ {
		if txOf[x] != txOf[0] {
			t.Errorf("write %d committed apart from the group it waited during", x)
		}
	}

	// A light group (an import batch, audit records) commits without
	// waiting for the disk, so it has no fsync to share: it takes nothing
	// in, and the writes queued meanwhile form the next group.
	started, release = make(chan struct{}), make(chan struct{})
	clear(txOf)
	run(db.Record, func(i int) (func(context.Context, func(store.Tx) error) error, int) {
		if i == 1 || i == 3 {
			return db.Record, i
		}
		return db.Write, i
	})
	if txOf[1] == txOf[0] || txOf[2] == txOf[0] {
		t.Error("a write joined the light group it waited during")
	}
	if txOf[2] != txOf[1] || txOf[3] != txOf[1] || txOf[4] != txOf[1] {
		t.Error("the writes queued during a light group did not form the next group")
	}
	var n int
	if err := w.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil || n != 10 {
		t.Errorf("%d rows stored (%v), want 10", n, err)
	}
}

// TestGroupWaitsForPreparedWrites checks that a durable group keeps taking
// in writes, up to feedTime, while a transaction is being prepared for the
// writer (store.CoreGate.Preparing), and commits at once when none is.
func TestGroupWaitsForPreparedWrites(t *testing.T) {
	ctx := context.Background()
	w := tableDB(t)
	db := New(w, w, &Dialect{Name: "test", GroupCommit: true, InProcess: true})
	defer db.Close()
	if db.CoreGate() == nil {
		t.Fatal("a single-writer engine has no core gate")
	}

	var mu sync.Mutex
	txOf := map[int]*sql.Tx{}
	fn := func(x int) func(store.Tx) error {
		return func(tx store.Tx) error {
			c := tx.(*conn)
			mu.Lock()
			txOf[x] = c.tx
			mu.Unlock()
			_, err := c.tx.Exec(`INSERT INTO t VALUES (?)`, x)
			return err
		}
	}
	// Two writes 5 ms apart, with a transaction being prepared meanwhile
	// or not.
	pair := func(first, second int, preparing bool) {
		if preparing {
			if err := db.CoreGate().Prepare(ctx); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := db.Write(ctx, fn(first)); err != nil {
				t.Error(err)
			}
		})
		time.Sleep(5 * time.Millisecond)
		if preparing {
			db.CoreGate().Done()
		}
		wg.Go(func() {
			if err := db.Write(ctx, fn(second)); err != nil {
				t.Error(err)
			}
		})
		wg.Wait()
	}
	pair(0, 1, true)
	if txOf[1] != txOf[0] {
		t.Error("a write prepared while the group ran did not join it")
	}
	pair(2, 3, false)
	if txOf[3] == txOf[2] {
		t.Error("a group waited for writes when none was being prepared")
	}
}

// tableDB opens a new SQLite database in WAL mode with one table, t (x
// INTEGER), on one connection, for a group-commit DB's writer.
func tableDB(t *testing.T) *sql.DB {
	t.Helper()
	dsn := "file:" + filepath.Join(t.TempDir(), "t.db") + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)"
	w, err := sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	w.SetMaxOpenConns(1)
	if _, err := w.Exec(`CREATE TABLE t (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	return w
}
