package sqldb_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/postgres"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
)

// oneEntryBlocks appends n entries numbered from k+1 on, one block each.
func oneEntryBlocks(t testing.TB, db *sqldb.DB, k, n int) {
	t.Helper()
	if err := sqldb.AppendAuditBlocks(db, updates(k, n)); err != nil {
		t.Fatal(err)
	}
}

// updates returns n entries of updates numbered from k+1 on.
func updates(k, n int) []*audit.Entry {
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	var es []*audit.Entry
	for i := k + 1; i <= k+n; i++ {
		es = append(es, &audit.Entry{Time: now.Add(time.Duration(i) * time.Second), Action: audit.ActionUpdate, Outcome: "success",
			Actor: "user" + strconv.Itoa(i%3), ActorKind: "user", Roles: []string{"coder"},
			Resources: []string{"Claim/" + strconv.Itoa(i) + "/_history/2"}, Patients: []string{"p" + strconv.Itoa(i%5)}})
	}
	return es
}

// blockSizes returns the number of entries of each block, in order.
func blockSizes(t *testing.T, db *sqldb.DB) []int {
	var out []int
	for _, b := range readBlocks(t, db) {
		out = append(out, len(b.lines))
	}
	return out
}

// findAll returns the Seq of every entry f finds, paging through the trail
// a few entries at a time.
func findAll(t *testing.T, db *sqldb.DB, f audit.Filter) []int64 {
	t.Helper()
	var out []int64
	f.Limit = 7
	for {
		es, err := db.FindAudit(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			out = append(out, e.Seq)
		}
		if len(es) < f.Limit {
			return out
		}
		f.Before = es[len(es)-1].Seq
	}
}

// TestSealAudit checks that small blocks are sealed into larger ones with
// the same entries and hashes: the trail verifies, FindAudit finds the
// same entries by every key, and only a tail too small to seal is left.
func TestSealAudit(t *testing.T) {
	db, _ := open(t)
	ctx := context.Background()
	// 100 one-entry blocks, a block of 500, 30 one-entry blocks, a block
	// of 10, then 40 one-entry blocks at the end.
	oneEntryBlocks(t, db, 0, 100)
	auditEntriesFrom(t, db, 100, 500)
	oneEntryBlocks(t, db, 600, 30)
	auditEntriesFrom(t, db, 630, 10)
	oneEntryBlocks(t, db, 640, 40)
	filters := []audit.Filter{{}, {Patient: "p3"}, {Actor: "user1"}, {Action: audit.ActionUpdate}, {Actor: "ana", Patient: "p2"},
		{Since: time.Date(2026, 3, 1, 8, 9, 0, 0, time.UTC), Until: time.Date(2026, 3, 1, 8, 10, 30, 0, time.UTC)}}
	var before [][]int64
	for _, f := range filters {
		before = append(before, findAll(t, db, f))
	}
	if n, err := db.SealAudit(ctx); err != nil || n != 680 {
		t.Fatalf("sealed %d entries, %v; want 680", n, err)
	}
	if got, want := blockSizes(t, db), []int{680}; !slices.Equal(got, want) {
		t.Fatalf("blocks of %v entries after sealing, want %v", got, want)
	}
	// Nothing more to seal; a few more small blocks stay until they make
	// a run worth sealing.
	oneEntryBlocks(t, db, 680, 10)
	if n, err := db.SealAudit(ctx); err != nil || n != 0 {
		t.Fatalf("sealed %d entries, %v; want none", n, err)
	}
	oneEntryBlocks(t, db, 690, 60)
	if n, err := db.SealAudit(ctx); err != nil || n != 70 {
		t.Fatalf("sealed %d entries, %v; want the last 70", n, err)
	}
	res, err := audit.Verify(ctx, db)
	if err != nil || !res.OK || res.Entries != 750 {
		t.Fatalf("verify after sealing = %+v %v", res, err)
	}
	for i, f := range filters {
		got := findAll(t, db, f)
		want := slices.DeleteFunc(slices.Clone(got), func(s int64) bool { return s > 680 })
		if !slices.Equal(want, before[i]) || len(before[i]) == 0 && i < 4 {
			t.Errorf("filter %+v: found %v after sealing, %v before", f, want, before[i])
		}
	}
	// The key rows moved: one per distinct key and block.
	var keys int
	if err := db.Raw().QueryRow(`SELECT count(*) FROM audit_key`).Scan(&keys); err != nil {
		t.Fatal(err)
	}
	// Two blocks, of 680 and 70 entries: 7 and 5 patients, 4 and 3 actors,
	// 2 actions and 1.
	if keys > 2*(7+4+2) {
		t.Errorf("%d key rows after sealing, want at most %d", keys, 2*(7+4+2))
	}
}

