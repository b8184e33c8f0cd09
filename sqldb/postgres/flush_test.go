package postgres_test

import (
	"context"
	"database/sql"
	"strconv"
	"testing"
	"time"

	"github.com/custodian-him/custodian/sqldb/postgres"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

// TestFlushedBeforeAnswer checks that a write is on the disk when its
// caller hears back, though the writer commits its groups without
// waiting for the disk (pipelined: the syncer flushes them, then answers).
// Inside each write another connection notes where the log ends, past the
// write's own changes; once the write returns, the log must be flushed at
// least that far. The tests' server commits asynchronously by default
// (synchronous_commit=off), so only a flush that really waits passes: a
// sync of SELECT txid_current() alone, which commits without waiting,
// fails at the first write.
func TestFlushedBeforeAnswer(t *testing.T) {
	if sqldbtest.Engine() != "postgres" {
		t.Skip("PostgreSQL only (CUSTODIAN_TEST_ENGINE=postgres)")
	}
	ctx := context.Background()
	u := sqldbtest.URL(t)
	db, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	probe, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	for i := range 20 {
		var inWrite string
		err := db.Write(ctx, func(tx store.Tx) error {
			r := &store.Resource{Type: "Basic", ID: "flush-" + strconv.Itoa(i), VersionID: 1, LastUpdated: time.Now(),
				Method: store.MethodCreate, Body: []byte(`{"resourceType":"Basic"}`)}
			if err := tx.Put(ctx, r, nil); err != nil {
				return err
			}
			return probe.QueryRowContext(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&inWrite)
		})
		if err != nil {
			t.Fatal(err)
		}
		var flushed bool
		if err := probe.QueryRowContext(ctx, "SELECT pg_current_wal_flush_lsn() >= $1::pg_lsn", inWrite).Scan(&flushed); err != nil {
			t.Fatal(err)
		}
		if !flushed {
			t.Fatalf("write %d answered before the log was flushed past it (%s)", i, inWrite)
		}
	}
}
