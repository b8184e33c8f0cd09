package sqldb_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/custodian-him/custodian/sqldb/sqlite"
)

// avoided are SQL features the schema and queries stay away from so that
// PostgreSQL-compatible distributed engines (Citus, CockroachDB,
// YugabyteDB) remain possible; docs/scaling.md gives the reasons.
var avoided = []struct {
	re         *regexp.Regexp
	why        string
	onlySchema bool
}{
	{regexp.MustCompile(`(?i)\bCREATE\s+(OR\s+REPLACE\s+)?TRIGGER\b`), "triggers hide work from the application and are not distributed", true},
	{regexp.MustCompile(`(?i)\bCREATE\s+(OR\s+REPLACE\s+)?(FUNCTION|PROCEDURE)\b`), "stored procedures do not move between engines", true},
	{regexp.MustCompile(`(?i)\bCREATE\s+EXTENSION\b`), "extensions are not available on every engine", true},
	{regexp.MustCompile(`(?i)\b(LISTEN|NOTIFY)\b`), "LISTEN/NOTIFY does not exist on the distributed engines", false},
	{regexp.MustCompile(`(?i)\bAUTOINCREMENT\b`), "SQLite-only; ids come from INTEGER PRIMARY KEY (identity on PostgreSQL)", true},
	{regexp.MustCompile(`(?i)\bWITHOUT\s+ROWID\b`), "SQLite-only table option", true},
	{regexp.MustCompile(`(?i)\bSERIAL\b|\bBIGSERIAL\b`), "sequences are a global bottleneck on distributed engines; use identity via the dialect", true},
	{regexp.MustCompile(`(?i)\bINHERITS\b|\bMATERIALIZED\s+VIEW\b`), "not supported by the distributed engines", true},
	{regexp.MustCompile(`(?i)\bjson_extract\b|\bjsonb?_\w+\(|->>`), "search reads index tables, never JSON inside the database", false},
	{regexp.MustCompile(`(?i)\bPRAGMA\b`), "SQLite pragmas belong in sqldb/sqlite (or behind the dialect), not in shared SQL", false},
}

// TestPortableSQL keeps the shared migrations and the SQL of package sqldb
// free of features that would close the road to distributed engines.
func TestPortableSQL(t *testing.T) {
	var migrations []string
	fs.WalkDir(sqlite.Migrations(), ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(sqlite.Migrations(), path)
			migrations = append(migrations, path+"\x00"+string(b))
		}
		return nil
	})
	if len(migrations) < 4 {
		t.Fatalf("found %d migrations", len(migrations))
	}
	var code []string
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		code = append(code, f+"\x00"+string(b))
	}
	check := func(name, text string, schema bool) {
		for _, a := range avoided {
			if !schema && a.onlySchema {
				continue
			}
			for _, line := range strings.Split(text, "\n") {
				l := strings.TrimSpace(line)
				if strings.HasPrefix(l, "--") || strings.HasPrefix(l, "//") {
					continue
				}
				if a.re.MatchString(l) {
					t.Errorf("%s: %q uses an avoided SQL feature: %s", name, l, a.why)
				}
			}
		}
	}
	for _, m := range migrations {
		name, text, _ := strings.Cut(m, "\x00")
		check(name, text, true)
	}
	for _, c := range code {
		name, text, _ := strings.Cut(c, "\x00")
		check(name, text, false)
	}
}