// auditEntriesFrom appends n entries numbered from k+1 on as one block.
func auditEntriesFrom(t testing.TB, db *sqldb.DB, k, n int) {
	t.Helper()
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	var es []*audit.Entry
	for i := k + 1; i <= k+n; i++ {
		es = append(es, &audit.Entry{Time: now.Add(time.Duration(i) * time.Second), Action: audit.ActionRead, Outcome: "success",
			Actor: "ana", ActorKind: "user", Roles: []string{"clinician"}, Purpose: "TREAT",
			Resources: []string{"Observation/" + strconv.Itoa(i)}, Patients: []string{"p" + strconv.Itoa(i%7)}})
	}
	if err := db.AppendAuditBatch(context.Background(), es); err != nil {
		t.Fatal(err)
	}
}

// TestSealedBlocksShowTampering alters a sealed block as someone with the
// database file could, and checks that Verify names the entry.
func TestSealedBlocksShowTampering(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(b *block, i int)
		broken int64
	}{
		{"altered", func(b *block, i int) {
			b.lines[i] = bytes.Replace(b.lines[i], []byte(`"user`), []byte(`"eve`), 1)
		}, 40},
		{"deleted with its hash", func(b *block, i int) {
			b.lines = slices.Delete(b.lines, i, i+1)
			b.hashes = slices.Delete(b.hashes, i, i+1)
		}, 41},
		{"inserted copy", func(b *block, i int) {
			b.lines = slices.Insert(b.lines, i+1, b.lines[2])
			b.hashes = slices.Insert(b.hashes, i+1, b.hashes[2])
		}, 3},
		{"swapped", func(b *block, i int) {
			b.lines[i], b.lines[i+1] = b.lines[i+1], b.lines[i]
			b.hashes[i], b.hashes[i+1] = b.hashes[i+1], b.hashes[i]
		}, 41},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db, _ := open(t)
			ctx := context.Background()
			oneEntryBlocks(t, db, 0, 100)
			if n, err := db.SealAudit(ctx); err != nil || n != 100 {
				t.Fatalf("sealed %d, %v", n, err)
			}
			bs := readBlocks(t, db)
			if len(bs) != 1 || !bs[0].packed {
				t.Fatalf("%d blocks after sealing, want one compressed", len(bs))
			}
			b, i := blockOf(t, bs, 40)
			c.tamper(b, i)
			writeBlock(t, db, b)
			res, err := audit.Verify(ctx, db)
			if err != nil || res.OK || res.BrokenAt != c.broken {
				t.Fatalf("verify = %+v %v, want broken at %d", res, err, c.broken)
			}
		})
	}
}

