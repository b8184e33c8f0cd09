package sqldb_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

// guard lets coders see nothing sensitive and clinicians everything.
type guard struct{}

func (guard) Allow(a *custodian.Actor, typ, interaction string) error {
	if typ == "AuditEvent" && a.Roles[0] != "auditor" {
		return custodian.Errorf(custodian.EFORBIDDEN, "only auditors read the audit trail")
	}
	return nil
}
func (guard) SeesSensitive(a *custodian.Actor) bool { return a.Roles[0] == "clinician" }

func open(t *testing.T) (*sqldb.DB, *store.Store) { return withStore(t, sqldbtest.Open(t)) }

func openBench(b *testing.B) (*sqldb.DB, *store.Store) { return withStore(b, sqldbtest.Open(b)) }

func withStore(t testing.TB, db *sqldb.DB) (*sqldb.DB, *store.Store) {
	t.Helper()
	ctx := context.Background()
	reg, err := search.NewR4(fhir.R4())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.RegisterParams(ctx, reg.Indexed()); err != nil {
		t.Fatal(err)
	}
	st := store.New(db, fhir.R4(), reg)
	st.Guard, st.AuditLog = guard{}, db
	return db, st
}

func as(id, role string) context.Context {
	return custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: id, Kind: "user", Roles: []string{role}})
}

func TestAuditChainDetectsTampering(t *testing.T) {
	alter := `UPDATE audit_log SET body = replace(body, '"ana"', '"eve"') WHERE seq = 4`
	if sqldbtest.Engine() == "postgres" {
		alter = `UPDATE audit_log SET body = convert_to(replace(convert_from(body, 'UTF8'), '"ana"', '"eve"'), 'UTF8') WHERE seq = 4`
	}
	cases := []struct {
		name   string
		sql    string
		broken int64
	}{
		{"altered", alter, 4},
		{"deleted", `DELETE FROM audit_log WHERE seq = 6`, 7},
		{"inserted", `INSERT INTO audit_log (seq, ts, action, actor, body, hash) SELECT 100, ts, action, actor, body, hash FROM audit_log WHERE seq = 2`, 100},
		{"rehashed without the chain", `UPDATE audit_log SET hash = body WHERE seq = 9`, 9},
		{"moved", `UPDATE audit_log SET seq = 11 WHERE seq = 10`, 11},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db, st := open(t)
			ctx := as("ana", "clinician")
			for i := range 5 {
				out, err := st.Create(ctx, "Patient", []byte(fmt.Sprintf(`{"resourceType":"Patient","name":[{"family":"P%d"}]}`, i)), store.WriteOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := st.Read(ctx, "Patient", out.Resource.ID); err != nil {
					t.Fatal(err)
				}
			}
			res, err := audit.Verify(ctx, db)
			if err != nil || !res.OK || res.Entries != 10 {
				t.Fatalf("clean chain: %+v %v", res, err)
			}
			if _, err := db.Raw().Exec(c.sql); err != nil {
				t.Fatal(err)
			}
			res, err = audit.Verify(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if res.OK || res.BrokenAt != c.broken {
				t.Fatalf("verify = %+v, want broken at %d", res, c.broken)
			}
		})
	}
}

