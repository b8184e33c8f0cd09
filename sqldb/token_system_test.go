package sqldb_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/postgres"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/sqldb/sqlite"
	"github.com/custodian-him/custodian/store"
)

// TestIndexCompactMigration fills a database of the schema before 0006
// (index tables with row ids, token rows with the system spelled out) by
// hand, with a token row and a string row stored twice as old writes could
// leave them, opens it with the current schema (0006, then 0012), and
// checks that every token and string row came across (on SQLite the
// duplicates once; idx_token, now a view, lists the same rows), that
// searches by system, code and string find the same resources, and that a
// new system written afterwards is numbered and found.
func TestIndexCompactMigration(t *testing.T) {
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
	if err := sqldb.Migrate(ctx, old, d, migrationsWithout(t, "0006", false)); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := old.Exec(numbered(d, q), args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO search_params (pid, type, code) VALUES (9001, 'Observation', 'code'), (9002, 'Patient', 'name'),
		(9003, 'Observation', 'subject'), (9004, 'Observation', 'patient')`)
	systems := []string{"http://loinc.org", "", "http://snomed.info/sct"}
	var wantTokens []string
	ts := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	for i := 1; i <= 9; i++ {
		sys, code := systems[i%3], fmt.Sprint(i%4)
		body := `{"resourceType":"Observation","id":"o` + fmt.Sprint(i) + `","status":"final","code":{"coding":[{"system":"` + sys + `","code":"` + code + `"}]}}`
		exec(`INSERT INTO resources (rid, type, id, version, ts) VALUES (?, 'Observation', ?, 1, ?)`, i, "o"+fmt.Sprint(i), ts)
		exec(`INSERT INTO versions (rid, version, type, ts, method, author, body) VALUES (?, 1, 'Observation', ?, 'create', 'ana', ?)`, i, ts, []byte(body))
		exec(`INSERT INTO idx_token (rid, pid, system, code) VALUES (?, 9001, ?, ?)`, i, sys, code)
		wantTokens = append(wantTokens, fmt.Sprintf("%d %s|%s", i, sys, code))
	}
	names := []string{"smith", "smithers", "jones"}
	var wantStrings []string
	for i, name := range names {
		rid := 100 + i
		body := `{"resourceType":"Patient","id":"p` + fmt.Sprint(i) + `","name":[{"family":"` + name + `"}]}`
		exec(`INSERT INTO resources (rid, type, id, version, ts) VALUES (?, 'Patient', ?, 1, ?)`, rid, "p"+fmt.Sprint(i), ts)
		exec(`INSERT INTO versions (rid, version, type, ts, method, author, body) VALUES (?, 1, 'Patient', ?, 'create', 'ana', ?)`, rid, ts, []byte(body))
		exec(`INSERT INTO idx_string (rid, pid, value, exact) VALUES (?, 9002, ?, ?)`, rid, name, strings.ToUpper(name))
		wantStrings = append(wantStrings, fmt.Sprintf("%d %s %s", rid, name, strings.ToUpper(name)))
	}
	exec(`INSERT INTO idx_token (rid, pid, system, code) VALUES (3, 9001, 'http://loinc.org', '3')`)
	// o1's subject is Patient/p0, stored as old writes did (a subject row
	// and a patient row, the first to go: 0015); o2's is a Group.
	exec(`INSERT INTO idx_reference (rid, pid, ref_type, ref_id) VALUES (1, 9003, 'Patient', 'p0'), (1, 9004, 'Patient', 'p0'), (2, 9003, 'Group', 'g0')`)
	exec(`INSERT INTO idx_string (rid, pid, value, exact) VALUES (100, 9002, 'smith', 'SMITH')`)
	if sqldbtest.Engine() == "postgres" {
		// The rows above took their row ids by hand.
		exec(`SELECT setval(pg_get_serial_sequence('resources', 'rid'), 1000)`)
		// PostgreSQL keeps its layout, duplicates too.
		wantTokens = append(wantTokens, "3 http://loinc.org|3")
		wantStrings = append(wantStrings, "100 smith SMITH")
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	db, st := withStore(t, reopen())
	defer db.Close()
	list := func(q string) []string {
		t.Helper()
		rows, err := db.SQL().Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var rid int64
			var a, b string
			if err := rows.Scan(&rid, &a, &b); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%d %s", rid, a+b))
		}
		slices.Sort(out)
		return out
	}
	slices.Sort(wantTokens)
	slices.Sort(wantStrings)
	if got := list(`SELECT rid, system || '|', code FROM idx_token WHERE pid = 9001`); !slices.Equal(got, wantTokens) {
		t.Errorf("token rows after the migration:\n%v\nwant\n%v", got, wantTokens)
	}
	if got := list(`SELECT rid, value || ' ', exact FROM idx_string WHERE pid = 9002`); !slices.Equal(got, wantStrings) {
		t.Errorf("string rows after the migration:\n%v\nwant\n%v", got, wantStrings)
	}
	wantRefs := []string{"1 9004 Patient/p0", "2 9003 Group/g0"}
	if got := list(`SELECT rid, pid || ' ' || ref_type, '/' || ref_id FROM idx_reference`); !slices.Equal(got, wantRefs) {
		t.Errorf("reference rows after the migration: %v, want %v", got, wantRefs)
	}
	if sqldbtest.Engine() == "sqlite" {
		for _, table := range []string{"idx_tok", "idx_string"} {
			var ddl string
			if err := db.SQL().QueryRow(`SELECT sql FROM sqlite_master WHERE name = ?`, table).Scan(&ddl); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(ddl, "WITHOUT ROWID") {
				t.Errorf("%s is not clustered: %s", table, ddl)
			}
		}
	}

	cctx := as("ana", "clinician")
	search := func(typ, query string) []string {
		t.Helper()
		q, err := st.ParseQueryString(typ, query+"&_count=100")
		if err != nil {
			t.Fatal(err)
		}
		page, err := st.Search(cctx, q)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		var ids []string
		for _, r := range page.Resources {
			ids = append(ids, r.ID)
		}
		slices.Sort(ids)
		return ids
	}
	for _, c := range []struct {
		typ, query string
		want       []string
	}{
		{"Observation", "code=http://loinc.org|3", []string{"o3"}},
		{"Observation", "code=http://loinc.org|", []string{"o3", "o6", "o9"}},
		{"Observation", "code=|1", []string{"o1"}},
		{"Observation", "code=1", []string{"o1", "o5", "o9"}},
		{"Observation", "code=http://snomed.info/sct|2", []string{"o2"}},
		{"Observation", "code=http://example.org/never|1", nil},
		{"Observation", "code:not=http://loinc.org|", []string{"o1", "o2", "o4", "o5", "o7", "o8"}},
		{"Observation", "code=http://loinc.org|3,http://snomed.info/sct|0", []string{"o3", "o8"}},
		{"Observation", "subject=Patient/p0", []string{"o1"}},
		{"Observation", "patient=p0", []string{"o1"}},
		{"Observation", "subject=Group/g0", []string{"o2"}},
		{"Patient", "name=smith", []string{"p0", "p1"}},
		{"Patient", "name:exact=JONES", []string{"p2"}},
	} {
		if got := search(c.typ, c.query); !slices.Equal(got, c.want) {
			t.Errorf("%s?%s: %v, want %v", c.typ, c.query, got, c.want)
		}
	}

	// A system new to the store is numbered by the write that brings it.
	body := `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://example.org/new","code":"n1"}]}}`
	if _, err := st.Create(cctx, "Observation", []byte(body), store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := search("Observation", "code=http://example.org/new|n1"); len(got) != 1 {
		t.Errorf("the new system's resource: %v", got)
	}
	if got := search("Observation", "code=http://loinc.org|3"); !slices.Equal(got, []string{"o3"}) {
		t.Errorf("after the new system: %v", got)
	}
}

// TestTokenSystemRollback checks that a system numbered by a write that is
// rolled back is not remembered: PackIndex (which reads committed numbers
// only) does not know it, searches find nothing by it, and the next write
// that brings it numbers it again and is found.
func TestTokenSystemRollback(t *testing.T) {
	db, st := open(t)
	ctx := as("ana", "clinician")
	const system = "http://example.org/rolled-back"
	index := []store.IndexEntry{{Param: "code", Kind: store.KindToken, System: system, Code: "x"}}
	r := &store.Resource{Type: "Observation", ID: "rb", VersionID: 1, LastUpdated: time.Now(), Method: store.MethodCreate, Author: "ana",
		Body: []byte(`{"resourceType":"Observation","id":"rb","status":"final","code":{"coding":[{"system":"` + system + `","code":"x"}]}}`)}
	undo := errors.New("undone")
	err := db.Write(ctx, func(tx store.Tx) error {
		if err := tx.Put(ctx, r, index); err != nil {
			return err
		}
		return undo
	})
	if !errors.Is(err, undo) {
		t.Fatalf("the write: %v, want it undone", err)
	}
	var n int
	if err := db.SQL().QueryRow(numbered(db.Dialect(), `SELECT count(*) FROM token_systems WHERE system = ?`), system).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("the rolled-back system is stored")
	}
	if db.PackIndex("Observation", index) != nil {
		t.Fatalf("PackIndex knows a system no commit numbered")
	}
	q, err := st.ParseQueryString("Observation", "code="+system+"|x")
	if err != nil {
		t.Fatal(err)
	}
	if page, err := st.Search(ctx, q); err != nil || len(page.Resources) != 0 {
		t.Fatalf("search after the rollback: %v, %v", page, err)
	}
	// Another write in the same group as a failing one: the group reruns
	// with savepoints, and the system must still be right afterwards.
	body := `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"` + system + `","code":"x"}]}}`
	if _, err := st.Create(ctx, "Observation", []byte(body), store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if page, err := st.Search(ctx, q); err != nil || len(page.Resources) != 1 {
		t.Fatalf("search after the create: %v, %v", page, err)
	}
	// A miss reads the systems again at most every 50 ms.
	time.Sleep(60 * time.Millisecond)
	if db.PackIndex("Observation", index) == nil && db.SQL() != db.Raw() {
		t.Fatalf("PackIndex does not know a committed system")
	}
}

// numbered writes q's "?" placeholders as the engine wants them.
func numbered(d *sqldb.Dialect, q string) string {
	if !d.Numbered {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
