package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/custodian-him/custodian/sqldb/sqldbtest"
)

func TestImportCommand(t *testing.T) {
	src := t.TempDir()
	good := `{"resourceType":"Patient","id":"a","gender":"female"}` + "\n" +
		`{"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/nobody"}}` + "\n"
	bad := `{"resourceType":"Patient","id":"b","gender":"robot"}` + "\n"
	os.WriteFile(filepath.Join(src, "good.ndjson"), []byte(good), 0o644)
	os.WriteFile(filepath.Join(src, "bad.ndjson"), []byte(bad), 0o644)
	data := t.TempDir()
	no := false
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		c := &ImportCommand{Stdout: &out, Stderr: &out, Progress: &no}
		err := c.Run(context.Background(), append([]string{"--data", data}, args...))
		return out.String(), err
	}

	out, err := run(filepath.Join(src, "good.ndjson"), filepath.Join(src, "bad.ndjson"))
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	for _, want := range []string{"Imported 2 resources", "Rejected 1 records", "1 dangling", "Patient/nobody", "Error report: "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	report := out[strings.Index(out, "Error report: ")+len("Error report: "):]
	b, err := os.ReadFile(strings.TrimSpace(report))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(b), "\n"); lines != 2 || !strings.Contains(string(b), `"line":1`) {
		t.Errorf("report:\n%s\nwant the rejected line and the dangling reference", b)
	}

	// --strict fails on any rejection; nothing loadable fails anyway.
	if _, err := run("--strict", "--restart", filepath.Join(src, "bad.ndjson")); err == nil {
		t.Error("--strict with a rejected record: no error")
	}
	if _, err := run("--restart", filepath.Join(src, "bad.ndjson")); err == nil {
		t.Error("nothing loaded, all rejected: no error")
	}
	if _, err := run(filepath.Join(src, "missing.ndjson")); err == nil {
		t.Error("a missing file: no error")
	}
}

// TestImportAnalyzesPostgres: an import into PostgreSQL ends by refreshing
// the planner's statistics, so searches on the loaded store are planned
// for what it holds (autovacuum's mid-load statistics led to 15 s plans).
func TestImportAnalyzesPostgres(t *testing.T) {
	if sqldbtest.Engine() != "postgres" {
		t.Skip("PostgreSQL only; the suite's PostgreSQL run covers it")
	}
	url := sqldbtest.URL(t)
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "p.ndjson"), []byte(`{"resourceType":"Patient","id":"a","gender":"female"}`+"\n"), 0o644)
	no := false
	var out bytes.Buffer
	c := &ImportCommand{Stdout: &out, Stderr: &out, Progress: &no}
	if err := c.Run(context.Background(), []string{"--db", url, "--data", t.TempDir(), filepath.Join(src, "p.ndjson")}); err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var analyzed bool
	if err := db.QueryRow(`SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'resources'`).Scan(&analyzed); err != nil {
		t.Fatal(err)
	}
	if !analyzed {
		t.Error("the import did not ANALYZE the database")
	}
}