func TestReadsAreAuditedWithPatients(t *testing.T) {
	_, st := open(t)
	clin := as("ana", "clinician")
	p, _ := st.Create(clin, "Patient", []byte(`{"resourceType":"Patient","name":[{"family":"Audited"}]}`), store.WriteOptions{})
	pid := p.Resource.ID
	st.Create(clin, "Observation", []byte(`{"resourceType":"Observation","status":"final","code":{"text":"bp"},"subject":{"reference":"Patient/`+pid+`"}}`), store.WriteOptions{})
	if _, err := st.Read(as("bob", "coder"), "Patient", pid); err != nil {
		t.Fatal(err)
	}
	q, _, err := st.ParseQuery("Observation", map[string][]string{"subject": {"Patient/" + pid}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Search(as("bob", "coder"), q); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Read(as("bob", "coder"), "Patient", "missing"); custodian.ErrorCode(err) != custodian.ENOTFOUND {
		t.Fatal(err)
	}
	// Only auditors may read the trail, and that refusal is recorded too.
	if _, err := st.FindAudit(as("bob", "coder"), audit.Filter{}); custodian.ErrorCode(err) != custodian.EFORBIDDEN {
		t.Fatalf("coder read the audit trail: %v", err)
	}
	got, err := st.FindAudit(as("ida", "auditor"), audit.Filter{Patient: pid})
	if err != nil {
		t.Fatal(err)
	}
	var summary []string
	for _, e := range got {
		summary = append(summary, e.Actor+":"+e.Action+":"+e.Outcome)
	}
	want := "bob:search:success bob:read:success ana:create:success ana:create:success"
	if fmt.Sprint(summary) != "["+want+"]" {
		t.Fatalf("patient access report: %v\nwant [%s]", summary, want)
	}
	bob, _ := st.FindAudit(as("ida", "auditor"), audit.Filter{Actor: "bob"})
	if len(bob) != 4 || bob[0].Action != "search" || bob[0].Outcome != "forbidden" || bob[1].Outcome != "not_found" {
		t.Fatalf("bob's entries: %+v", bob)
	}
}

func TestSensitiveRecordsAndBreakTheGlass(t *testing.T) {
	_, st := open(t)
	clin := as("ana", "clinician")
	coder := as("bob", "coder")
	p, _ := st.Create(clin, "Patient", []byte(`{"resourceType":"Patient"}`), store.WriteOptions{})
	pid := p.Resource.ID
	psy, err := st.Create(clin, "Condition", []byte(`{"resourceType":"Condition","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}]},
		"code":{"text":"depression"},"subject":{"reference":"Patient/`+pid+`"}}`), store.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := st.Create(clin, "Condition", []byte(`{"resourceType":"Condition","code":{"text":"asthma"},"subject":{"reference":"Patient/`+pid+`"}}`), store.WriteOptions{})
	search := func(ctx context.Context) int {
		q, _, err := st.ParseQuery("Condition", map[string][]string{"subject": {"Patient/" + pid}, "_total": {"accurate"}}, true)
		if err != nil {
			t.Fatal(err)
		}
		page, err := st.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != int64(len(page.Resources)) {
			t.Fatalf("total %d but %d resources: the total leaks hidden records", page.Total, len(page.Resources))
		}
		return len(page.Resources)
	}
	if n := search(clin); n != 2 {
		t.Fatalf("clinician sees %d conditions, want 2", n)
	}
	if n := search(coder); n != 1 {
		t.Fatalf("coder sees %d conditions, want 1", n)
	}
	if _, err := st.Read(coder, "Condition", psy.Resource.ID); custodian.ErrorCode(err) != custodian.ENOTFOUND {
		t.Fatalf("coder read a psychiatry record: %v", err)
	}
	if _, err := st.Read(coder, "Condition", plain.Resource.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.BreakGlass(coder, pid, "short", time.Hour); custodian.ErrorCode(err) != custodian.EINVALID {
		t.Fatalf("break-glass without a real reason: %v", err)
	}
	if err := st.BreakGlass(coder, pid, "patient in ED, coding needs full record", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Read(coder, "Condition", psy.Resource.ID); err != nil {
		t.Fatalf("after break-the-glass: %v", err)
	}
	if n := search(coder); n != 2 {
		t.Fatalf("after break-the-glass coder sees %d, want 2", n)
	}
	flagged, err := st.FindAudit(as("ida", "auditor"), audit.Filter{BreakGlass: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(flagged) != 3 || flagged[2].Action != "break-glass" || flagged[0].Reason == "" {
		t.Fatalf("break-glass entries for the privacy officer: %+v", flagged)
	}
	// The grant expires.
	st.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if _, err := st.Read(coder, "Condition", psy.Resource.ID); custodian.ErrorCode(err) != custodian.ENOTFOUND {
		t.Fatalf("after the grant expired: %v", err)
	}
}
