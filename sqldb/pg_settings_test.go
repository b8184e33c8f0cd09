package sqldb_test

import (
	"context"
	"testing"

	"github.com/custodian-him/custodian/sqldb/sqldbtest"
)

// TestPostgresSessionSettings checks that the read pool's connections run
// with JIT compilation off (sqldb/postgres connDefaults), so a search whose
// cost estimate is high is not compiled before it runs.
func TestPostgresSessionSettings(t *testing.T) {
	if sqldbtest.Engine() != "postgres" {
		t.Skip("PostgreSQL session settings; CUSTODIAN_TEST_ENGINE=postgres runs it")
	}
	db := sqldbtest.Open(t)
	if db.Dialect().PlanEach == nil {
		t.Errorf("the PostgreSQL dialect has no PlanEach: searches would keep generic plans")
	}
	ctx := context.Background()
	for range 3 { // more than one connection of the pool, most likely
		var jit string
		if err := db.SQL().QueryRowContext(ctx, "SHOW jit").Scan(&jit); err != nil {
			t.Fatal(err)
		}
		if jit != "off" {
			t.Errorf("jit = %q, want off", jit)
		}
	}
}
