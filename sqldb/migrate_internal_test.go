package sqldb

import "testing"

func TestForEngine(t *testing.T) {
	for _, c := range []struct {
		stmt, engine string
		want         bool
	}{
		{"CREATE TABLE t (x INTEGER)", "sqlite", true},
		{"/* only sqlite */ CREATE TABLE t (x INTEGER)", "sqlite", true},
		{"/* only sqlite */ CREATE TABLE t (x INTEGER)", "postgres", false},
		{"-- a comment\n/* only postgres */ CREATE INDEX i ON t (x)", "postgres", true},
		{"-- a comment\n/* only postgres */ CREATE INDEX i ON t (x)", "sqlite", false},
		{"CREATE TABLE t (x INTEGER) /* only postgres */", "sqlite", true},
	} {
		if got := forEngine(c.stmt, c.engine); got != c.want {
			t.Errorf("forEngine(%q, %s) = %v, want %v", c.stmt, c.engine, got, c.want)
		}
	}
}
