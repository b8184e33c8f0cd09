package sqldb_test

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/custodian-him/custodian/sqldb/sqlite"
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