// TestSealLeavesBrokenRunsAlone checks that a run of blocks that does not
// verify is not sealed (the evidence stays as it was found) while the runs
// after it are, and that Verify reports the same break before and after.
func TestSealLeavesBrokenRunsAlone(t *testing.T) {
	db, _ := open(t)
	ctx := context.Background()
	oneEntryBlocks(t, db, 0, 3000)
	bs := readBlocks(t, db)
	b, i := blockOf(t, bs, 1500)
	b.lines[i] = bytes.Replace(b.lines[i], []byte(`"user`), []byte(`"eve`), 1)
	writeBlock(t, db, b)
	res, err := audit.Verify(ctx, db)
	if err != nil || res.OK || res.BrokenAt != 1500 {
		t.Fatalf("verify before sealing = %+v %v", res, err)
	}
	n, err := db.SealAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Entries 1–2048 make the first run, which holds the altered one.
	if n != 3000-2048 {
		t.Errorf("sealed %d entries, want %d", n, 3000-2048)
	}
	sizes := blockSizes(t, db)
	if len(sizes) != 2048+1 || sizes[2048] != 3000-2048 {
		t.Errorf("%d blocks after sealing, want 2048 left alone and one sealed", len(sizes))
	}
	res, err = audit.Verify(ctx, db)
	if err != nil || res.OK || res.BrokenAt != 1500 {
		t.Fatalf("verify after sealing = %+v %v", res, err)
	}
}

// TestSealAcrossNodes seals on three nodes of one PostgreSQL database at
// once, while they append: one chain, every entry in it once.
func TestSealAcrossNodes(t *testing.T) {
	if sqldbtest.Engine() != "postgres" {
		t.Skip("several nodes share a database on PostgreSQL only")
	}
	u := sqldbtest.URL(t)
	var dbs []*sqldb.DB
	for range 3 {
		db, err := postgres.Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs = append(dbs, db)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	k := 0
	for _, db := range dbs {
		wg.Go(func() {
			for range 10 {
				mu.Lock()
				from := k
				k += 50
				mu.Unlock()
				if err := sqldb.AppendAuditBlocks(db, updates(from, 50)); err != nil {
					t.Error(err)
					return
				}
				if _, err := db.SealAudit(ctx); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if _, err := dbs[0].SealAudit(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := audit.Verify(ctx, dbs[1])
	if err != nil || !res.OK || res.Entries != 1500 {
		t.Fatalf("verify = %+v %v, want 1500 entries intact", res, err)
	}
	got := findAll(t, dbs[2], audit.Filter{})
	if len(got) != 1500 || got[0] != 1500 || got[len(got)-1] != 1 {
		t.Fatalf("FindAudit found %d entries, %v…", len(got), got[:min(5, len(got))])
	}
	// Small blocks are left only at the end of the trail, fewer than 64
	// entries in all (a run at the end waits until it holds 64).
	sizes := blockSizes(t, dbs[0])
	tail, entries := len(sizes), 0
	for tail > 0 && sizes[tail-1] < 64 {
		tail--
		entries += sizes[tail]
	}
	if entries >= 64 {
		t.Errorf("blocks of %v entries after sealing: %d entries in small blocks at the end", fmt.Sprint(sizes), entries)
	}
	for _, n := range sizes[:tail] {
		if n < 64 {
			t.Errorf("blocks of %v entries after sealing: a small one before the end", fmt.Sprint(sizes))
			break
		}
	}
}

// TestSealAfterRowsBeforeBlocks seals blocks that continue a chain begun in
// rows written before blocks: the run is checked from the last such row.
func TestSealAfterRowsBeforeBlocks(t *testing.T) {
	db, _ := open(t)
	ctx := context.Background()
	legacyRows(t, db, 100)
	oneEntryBlocks(t, db, 100, 100)
	if n, err := db.SealAudit(ctx); err != nil || n != 100 {
		t.Fatalf("sealed %d entries, %v; want 100", n, err)
	}
	if got := blockSizes(t, db); !slices.Equal(got, []int{100}) || readBlocks(t, db)[0].first != 101 {
		t.Fatalf("blocks of %v entries after sealing, want one of 100 from entry 101", got)
	}
	res, err := audit.Verify(ctx, db)
	if err != nil || !res.OK || res.Entries != 200 {
		t.Fatalf("verify = %+v %v", res, err)
	}
}
