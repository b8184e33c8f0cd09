// Package sqldbtest opens a fresh Custodian database for a test, on the
// engine the test run asks for, so one suite runs against every engine.
//
// CUSTODIAN_TEST_ENGINE chooses it: "sqlite" (the default) opens an
// embedded database in a temporary directory; "postgres" creates a new
// database on the server at CUSTODIAN_TEST_DATABASE_URL for each test and
// drops it afterwards. scripts/test runs the suite once per engine.
//
// OpenStore adds what most tests want next: the record store over the
// database with the R4 model and search parameters; Put and ReadNDJSON
// write and read the resources a test loads.
package sqldbtest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/postgres"
	"github.com/custodian-him/custodian/sqldb/sqlite"
	"github.com/custodian-him/custodian/store"
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

// r4 is the R4 search registry, compiled once for the test binary (it is
// read-only once built).
var r4 = sync.OnceValues(func() (*search.Registry, error) { return search.NewR4(fhir.R4()) })

// Registry returns the R4 search registry.
func Registry(tb testing.TB) *search.Registry {
	tb.Helper()
	reg, err := r4()
	if err != nil {
		tb.Fatal(err)
	}
	return reg
}

// Backend is a database a store can be put over: a *sqldb.DB, or a
// test's wrapper of one.
type Backend interface {
	store.Backend
	RegisterParams(ctx context.Context, keys [][2]string) error
}

// NewStore registers the R4 search parameters in b and returns a store
// over it with the R4 model (no guard or audit log: set them as the test
// needs).
func NewStore(tb testing.TB, b Backend) *store.Store {
	tb.Helper()
	reg := Registry(tb)
	if err := b.RegisterParams(context.Background(), reg.Indexed()); err != nil {
		tb.Fatal(err)
	}
	return store.New(b, fhir.R4(), reg)
}

// OpenStore opens a fresh database (Open) and returns it with a store
// over it (NewStore).
func OpenStore(tb testing.TB) (*sqldb.DB, *store.Store) {
	tb.Helper()
	db := Open(tb)
	return db, NewStore(tb, db)
}

// Put writes resources as the actor of ctx (PutBatch, 2,000 at a time),
// failing the test on any error.
func Put(tb testing.TB, ctx context.Context, st *store.Store, resources []map[string]any) {
	tb.Helper()
	for start := 0; start < len(resources); start += 2000 {
		res, err := st.PutBatch(ctx, resources[start:min(start+2000, len(resources))])
		if err != nil {
			tb.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				tb.Fatal(r.Err)
			}
		}
	}
}

// Resource is one line of an NDJSON fixture.
type Resource struct {
	Type, ID string
	Body     []byte
}

// ReadNDJSON reads the resources of an NDJSON file (gzipped when its name
// ends in .gz), failing the test on a line that is not a resource.
func ReadNDJSON(tb testing.TB, path string) []Resource {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		r = zr
	}
	var out []Resource
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var head struct{ ResourceType, ID string }
		if err := json.Unmarshal(sc.Bytes(), &head); err != nil {
			tb.Fatalf("%s line %d: %v", path, len(out)+1, err)
		}
		out = append(out, Resource{head.ResourceType, head.ID, bytes.Clone(sc.Bytes())})
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return out
}
