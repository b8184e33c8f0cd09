package sqldb_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/fhir"
	"github.com/custodian-him/custodian/fhir/search"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/postgres"
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

// block is one audit block as the tampering tests see it.
type block struct {
	first  int64
	lines  [][]byte // the entries' canonical bytes
	hashes [][]byte // the chain hash after each line
	packed bool     // stored compressed (zstd)
}

// zstdMagic begins a compressed block body.
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// readBlocks reads every audit block, under the store.
func readBlocks(t *testing.T, db *sqldb.DB) []*block {
	t.Helper()
	rows, err := db.Raw().Query(`SELECT first_seq, hash, hashes, body FROM audit_block ORDER BY first_seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []*block
	for rows.Next() {
		var b block
		var last, hashes, body []byte
		if err := rows.Scan(&b.first, &last, &hashes, &body); err != nil {
			t.Fatal(err)
		}
		if b.packed = bytes.HasPrefix(body, zstdMagic); b.packed {
			if body, err = zstdDec.DecodeAll(body, nil); err != nil {
				t.Fatal(err)
			}
		}
		b.lines = bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n"))
		for len(hashes) >= 32 {
			b.hashes, hashes = append(b.hashes, hashes[:32]), hashes[32:]
		}
		b.hashes = append(b.hashes, last)
		out = append(out, &b)
	}
	return out
}

var zstdDec, _ = zstd.NewReader(nil)
var zstdEnc, _ = zstd.NewWriter(nil)

// writeBlock replaces the block that starts at b.first (inserting it if
// there is none) with b, under the store, as someone with access to the
// database file could (compressing it again if it was).
func writeBlock(t *testing.T, db *sqldb.DB, b *block) {
	t.Helper()
	body := append(bytes.Join(b.lines, []byte("\n")), '\n')
	if b.packed {
		body = zstdEnc.EncodeAll(body, nil)
	}
	hashes := []byte{}
	for _, h := range b.hashes[:len(b.hashes)-1] {
		hashes = append(hashes, h...)
	}
	q := `DELETE FROM audit_block WHERE first_seq = ?`
	if sqldbtest.Engine() == "postgres" {
		q = `DELETE FROM audit_block WHERE first_seq = $1`
	}
	if _, err := db.Raw().Exec(q, b.first); err != nil {
		t.Fatal(err)
	}
	q = `INSERT INTO audit_block (first_seq, last_seq, ts_min, ts_max, hash, hashes, body) VALUES (?, ?, 0, 0, ?, ?, ?)`
	if sqldbtest.Engine() == "postgres" {
		q = `INSERT INTO audit_block (first_seq, last_seq, ts_min, ts_max, hash, hashes, body) VALUES ($1, $2, 0, 0, $3, $4, $5)`
	}
	if _, err := db.Raw().Exec(q, b.first, b.first+int64(len(b.lines))-1, b.hashes[len(b.hashes)-1], hashes, body); err != nil {
		t.Fatal(err)
	}
}

// blockOf returns the block holding entry seq and the entry's line index.
func blockOf(t *testing.T, bs []*block, seq int64) (*block, int) {
	for _, b := range bs {
		if seq >= b.first && seq < b.first+int64(len(b.lines)) {
			return b, int(seq - b.first)
		}
	}
	t.Fatalf("no block holds entry %d", seq)
	return nil, 0
}

// auditEntries appends n entries to db in blocks of the sizes given.
func auditEntries(t testing.TB, db *sqldb.DB, sizes ...int) {
	t.Helper()
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	k := 0
	for _, n := range sizes {
		var es []*audit.Entry
		for range n {
			k++
			es = append(es, &audit.Entry{Time: now.Add(time.Duration(k) * time.Second), Action: audit.ActionRead, Outcome: "success",
				Actor: "ana", ActorKind: "user", Roles: []string{"clinician"}, Purpose: "TREAT",
				Resources: []string{"Observation/" + strconv.Itoa(k)}, Patients: []string{"p" + strconv.Itoa(k%7)}})
		}
		if err := db.AppendAuditBatch(context.Background(), es); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAuditChainDetectsTampering(t *testing.T) {
	// Entries 1–20 in blocks [1] [2–6] [7–14] [15–20].
	sizes := []int{1, 5, 8, 6}
	cases := []struct {
		name   string
		tamper func(t *testing.T, db *sqldb.DB, bs []*block)
		broken int64
	}{
		{"altered", func(t *testing.T, db *sqldb.DB, bs []*block) {
			b, i := blockOf(t, bs, 9)
			b.lines[i] = bytes.Replace(b.lines[i], []byte(`"ana"`), []byte(`"eve"`), 1)
			writeBlock(t, db, b)
		}, 9},
		{"altered first of a block", func(t *testing.T, db *sqldb.DB, bs []*block) {
			b, i := blockOf(t, bs, 15)
			b.lines[i] = bytes.Replace(b.lines[i], []byte(`TREAT`), []byte(`ETREAT`), 1)
			writeBlock(t, db, b)
		}, 15},
		{"deleted with its hash", func(t *testing.T, db *sqldb.DB, bs []*block) {
			b, i := blockOf(t, bs, 10)
			b.lines = slices.Delete(b.lines, i, i+1)
			b.hashes = slices.Delete(b.hashes, i, i+1)
			writeBlock(t, db, b)
		}, 11},
		{"deleted block", func(t *testing.T, db *sqldb.DB, bs []*block) {
			if _, err := db.Raw().Exec(`DELETE FROM audit_block WHERE first_seq = 7`); err != nil {
				t.Fatal(err)
			}
		}, 15},
		{"inserted copy", func(t *testing.T, db *sqldb.DB, bs []*block) {
			src, j := blockOf(t, bs, 3)
			b, i := blockOf(t, bs, 9)
			b.lines = slices.Insert(b.lines, i+1, src.lines[j])
			b.hashes = slices.Insert(b.hashes, i+1, src.hashes[j])
			writeBlock(t, db, b)
		}, 3},
		{"inserted forgery", func(t *testing.T, db *sqldb.DB, bs []*block) {
			// An entry 21 appended by hand, hashed without the chain.
			last := bs[len(bs)-1]
			forged := []byte(strings.Replace(string(last.lines[len(last.lines)-1]), `"seq":20,`, `"seq":21,`, 1))
			h := sha256.Sum256(forged)
			writeBlock(t, db, &block{first: 21, lines: [][]byte{forged}, hashes: [][]byte{h[:]}})
		}, 21},
		{"rehashed without the chain", func(t *testing.T, db *sqldb.DB, bs []*block) {
			b, i := blockOf(t, bs, 16)
			h := sha256.Sum256(b.lines[i])
			b.hashes[i] = h[:]
			writeBlock(t, db, b)
		}, 16},
		{"last hash changed", func(t *testing.T, db *sqldb.DB, bs []*block) {
			b, i := blockOf(t, bs, 20)
			b.hashes[i] = make([]byte, 32)
			writeBlock(t, db, b)
		}, 20},
		{"swapped", func(t *testing.T, db *sqldb.DB, bs []*block) {
			b, i := blockOf(t, bs, 12)
			b.lines[i], b.lines[i+1] = b.lines[i+1], b.lines[i]
			b.hashes[i], b.hashes[i+1] = b.hashes[i+1], b.hashes[i]
			writeBlock(t, db, b)
		}, 13},
		{"damaged compressed block", func(t *testing.T, db *sqldb.DB, bs []*block) {
			q := `UPDATE audit_block SET body = ? WHERE first_seq = ?`
			if sqldbtest.Engine() == "postgres" {
				q = `UPDATE audit_block SET body = $1 WHERE first_seq = $2`
			}
			var stored []byte
			if err := db.Raw().QueryRow(strings.NewReplacer("= ?", "= $1").Replace(`SELECT body FROM audit_block WHERE first_seq = ?`), 7).Scan(&stored); err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(stored, zstdMagic) {
				t.Fatal("a block of 8 entries is stored plain")
			}
			// Cut short, so that it no longer decompresses.
			if _, err := db.Raw().Exec(q, stored[:len(stored)/2], 7); err != nil {
				t.Fatal(err)
			}
		}, 7},
		{"renumbered", func(t *testing.T, db *sqldb.DB, bs []*block) {
			b, i := blockOf(t, bs, 4)
			b.lines[i] = bytes.Replace(b.lines[i], []byte(`"seq":4,`), []byte(`"seq":5,`), 1)
			writeBlock(t, db, b)
		}, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db, _ := open(t)
			ctx := context.Background()
			auditEntries(t, db, sizes...)
			res, err := audit.Verify(ctx, db)
			if err != nil || !res.OK || res.Entries != 20 {
				t.Fatalf("clean chain: %+v %v", res, err)
			}
			c.tamper(t, db, readBlocks(t, db))
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

// TestAuditChainAcrossRanges checks a trail long enough that Verify splits
// it into ranges checked in parallel, with a break in the later range.
func TestAuditChainAcrossRanges(t *testing.T) {
	db, _ := open(t)
	ctx := context.Background()
	sizes := make([]int, 24)
	for i := range sizes {
		sizes[i] = 500
	}
	auditEntries(t, db, sizes...)
	res, err := audit.Verify(ctx, db)
	if err != nil || !res.OK || res.Entries != 12_000 {
		t.Fatalf("clean chain: %+v %v", res, err)
	}
	bs := readBlocks(t, db)
	b, i := blockOf(t, bs, 11_001)
	b.lines[i] = bytes.Replace(b.lines[i], []byte(`"ana"`), []byte(`"eve"`), 1)
	writeBlock(t, db, b)
	res, err = audit.Verify(ctx, db)
	if err != nil || res.OK || res.BrokenAt != 11_001 {
		t.Fatalf("verify = %+v %v, want broken at 11001", res, err)
	}
}

// TestAuditChainFromRowsBeforeBlocks checks a trail begun before blocks
// existed (rows of audit_log): appends continue its chain, Verify checks
// both, and FindAudit finds entries of both.
func TestAuditChainFromRowsBeforeBlocks(t *testing.T) {
	db, st := open(t)
	ctx := context.Background()
	var prev []byte
	insert := `INSERT INTO audit_log (seq, ts, action, actor, break_glass, body, hash) VALUES (?, ?, ?, ?, 0, ?, ?)`
	patient := `INSERT INTO audit_patient (patient, seq) VALUES (?, ?)`
	if sqldbtest.Engine() == "postgres" {
		insert = `INSERT INTO audit_log (seq, ts, action, actor, break_glass, body, hash) VALUES ($1, $2, $3, $4, 0, $5, $6)`
		patient = `INSERT INTO audit_patient (patient, seq) VALUES ($1, $2)`
	}
	old := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for seq := int64(1); seq <= 6; seq++ {
		outcome := "success"
		if seq == 2 {
			outcome = "forbidden"
		}
		e := &audit.Entry{Seq: seq, Time: old.Add(time.Duration(seq) * time.Minute), Action: audit.ActionRead, Outcome: outcome, Actor: "old", Patients: []string{"p1"}}
		body := e.Canonical()
		prev = audit.ChainHash(prev, body)
		if _, err := db.Raw().Exec(insert, seq, e.Time.UnixMilli(), e.Action, e.Actor, body, prev); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Raw().Exec(patient, "p1", seq); err != nil {
			t.Fatal(err)
		}
	}
	p, err := st.Create(as("ana", "clinician"), "Patient", []byte(`{"resourceType":"Patient"}`), store.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Resource.ID == "" {
		t.Fatal("no id")
	}
	if _, err := st.Read(as("bob", "coder"), "Patient", "p1"); custodian.ErrorCode(err) != custodian.ENOTFOUND {
		t.Fatal(err)
	}
	res, err := audit.Verify(ctx, db)
	if err != nil || !res.OK || res.Entries != 8 {
		t.Fatalf("chain across rows and blocks: %+v %v", res, err)
	}
	got, err := db.FindAudit(ctx, audit.Filter{Patient: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	for _, e := range got {
		seqs = append(seqs, e.Seq)
	}
	if fmt.Sprint(seqs) != "[6 5 4 3 2 1]" {
		t.Fatalf("patient p1's entries: %v", seqs)
	}
	all, err := db.FindAudit(ctx, audit.Filter{})
	if err != nil || len(all) != 8 || all[0].Actor != "bob" || all[1].Action != audit.ActionCreate || all[2].Actor != "old" {
		t.Fatalf("all entries: %+v %v", all, err)
	}
	failed, err := db.FindAudit(ctx, audit.Filter{Failed: true})
	if err != nil || len(failed) != 2 || failed[0].Outcome != custodian.ENOTFOUND || failed[1].Seq != 2 {
		t.Fatalf("failed entries: %+v %v", failed, err)
	}
	page, err := db.FindAudit(ctx, audit.Filter{Before: 8, Limit: 3})
	if err != nil || len(page) != 3 || page[0].Seq != 7 || page[2].Seq != 5 {
		t.Fatalf("page before 8: %+v %v", page, err)
	}
	// The old rows are checked too.
	if _, err := db.Raw().Exec(`UPDATE audit_log SET hash = body WHERE seq = 3`); err != nil {
		t.Fatal(err)
	}
	res, err = audit.Verify(ctx, db)
	if err != nil || res.OK || res.BrokenAt != 3 {
		t.Fatalf("verify = %+v %v, want broken at 3", res, err)
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
	// The outcome filters (the dashboard's refusals and failed sign-ins).
	filters := []struct {
		f    audit.Filter
		want string
	}{
		{audit.Filter{Failed: true}, "bob:search:forbidden bob:read:not_found"},
		{audit.Filter{Outcome: custodian.EFORBIDDEN}, "bob:search:forbidden"},
		{audit.Filter{Outcome: "success", Actor: "bob", Action: audit.ActionRead}, "bob:read:success"},
		{audit.Filter{Failed: true, Action: audit.ActionRead}, "bob:read:not_found"},
		{audit.Filter{Outcome: "success", Limit: 2}, "ida:search:success ida:search:success"},
	}
	for _, c := range filters {
		got, err := st.FindAudit(as("ida", "auditor"), c.f)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, e := range got {
			s = append(s, e.Actor+":"+e.Action+":"+e.Outcome)
		}
		if strings.Join(s, " ") != c.want {
			t.Errorf("FindAudit(%+v) = %v, want %s", c.f, s, c.want)
		}
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

// TestAuditChainAcrossNodes runs three nodes on one PostgreSQL database,
// each writing and reading at once: their entries make one chain that
// holds, with every entry in it once.
func TestAuditChainAcrossNodes(t *testing.T) {
	if sqldbtest.Engine() != "postgres" {
		t.Skip("several nodes share a database on PostgreSQL only")
	}
	u := sqldbtest.URL(t)
	var stores []*store.Store
	var dbs []*sqldb.DB
	for range 3 {
		db, err := postgres.Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		_, st := withStore(t, db)
		dbs, stores = append(dbs, db), append(stores, st)
	}
	const each = 40
	var wg sync.WaitGroup
	for n, st := range stores {
		for g := range 4 {
			wg.Go(func() {
				ctx := as(fmt.Sprintf("node%d", n), "clinician")
				for i := range each {
					if g == 0 {
						if _, err := st.Create(ctx, "Patient", []byte(`{"resourceType":"Patient"}`), store.WriteOptions{}); err != nil {
							t.Error(err)
							return
						}
						continue
					}
					if _, err := st.Read(ctx, "Patient", fmt.Sprintf("n%d-%d-%d", n, g, i)); custodian.ErrorCode(err) != custodian.ENOTFOUND {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	res, err := audit.Verify(context.Background(), dbs[0])
	if want := int64(3 * 4 * each); err != nil || !res.OK || res.Entries != want {
		t.Fatalf("verify = %+v %v, want %d entries intact", res, err, want)
	}
}

func TestBulkReadIsAuditedOnce(t *testing.T) {
	_, st := open(t)
	sys := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	if err := st.RecordBulkRead(sys, "Patient", "master patient index"); err != nil {
		t.Fatal(err)
	}
	got, err := st.FindAudit(as("ida", "auditor"), audit.Filter{Actor: "custodian"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Action != audit.ActionSearch || got[0].Query != "Patient (bulk read: master patient index)" ||
		got[0].Purpose != "HOPERAT" || got[0].Outcome != "success" {
		t.Fatalf("bulk read entries: %+v", got)
	}
}

// TestGroupWritesShareABlock checks that the audit entries of the writes
// a group commits are appended as one block in that commit, and that a
// write that fails in a group leaves no entry behind.
func TestGroupWritesShareABlock(t *testing.T) {
	db, _ := open(t)
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	entry := func(k int, action string) *audit.Entry {
		return &audit.Entry{Time: now.Add(time.Duration(k) * time.Second), Action: action, Outcome: "success",
			Actor: "ana", ActorKind: "user", Roles: []string{"clinician"},
			Resources: []string{"Observation/" + strconv.Itoa(k)}, Patients: []string{"p1"}}
	}
	// One write recording five entries: one block.
	if err := db.Write(ctx, func(tx store.Tx) error {
		for k := range 5 {
			if err := tx.Audit(ctx, entry(k, audit.ActionCreate)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if bs := readBlocks(t, db); len(bs) != 1 || len(bs[0].lines) != 5 {
		t.Fatalf("%d blocks after one write of five entries, want one of five", len(bs))
	}
	// Concurrent writes, every fourth of which fails after recording.
	var wg sync.WaitGroup
	for k := 5; k < 45; k++ {
		wg.Go(func() {
			err := db.Write(ctx, func(tx store.Tx) error {
				if err := tx.Audit(ctx, entry(k, audit.ActionUpdate)); err != nil {
					return err
				}
				if k%4 == 0 {
					return custodian.Errorf(custodian.ECONFLICT, "write %d fails", k)
				}
				return nil
			})
			if (err != nil) != (k%4 == 0) {
				t.Errorf("write %d: %v", k, err)
			}
		})
	}
	wg.Wait()
	all, err := db.FindAudit(ctx, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	kept := map[string]bool{}
	for _, e := range all {
		kept[e.Resources[0]] = true
	}
	for k := 5; k < 45; k++ {
		if r := "Observation/" + strconv.Itoa(k); kept[r] == (k%4 == 0) {
			t.Errorf("%s: in the trail %v, want %v", r, kept[r], k%4 != 0)
		}
	}
	if len(all) != 5+30 {
		t.Errorf("%d entries, want 35", len(all))
	}
	if res, err := audit.Verify(ctx, db); err != nil || !res.OK || res.Entries != 35 {
		t.Fatalf("verify = %+v %v", res, err)
	}
}
