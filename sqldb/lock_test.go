package sqldb_test

import (
	"context"
	"testing"
	"time"

	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/postgres"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

// TestLockAll checks that a write's locks taken together (store.MultiLocker)
// hold every key until the write commits: on PostgreSQL a second node
// locking the last of the keys waits for the first node's commit. On
// SQLite, which has one writer, there is nothing to take.
func TestLockAll(t *testing.T) {
	ctx := context.Background()
	keys := []string{"cond:Encounter?identifier=v|1", "cond:Patient?identifier=m|1", "cond:Patient?identifier=m|1", "cond:Patient?identifier=m|2"}
	if sqldbtest.Engine() != "postgres" {
		db := sqldbtest.Open(t)
		err := db.Write(ctx, func(tx store.Tx) error { return tx.(store.MultiLocker).LockAll(ctx, keys) })
		if err != nil {
			t.Fatalf("LockAll on %s: %v", sqldbtest.Engine(), err)
		}
		return
	}
	u := sqldbtest.URL(t)
	open := func() *sqldb.DB {
		db, err := postgres.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	one := open()
	locked, release, firstDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		firstDone <- one.Write(ctx, func(tx store.Tx) error {
			if err := tx.(store.MultiLocker).LockAll(ctx, keys); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	select {
	case <-locked:
	case err := <-firstDone:
		t.Fatalf("the first write ended before it held its locks: %v", err)
	}
	// Two more nodes (each has one writer) lock the first and the last
	// key: both wait until the first node commits.
	var others []chan error
	for _, key := range []string{keys[0], keys[3]} {
		node, done := open(), make(chan error, 1)
		others = append(others, done)
		go func() { done <- node.Write(ctx, func(tx store.Tx) error { return tx.Lock(ctx, key) }) }()
	}
	time.Sleep(300 * time.Millisecond)
	for i, done := range others {
		select {
		case err := <-done:
			close(release)
			t.Fatalf("another node took lock %d while the first held it (err %v)", i, err)
		default:
		}
	}
	close(release)
	if err := <-firstDone; err != nil {
		t.Fatalf("first write: %v", err)
	}
	for _, done := range others {
		if err := <-done; err != nil {
			t.Fatalf("a write after the first committed: %v", err)
		}
	}
	// A key no one holds is taken at once.
	start := time.Now()
	if err := open().Write(ctx, func(tx store.Tx) error {
		return tx.(store.MultiLocker).LockAll(ctx, []string{"cond:free?x=1", "cond:free?x=2"})
	}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("free keys took %v", d)
	}
}
