package sqldb_test

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/postgres"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/sqldb/sqlite"
	"github.com/custodian-him/custodian/store"
)

// migrationsWithout returns the schema's migrations without those whose
// names begin with name, and without the later ones unless later is set:
// a database whose schema lacks that one migration, for tests of it that
// write through code needing the later migrations' tables.
func migrationsWithout(t *testing.T, name string, later bool) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	names, err := fs.Glob(sqlite.Migrations(), "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if n < name || !strings.HasPrefix(n, name) && later {
			b, err := fs.ReadFile(sqlite.Migrations(), n)
			if err != nil {
				t.Fatal(err)
			}
			m[n] = &fstest.MapFile{Data: b}
		}
	}
	return m
}

// TestClusteredIndexMigration fills a database of the schema without 0006
// (row-id index tables, with a duplicated index row as old writes could
// leave), opens it with the current schema, and checks that every index
// row came across (on SQLite the duplicate once), that searches find the
// resources, and that an update replaces a resource's index rows.
func TestClusteredIndexMigration(t *testing.T) {
	ctx := context.Background()
	var old *sql.DB
	var d *sqldb.Dialect
	var reopen func() *sqldb.DB
	switch sqldbtest.Engine() {
	case "sqlite":
		dir := t.TempDir()
		var err error
		if old, err = sql.Open("sqlite", "file:"+filepath.Join(dir, "custodian.db")); err != nil {
			t.Fatal(err)
		}
		old.SetMaxOpenConns(1)
		d = sqlite.Dialect()
		reopen = func() *sqldb.DB {
			db, err := sqlite.Open(ctx, dir)
			if err != nil {
				t.Fatal(err)
			}
			return db
		}
	case "postgres":
		u := sqldbtest.URL(t)
		var err error
		if old, err = sql.Open("pgx", u); err != nil {
			t.Fatal(err)
		}
		d = postgres.Dialect()
		reopen = func() *sqldb.DB {
			db, err := postgres.Open(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			return db
		}
	}
	if err := sqldb.Migrate(ctx, old, d, migrationsWithout(t, "0006", true)); err != nil {
		t.Fatal(err)
	}
	var clustered int
	old.QueryRow(`SELECT count(*) FROM schema_migrations WHERE name LIKE '0006%'`).Scan(&clustered)
	if clustered != 0 {
		t.Fatal("the old schema already has 0006")
	}
	db0, st := withStore(t, sqldb.New(old, old, d))
	ctx = as("ana", "clinician")
	const n = 30
	ids := make([]string, n)
	for i := range n {
		body := `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"` + code(i) + `"}]},` +
			`"subject":{"reference":"Patient/p` + code(i%3) + `"},"effectiveDateTime":"2024-0` + code(1+i%9) + `-01","valueQuantity":{"value":` + code(i) + `,"unit":"mg","system":"http://unitsofmeasure.org","code":"mg"}}`
		out, err := st.Create(ctx, "Observation", []byte(body), store.WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = out.Resource.ID
	}
	rows := func(q *sql.DB) map[string]int {
		m := map[string]int{}
		for _, tbl := range []string{"idx_token", "idx_reference", "idx_date", "idx_string", "idx_uri", "idx_number", "idx_quantity", "idx_composite"} {
			var c int
			if err := q.QueryRow(`SELECT count(*) FROM ` + tbl).Scan(&c); err != nil {
				t.Fatal(err)
			}
			m[tbl] = c
		}
		return m
	}
	before := rows(old)
	if before["idx_token"] == 0 || before["idx_quantity"] == 0 || before["idx_reference"] == 0 {
		t.Fatalf("the old database has too few index rows: %v", before)
	}
	res, err := old.Exec(`INSERT INTO idx_token (rid, pid, system, code) SELECT rid, pid, system, code FROM idx_token WHERE rid = (SELECT min(rid) FROM idx_token)`)
	if err != nil {
		t.Fatal(err)
	}
	if sqldbtest.Engine() == "postgres" {
		// PostgreSQL keeps its layout (0006 is SQLite's), duplicates too.
		dups, _ := res.RowsAffected()
		before["idx_token"] += int(dups)
	}
	if err := db0.Close(); err != nil {
		t.Fatal(err)
	}

	db, st := withStore(t, reopen())
	defer db.Close()
	if after := rows(db.SQL()); !equalCounts(after, before) {
		t.Fatalf("index rows after the migration %v, before %v", after, before)
	}
	if sqldbtest.Engine() == "sqlite" {
		var ddl string
		if err := db.SQL().QueryRow(`SELECT sql FROM sqlite_master WHERE name = 'idx_token'`).Scan(&ddl); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(ddl, "WITHOUT ROWID") {
			t.Fatalf("idx_token is not clustered: %s", ddl)
		}
	}
	for _, c := range []struct {
		query string
		want  int
	}{
		{"code=http://loinc.org|7", 1},
		{"subject=Patient/p1", n / 3},
		{"value-quantity=gt20|http://unitsofmeasure.org|mg", n - 21},
		{"date=2024-02", 4},
		{"code-value-quantity=http://loinc.org|5$5", 1},
	} {
		q, err := st.ParseQueryString("Observation", c.query+"&_count=100")
		if err != nil {
			t.Fatal(err)
		}
		page, err := st.Search(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		if len(page.Resources) != c.want {
			t.Errorf("%s: %d resources, want %d", c.query, len(page.Resources), c.want)
		}
	}
	upd := `{"resourceType":"Observation","id":"` + ids[7] + `","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"x"}]}}`
	if _, err := st.Update(ctx, "Observation", ids[7], []byte(upd), store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	for query, want := range map[string]int{"code=http://loinc.org|7": 0, "code=http://loinc.org|x": 1, "subject=Patient/p1": n/3 - 1} {
		q, _ := st.ParseQueryString("Observation", query+"&_count=100")
		page, err := st.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Resources) != want {
			t.Errorf("after the update, %s: %d resources, want %d", query, len(page.Resources), want)
		}
	}
}

func code(i int) string { return strconv.Itoa(i) }

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
