package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// syncTestDB opens a group-commit DB whose dialect relaxes commits and
// syncs through sync, counting the relaxed commits.
func syncTestDB(t *testing.T, sync func(context.Context) error) (*DB, *atomic.Int64) {
	t.Helper()
	w := tableDB(t)
	relaxed := &atomic.Int64{}
	d := &Dialect{Name: "test", GroupCommit: true, Sync: sync,
		Relax: func(ctx context.Context, db *sql.DB) func() {
			relaxed.Add(1)
			return func() {}
		}}
	return New(w, w, d), relaxed
}

func insert(x int) func(store.Tx) error {
	return func(tx store.Tx) error {
		_, err := tx.(*conn).tx.Exec(`INSERT INTO t VALUES (?)`, x)
		return err
	}
}

// TestDurableWriteAnsweredAfterSync checks the pipelined commit: a durable
// write's caller hears back only once a sync that began after its commit
// has returned; the writer meanwhile commits the next group; a light write
// does not wait for a sync; and a failed sync fails the writes it was to
// make durable.
func TestDurableWriteAnsweredAfterSync(t *testing.T) {
	ctx := context.Background()
	syncing := make(chan struct{}, 16)
	release := make(chan error)
	var syncs atomic.Int64
	db, relaxed := syncTestDB(t, func(context.Context) error {
		syncs.Add(1)
		syncing <- struct{}{}
		return <-release
	})
	defer db.Close()

	first := make(chan error, 1)
	go func() { first <- db.Write(ctx, insert(1)) }()
	select {
	case <-syncing: // the first group is committed and being flushed
	case err := <-first:
		t.Fatalf("the write returned (%v) without a sync", err)
	}
	select {
	case err := <-first:
		t.Fatalf("the write returned (%v) before its sync did", err)
	case <-time.After(50 * time.Millisecond):
	}
	// The commit is done: a reader sees the row while the flush runs.
	var n int
	if err := db.readDB.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("rows while syncing = %d, %v; want 1", n, err)
	}
	// The writer is free: a second write commits during the first sync,
	// and a light write is answered without any sync.
	second := make(chan error, 1)
	go func() { second <- db.Write(ctx, insert(2)) }()
	waitRows := func(want int) {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			if err := db.readDB.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == want {
				return
			}
			select {
			case <-deadline:
				t.Fatalf("rows = %d, want %d: the writer waited for the sync", n, want)
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	waitRows(2)
	if err := db.Record(ctx, insert(3)); err != nil {
		t.Fatalf("light write: %v", err)
	}
	waitRows(3)
	release <- nil
	if err := <-first; err != nil {
		t.Fatalf("first write: %v", err)
	}
	// The second write needs a sync of its own, begun after its commit.
	select {
	case err := <-second:
		t.Fatalf("the second write returned (%v) without a sync after its commit", err)
	case <-syncing:
	}
	release <- errors.New("disk gone")
	err := <-second
	if custodian.ErrorCode(err) != custodian.EINTERNAL {
		t.Fatalf("second write with a failed sync: %v, want EINTERNAL", err)
	}
	if got := syncs.Load(); got != 2 {
		t.Errorf("syncs = %d, want 2", got)
	}
	if relaxed.Load() < 3 {
		t.Errorf("relaxed commits = %d, want every group's (3)", relaxed.Load())
	}
}

// TestFailedWriteInSyncedGroup checks that a write that fails in a durable
// group gets its own error after the sync, and the others none.
func TestFailedWriteInSyncedGroup(t *testing.T) {
	ctx := context.Background()
	var syncs atomic.Int64
	db, _ := syncTestDB(t, func(context.Context) error { syncs.Add(1); return nil })
	defer db.Close()
	bad := custodian.Errorf(custodian.EINVALID, "bad")
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			if i%3 == 0 {
				errs <- db.Write(ctx, func(store.Tx) error { return bad })
				return
			}
			errs <- db.Write(ctx, insert(i))
		}()
	}
	var failed int
	for range 8 {
		if err := <-errs; err != nil {
			if custodian.ErrorCode(err) != custodian.EINVALID {
				t.Fatalf("unexpected error %v", err)
			}
			failed++
		}
	}
	if failed != 3 {
		t.Errorf("failed writes = %d, want 3", failed)
	}
	var n int
	if err := db.readDB.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil || n != 5 {
		t.Errorf("rows = %d, %v; want 5", n, err)
	}
	if syncs.Load() == 0 {
		t.Error("no sync")
	}
}

// TestCloseAnswersWritesBeingSynced checks that Close waits for the syncer:
// a write committed just before it is answered with its outcome, not with
// "closing".
func TestCloseAnswersWritesBeingSynced(t *testing.T) {
	ctx := context.Background()
	syncing := make(chan struct{}, 1)
	release := make(chan struct{})
	db, _ := syncTestDB(t, func(context.Context) error {
		select {
		case syncing <- struct{}{}:
		default:
		}
		<-release
		return nil
	})
	res := make(chan error, 1)
	go func() { res <- db.Write(ctx, insert(1)) }()
	select {
	case <-syncing:
	case err := <-res:
		t.Fatalf("the write returned (%v) without a sync", err)
	}
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	time.Sleep(20 * time.Millisecond)
	close(release)
	if err := <-res; err != nil {
		t.Fatalf("write committed before Close: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
}
