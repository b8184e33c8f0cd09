// Package sqldbtest opens a fresh Custodian database for a test, on the
// engine the test run asks for, so one suite runs against every engine.
//
// CUSTODIAN_TEST_ENGINE chooses it: "sqlite" (the default) opens an
// embedded database in a temporary directory; "postgres" creates a new
// database on the server at CUSTODIAN_TEST_DATABASE_URL for each test and
// drops it afterwards. scripts/test runs the suite once per engine.
package sqldbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/postgres"
	"github.com/custodian-him/custodian/sqldb/sqlite"
)

// Engine returns the engine the tests run on: "sqlite" or "postgres".
func Engine() string {
	if e := os.Getenv("CUSTODIAN_TEST_ENGINE"); e != "" {
		return e
	}
	return "sqlite"
}

// Open returns a new, migrated, empty database, closed (and for PostgreSQL
// dropped) when the test ends. On PostgreSQL without a server it fails:
// a test that cannot reach its engine did not run.
func Open(tb testing.TB) *sqldb.DB {
	tb.Helper()
	ctx := context.Background()
	switch Engine() {
	case "sqlite":
		db, err := sqlite.Open(ctx, tb.TempDir())
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { db.Close() })
		return db
	case "postgres":
		u := URL(tb)
		db, err := postgres.Open(ctx, u)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { db.Close() })
		return db
	default:
		tb.Fatalf("CUSTODIAN_TEST_ENGINE=%q: want sqlite or postgres", Engine())
		return nil
	}
}

// URL creates a fresh PostgreSQL database for the test on the server at
// CUSTODIAN_TEST_DATABASE_URL and returns its URL.
func URL(tb testing.TB) string {
	tb.Helper()
	admin := os.Getenv("CUSTODIAN_TEST_DATABASE_URL")
	if admin == "" {
		tb.Fatal("CUSTODIAN_TEST_ENGINE=postgres needs CUSTODIAN_TEST_DATABASE_URL (scripts/test starts a server and sets it)")
	}
	var b [6]byte
	rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	adb, err := sql.Open("pgx", admin)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := adb.Exec(`CREATE DATABASE ` + name); err != nil {
		adb.Close()
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		adb.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
		adb.Close()
	})
	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
