package sqldb

import "testing"

func TestDriveSet(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"a set", "r.rid IN (SELECT rid FROM idx_token WHERE pid IN (?) AND ((code = ? AND system = ?)))",
			"r.rid = ANY(ARRAY(SELECT rid FROM idx_token WHERE pid IN (?) AND ((code = ? AND system = ?))))"},
		{"a union", "r.rid IN (SELECT rid FROM idx_reference WHERE pid IN (?, ?) AND ref_type = ? AND ref_id = ? UNION ALL SELECT rid FROM resources WHERE type = ? AND id = ?)",
			"r.rid = ANY(ARRAY(SELECT rid FROM idx_reference WHERE pid IN (?, ?) AND ref_type = ? AND ref_id = ? UNION ALL SELECT rid FROM resources WHERE type = ? AND id = ?))"},
		{"more after the set", "r.rid IN (SELECT rid FROM idx_token WHERE pid IN (?)) AND (r.ts > ?)",
			"r.rid IN (SELECT rid FROM idx_token WHERE pid IN (?)) AND (r.ts > ?)"},
		{"sets or'd", "(r.rid IN (SELECT rid FROM idx_token WHERE pid = ?) OR NOT EXISTS (SELECT 1 FROM idx_token WHERE rid = r.rid))",
			"(r.rid IN (SELECT rid FROM idx_token WHERE pid = ?) OR NOT EXISTS (SELECT 1 FROM idx_token WHERE rid = r.rid))"},
		{"an EXISTS", "EXISTS (SELECT 1 FROM idx_token WHERE rid = r.rid AND pid IN (?))",
			"EXISTS (SELECT 1 FROM idx_token WHERE rid = r.rid AND pid IN (?))"},
		{"a list of values", "r.type IN (?, ?)", "r.type IN (?, ?)"},
		{"unbalanced", "r.rid IN (SELECT rid FROM t WHERE (a = ?)", "r.rid IN (SELECT rid FROM t WHERE (a = ?)"},
	}
	pg, lite := &Dialect{DriveArray: true}, &Dialect{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pg.driveSet(tt.in); got != tt.want {
				t.Errorf("driveSet(%q)\n = %q\nwant %q", tt.in, got, tt.want)
			}
			if got := lite.driveSet(tt.in); got != tt.in {
				t.Errorf("without DriveArray, driveSet(%q) = %q, want it unchanged", tt.in, got)
			}
		})
	}
}

func TestSearchArgs(t *testing.T) {
	args := []any{"a", int64(1)}
	if got := (&Dialect{}).searchArgs(args); len(got) != 2 || got[0] != "a" {
		t.Errorf("without PlanEach, searchArgs = %v, want %v", got, args)
	}
	got := (&Dialect{PlanEach: "mode"}).searchArgs(args)
	if len(got) != 3 || got[0] != "mode" || got[1] != "a" || got[2] != int64(1) {
		t.Errorf("with PlanEach, searchArgs = %v, want [mode a 1]", got)
	}
}

func TestMemberOf(t *testing.T) {
	if got, want := (&Dialect{}).memberOf("x1.rid", "SELECT rid FROM t"), "+x1.rid IN (SELECT rid FROM t)"; got != want {
		t.Errorf("SQLite: memberOf = %q, want %q", got, want)
	}
	if got, want := (&Dialect{CostPlanner: true}).memberOf("x1.rid", "SELECT rid FROM t"), "(x1.rid IN (SELECT rid FROM t)) IS TRUE"; got != want {
		t.Errorf("PostgreSQL: memberOf = %q, want %q", got, want)
	}
}

func TestEachRow(t *testing.T) {
	if got := (&Dialect{}).eachRow(); got != "" {
		t.Errorf("SQLite: eachRow = %q, want nothing", got)
	}
	if got := (&Dialect{CostPlanner: true}).eachRow(); got != " OFFSET 0" {
		t.Errorf("PostgreSQL: eachRow = %q, want \" OFFSET 0\"", got)
	}
}
