package sqldb_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

// TestHeldBackIndexRows: a write's index rows are inserted when the write
// ends, in large statements. A search inside the write must still see the
// rows written before it, an update must replace them, and a write that
// fails must leave none of its rows, whatever it was grouped with.
func TestHeldBackIndexRows(t *testing.T) {
	db, st := withStore(t, sqldbtest.Open(t))
	ctx := context.Background()
	put := func(tx store.Tx, id string, version int64, mrn string) error {
		r := &store.Resource{Type: "Patient", ID: id, VersionID: version, LastUpdated: time.Now(), Method: store.MethodCreate,
			Body: []byte(`{"resourceType":"Patient"}`)}
		return tx.Put(ctx, r, []store.IndexEntry{{Param: "identifier", Kind: store.KindToken, System: "urn:mrn", Code: mrn}})
	}
	find := func(rd store.Reader, mrn string) []string {
		t.Helper()
		q, err := st.ParseQueryString("Patient", "identifier=urn:mrn|"+mrn+"&_count=1000")
		if err != nil {
			t.Fatal(err)
		}
		page, err := rd.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range page.Resources {
			ids = append(ids, r.ID)
		}
		return ids
	}
	err := db.Write(ctx, func(tx store.Tx) error {
		for i := range 300 { // more rows than one INSERT takes
			if err := put(tx, fmt.Sprintf("p%d", i), 1, "m"+fmt.Sprint(i%3)); err != nil {
				return err
			}
		}
		if got := find(tx, "m1"); len(got) != 100 {
			t.Errorf("inside the write, m1 finds %d patients, want 100", len(got))
		}
		if err := put(tx, "p1", 2, "changed"); err != nil {
			return err
		}
		if got := find(tx, "m1"); len(got) != 99 {
			t.Errorf("after an update inside the write, m1 finds %d patients, want 99", len(got))
		}
		return put(tx, "p2", 2, "changed")
	})
	if err != nil {
		t.Fatal(err)
	}
	const n = 120
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Write(ctx, func(tx store.Tx) error {
				if err := put(tx, fmt.Sprintf("g%d", i), 1, "group"); err != nil {
					return err
				}
				if i%5 == 2 {
					return custodian.Errorf(custodian.EINVALID, "write %d fails after its put", i)
				}
				return nil
			})
		}()
	}
	wg.Wait()
	want := 0
	for i := range n {
		if (errs[i] != nil) != (i%5 == 2) {
			t.Fatalf("write %d: error %v", i, errs[i])
		}
		if errs[i] == nil {
			want++
		}
	}
	db.Read(ctx, func(rd store.Reader) error {
		if got := find(rd, "group"); len(got) != want {
			t.Errorf("group: %d found, want %d", len(got), want)
		}
		if got := find(rd, "changed"); len(got) != 2 {
			t.Errorf("changed: %v", got)
		}
		if got := find(rd, "m0"); len(got) != 100 {
			t.Errorf("m0: %d found, want 100", len(got))
		}
		return nil
	})
	var rows int
	db.SQL().QueryRow(`SELECT count(*) FROM idx_token`).Scan(&rows)
	if rows != 300+want {
		t.Errorf("%d token rows, want %d", rows, 300+want)
	}
}
