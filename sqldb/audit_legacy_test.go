package sqldb_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
)

// legacyRows stores n entries as rows of audit_log (as written before
// blocks): reads, sign-ins that fail one time in five, refusals one time in
// seven, a break-the-glass now and then, an hour apart. It returns them.
func legacyRows(t testing.TB, db *sqldb.DB, n int) []*audit.Entry {
	t.Helper()
	insert := `INSERT INTO audit_log (seq, ts, action, actor, break_glass, body, hash) VALUES (?, ?, ?, ?, ?, ?, ?)`
	patient := `INSERT INTO audit_patient (patient, seq) VALUES (?, ?)`
	if sqldbtest.Engine() == "postgres" {
		insert = `INSERT INTO audit_log (seq, ts, action, actor, break_glass, body, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)`
		patient = `INSERT INTO audit_patient (patient, seq) VALUES ($1, $2)`
	}
	tx, err := db.Raw().Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var prev []byte
	var out []*audit.Entry
	for seq := int64(1); seq <= int64(n); seq++ {
		e := &audit.Entry{Seq: seq, Time: start.Add(time.Duration(seq) * time.Hour), Action: audit.ActionRead, Outcome: "success",
			Actor: fmt.Sprintf("user%d", seq%4), ActorKind: "user", Roles: []string{"clinician"}, Patients: []string{fmt.Sprintf("p%d", seq%50)},
			Resources: []string{fmt.Sprintf("Observation/o%d", seq)}}
		switch {
		case seq%5 == 0:
			e.Action, e.Patients, e.Resources = audit.ActionSignIn, nil, nil
			if seq%10 == 0 {
				e.Outcome, e.Reason = "failed", "bad-password"
			}
		case seq%7 == 0:
			e.Outcome = "forbidden"
		case seq%31 == 0:
			e.Action, e.BreakGlass, e.Reason = audit.ActionBreakGlass, true, "emergency"
		}
		body := e.Canonical()
		prev = audit.ChainHash(prev, body)
		glass := 0
		if e.BreakGlass {
			glass = 1
		}
		if _, err := tx.Exec(insert, seq, e.Time.UnixMilli(), e.Action, e.Actor, glass, body, prev); err != nil {
			t.Fatal(err)
		}
		for _, p := range e.Patients {
			if _, err := tx.Exec(patient, p, seq); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, e)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFindAuditInRowsBeforeBlocks checks FindAudit over rows written before
// blocks against every entry tested one by one, for the privacy officer's
// dashboard filters and others, including conditions that are not columns.
func TestFindAuditInRowsBeforeBlocks(t *testing.T) {
	db, _ := open(t)
	all := legacyRows(t, db, 3000)
	since := all[1000].Time
	filters := []audit.Filter{
		{BreakGlass: true, Action: audit.ActionBreakGlass, Since: since},
		{Action: audit.ActionSignIn, Failed: true, Since: since},
		{Outcome: "forbidden", Since: since},
		{Outcome: "forbidden", Actor: "user3"},
		{Failed: true, Patient: "p7"},
		{Outcome: "success", Action: audit.ActionSignIn, Until: all[2000].Time},
		{Since: since, Limit: 50},
	}
	for _, f := range filters {
		limit := f.Limit
		if limit == 0 {
			f.Limit, limit = 5000, 5000
		}
		var want []int64
		for _, e := range slices.Backward(all) {
			if f.Match(e) && len(want) < limit {
				want = append(want, e.Seq)
			}
		}
		got, err := db.FindAudit(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []int64
		for _, e := range got {
			seqs = append(seqs, e.Seq)
		}
		if len(want) == 0 || !slices.Equal(seqs, want) {
			t.Errorf("%+v: found %d entries, want %d", f, len(seqs), len(want))
		}
	}
}

// BenchmarkFindAuditLegacy measures the privacy officer's dashboard's
// three searches (the last 14 days, up to 5,000 entries each) in a store
// whose trail is 100,000 rows written before blocks, all in the period.
func BenchmarkFindAuditLegacy(b *testing.B) {
	db, _ := openBench(b)
	all := legacyRows(b, db, 100_000)
	since := all[0].Time
	filters := []audit.Filter{
		{BreakGlass: true, Action: audit.ActionBreakGlass, Since: since, Limit: 5000},
		{Action: audit.ActionSignIn, Failed: true, Since: since, Limit: 5000},
		{Outcome: "forbidden", Since: since, Limit: 5000},
	}
	for b.Loop() {
		for _, f := range filters {
			if _, err := db.FindAudit(context.Background(), f); err != nil {
				b.Fatal(err)
			}
		}
	}
}
