package sqldb_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/audit"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

// TestGroupCommitIsolatesFailures runs many concurrent writes, some of which
// fail after writing part of their work; the failed ones must leave nothing
// behind and the others must all be kept, however they were grouped.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	db := sqldbtest.Open(t)
	ctx := context.Background()
	const n = 200
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Write(ctx, func(tx store.Tx) error {
				r := &store.Resource{Type: "Basic", ID: fmt.Sprintf("b%d", i), VersionID: 1, LastUpdated: time.Now(),
					Method: store.MethodCreate, Body: []byte(`{"resourceType":"Basic"}`)}
				if err := tx.Put(ctx, r, nil); err != nil {
					return err
				}
				if i%7 == 3 {
					return custodian.Errorf(custodian.EINVALID, "write %d fails after its put", i)
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i := range n {
		var found bool
		err := db.Read(ctx, func(rd store.Reader) error {
			_, err := rd.Current(ctx, "Basic", fmt.Sprintf("b%d", i))
			found = err == nil
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		failed := i%7 == 3
		if failed != (errs[i] != nil) {
			t.Fatalf("write %d: error %v", i, errs[i])
		}
		if found == failed {
			t.Fatalf("write %d: failed=%v but stored=%v", i, failed, found)
		}
	}
}

// TestAuditChainSurvivesFailedWritesInAGroup has writes that append to the
// audit trail and then fail, among writes that succeed, all grouped: the
// chain must still verify.
func TestAuditChainSurvivesFailedWritesInAGroup(t *testing.T) {
	db, st := open(t)
	ctx := as("ana", "clinician")
	var wg sync.WaitGroup
	for i := range 120 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := `{"resourceType":"Patient"}`
			if i%5 == 0 {
				body = `{"resourceType":"Patient","birthDate":"never"}` // refused: its refusal is audited alone
			}
			st.Create(ctx, "Patient", []byte(body), store.WriteOptions{})
			db.Write(ctx, func(tx store.Tx) error {
				if err := tx.Audit(ctx, &audit.Entry{Time: time.Now(), Action: "read", Outcome: "success", Actor: "x"}); err != nil {
					return err
				}
				if i%3 == 0 {
					return custodian.Errorf(custodian.ECONFLICT, "fails after appending")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	res, err := audit.Verify(ctx, db)
	if err != nil || !res.OK {
		t.Fatalf("verify after mixed group commits: %+v %v", res, err)
	}
}
