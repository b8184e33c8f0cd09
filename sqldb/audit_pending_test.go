package sqldb_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/postgres"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
)

// TestAuditPendingOfEndedNode leaves rows in audit_pending as a node that
// died before taking them into the chain would, with one row no node could
// have written among them, and opens the database again: the rows are in
// the chain once each (searchable by patient), the damaged one is dropped
// without holding up the rest, and the chain holds.
func TestAuditPendingOfEndedNode(t *testing.T) {
	if sqldbtest.Engine() != "postgres" {
		t.Skip("audit_pending is PostgreSQL's")
	}
	ctx := context.Background()
	u := sqldbtest.URL(t)
	db, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	auditEntries(t, db, 3, 10)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	raw, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	k := 0
	for row := range 3 {
		var es []*audit.Entry
		for range 2 {
			k++
			es = append(es, &audit.Entry{Time: now.Add(time.Duration(k) * time.Second), Action: audit.ActionRead, Outcome: "success",
				Actor: "node9", ActorKind: "user", Roles: []string{"clinician"}, Resources: []string{fmt.Sprintf("Patient/left-%d", k)},
				Patients: []string{fmt.Sprintf("left-%d", k)}})
		}
		if _, err := raw.Exec(`INSERT INTO audit_pending (body) VALUES ($1)`, sqldb.EncodePending(es)); err != nil {
			t.Fatal(err)
		}
		if row == 1 {
			if _, err := raw.Exec(`INSERT INTO audit_pending (body) VALUES ($1)`, []byte("not a row of entries")); err != nil {
				t.Fatal(err)
			}
		}
	}

	db, err = postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var left int
	if err := raw.QueryRow(`SELECT count(*) FROM audit_pending`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("rows left in audit_pending after opening: %d %v", left, err)
	}
	res, err := audit.Verify(ctx, db)
	if err != nil || !res.OK || res.Entries != 13+6 {
		t.Fatalf("verify = %+v %v, want 19 entries intact", res, err)
	}
	for i := 1; i <= 6; i++ {
		got, err := db.FindAudit(ctx, audit.Filter{Patient: fmt.Sprintf("left-%d", i)})
		if err != nil || len(got) != 1 || got[0].Actor != "node9" || got[0].Seq != int64(13+i) {
			t.Fatalf("entry %d: %+v %v", i, got, err)
		}
	}
}

// TestAuditPendingBeforeAnswer checks on PostgreSQL that a read is
// answered only once its entry has committed: right after each read
// returns, another connection finds the entry in audit_pending or, if a
// node has taken it in already, in the chain.
func TestAuditPendingBeforeAnswer(t *testing.T) {
	if sqldbtest.Engine() != "postgres" {
		t.Skip("audit_pending is PostgreSQL's")
	}
	db, st := open(t)
	ctx := as("ana", "clinician")
	for i := range 20 {
		id := fmt.Sprintf("gone-%d", i)
		if _, err := st.Read(ctx, "Patient", id); custodian.ErrorCode(err) != custodian.ENOTFOUND {
			t.Fatal(err)
		}
		if !pendingHolds(t, db, "Patient/"+id) && !chainHolds(t, db, "Patient/"+id) {
			t.Fatalf("read %d was answered before its audit entry committed", i)
		}
	}
}

// pendingHolds reports whether an entry naming resource waits in
// audit_pending, read on a connection of its own.
func pendingHolds(t *testing.T, db *sqldb.DB, resource string) bool {
	t.Helper()
	rows, err := db.SQL().Query(`SELECT body FROM audit_pending`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			t.Fatal(err)
		}
		es, err := sqldb.DecodePending(body)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if len(e.Resources) == 1 && e.Resources[0] == resource {
				return true
			}
		}
	}
	return false
}

// chainHolds reports whether an entry naming resource is in the chain,
// reading the blocks under the store (without asking it to take in what
// waits).
func chainHolds(t *testing.T, db *sqldb.DB, resource string) bool {
	t.Helper()
	rows, err := db.SQL().Query(`SELECT body FROM audit_block`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			t.Fatal(err)
		}
		if bytes.HasPrefix(body, zstdMagic) {
			if body, err = zstdDec.DecodeAll(body, nil); err != nil {
				t.Fatal(err)
			}
		}
		if bytes.Contains(body, []byte(`"resources":["`+resource+`"]`)) {
			return true
		}
	}
	return false
}

// TestFindAuditInCompressedBlocks searches a trail of blocks large enough
// to be stored compressed, next to small plain ones.
func TestFindAuditInCompressedBlocks(t *testing.T) {
	db, _ := open(t)
	ctx := context.Background()
	auditEntries(t, db, 1, 300, 2, 40)
	var packed []int
	for _, b := range readBlocks(t, db) {
		if b.packed {
			packed = append(packed, len(b.lines))
		}
	}
	if fmt.Sprint(packed) != "[300 40]" {
		t.Fatalf("blocks stored compressed, by entries: %v", packed)
	}
	// auditEntries gives entry k patient p(k%7).
	got, err := db.FindAudit(ctx, audit.Filter{Patient: "p3", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for k := 1; k <= 343; k++ {
		if k%7 == 3 {
			want++
		}
	}
	if len(got) != want || got[0].Seq != 339 || got[len(got)-1].Seq != 3 {
		t.Fatalf("patient p3: %d entries (want %d), first %+v", len(got), want, got[0])
	}
	one, err := db.FindAudit(ctx, audit.Filter{Before: 200, Limit: 2})
	if err != nil || len(one) != 2 || one[0].Seq != 199 || one[1].Seq != 198 || one[0].Resources[0] != "Observation/199" {
		t.Fatalf("page before 200: %+v %v", one, err)
	}
	res, err := audit.Verify(ctx, db)
	if err != nil || !res.OK || res.Entries != 343 {
		t.Fatalf("verify = %+v %v", res, err)
	}
}
