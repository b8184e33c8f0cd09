package sqldb_test

import (
	"context"
	"database/sql"
	"os"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

// TestConnectionLostMidTransaction kills the database session of a write
// transaction half-way: the write must fail with a retryable error, leave
// nothing behind, and the next write must work on a new connection.
func TestConnectionLostMidTransaction(t *testing.T) {
	if sqldbtest.Engine() != "postgres" {
		t.Skip("connection loss is a client/server matter; this runs in the PostgreSQL pass of scripts/test")
	}
	db := sqldbtest.Open(t)
	admin, err := sql.Open("pgx", os.Getenv("CUSTODIAN_TEST_DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx := context.Background()
	put := func(tx store.Tx, id string) error {
		return tx.Put(ctx, &store.Resource{Type: "Basic", ID: id, VersionID: 1, LastUpdated: time.Now(), Method: store.MethodCreate,
			Body: []byte(`{"resourceType":"Basic"}`)}, nil)
	}
	err = db.Write(ctx, func(tx store.Tx) error {
		if err := put(tx, "before-loss"); err != nil {
			return err
		}
		// Kill this transaction's own session from outside.
		var pid int
		var dbname string
		if err := db.SQL().QueryRow(`SELECT current_database()`).Scan(&dbname); err != nil {
			return err
		}
		rows, err := admin.Query(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND state = 'idle in transaction'`, dbname)
		if err != nil {
			return err
		}
		for rows.Next() {
			rows.Scan(&pid)
			admin.Exec(`SELECT pg_terminate_backend($1)`, pid)
		}
		rows.Close()
		return put(tx, "after-loss")
	})
	if custodian.ErrorCode(err) != custodian.EUNAVAILABLE {
		t.Fatalf("write across a lost connection: %v (code %q), want EUNAVAILABLE", err, custodian.ErrorCode(err))
	}
	// Nothing of it is stored, and the database is usable again.
	if err := db.Write(ctx, func(tx store.Tx) error { return put(tx, "next") }); err != nil {
		t.Fatalf("write after reconnecting: %v", err)
	}
	db.Read(ctx, func(rd store.Reader) error {
		for _, id := range []string{"before-loss", "after-loss"} {
			if _, err := rd.Current(ctx, "Basic", id); custodian.ErrorCode(err) != custodian.ENOTFOUND {
				t.Errorf("%s: %v; the lost transaction left it behind", id, err)
			}
		}
		return nil
	})
}
