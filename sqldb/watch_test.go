package sqldb_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// TestWatchersSeeCommittedVersions checks that watchers hear of every
// version a write commits, once, after the commit, and of nothing that
// failed — also when a failing write shares a group commit with good ones
// (the backend then runs the good ones again).
func TestWatchersSeeCommittedVersions(t *testing.T) {
	_, st := open(t)
	var mu sync.Mutex
	var seen []string
	st.Watchers = append(st.Watchers, func(ctx context.Context, vs []*store.Resource) {
		if custodian.ActorFromContext(ctx) == nil {
			t.Error("watcher has no actor")
		}
		mu.Lock()
		defer mu.Unlock()
		for _, v := range vs {
			s := fmt.Sprintf("%s/%d", v.Ref(), v.VersionID)
			if v.Deleted {
				s += " deleted"
			} else if len(v.Body) == 0 {
				t.Errorf("%s has no body", s)
			}
			seen = append(seen, s)
		}
	})
	take := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := seen
		seen = nil
		return out
	}
	ctx := as("ana", "clinician")
	pat := `{"resourceType":"Patient","id":"p1","gender":"female"}`
	if _, err := st.Update(ctx, "Patient", "p1", []byte(pat), store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	// The same content again adds no version and tells nobody.
	if _, err := st.Update(ctx, "Patient", "p1", []byte(pat), store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Update(ctx, "Patient", "p1", []byte(`{"resourceType":"Patient","id":"p1","gender":"male"}`), store.WriteOptions{IfMatch: 9}); err == nil {
		t.Fatal("stale If-Match accepted")
	}
	if _, err := st.Delete(ctx, "Patient", "p1", store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(take()), "[Patient/p1/1 Patient/p1/2 deleted]"; got != want {
		t.Errorf("single writes: watchers saw %s, want %s", got, want)
	}

	entries := []store.Entry{
		{Method: "PUT", URL: "Patient/p2", Resource: map[string]any{"resourceType": "Patient", "id": "p2"}},
		{Method: "PUT", URL: "Encounter/e2", Resource: map[string]any{"resourceType": "Encounter", "id": "e2", "status": "finished",
			"class": map[string]any{"code": "IMP"}, "subject": map[string]any{"reference": "Patient/p2"}}},
	}
	if _, err := st.Transaction(ctx, entries); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(take()), "[Patient/p2/1 Encounter/e2/1]"; got != want {
		t.Errorf("transaction: watchers saw %s, want %s", got, want)
	}

	// Concurrent writes, a third of them failing: each good one seen once.
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("c%d", i)
			opt := store.WriteOptions{}
			if i%3 == 0 {
				opt.IfMatch = 5 // the resource does not exist: fails
			}
			st.Update(ctx, "Patient", id, []byte(`{"resourceType":"Patient","id":"`+id+`"}`), opt)
		}()
	}
	wg.Wait()
	got := map[string]int{}
	for _, s := range take() {
		got[s]++
	}
	for i := range 30 {
		s := fmt.Sprintf("Patient/c%d/1", i)
		want := 1
		if i%3 == 0 {
			want = 0
		}
		if got[s] != want {
			t.Errorf("%s seen %d times, want %d", s, got[s], want)
		}
	}

	res, err := st.PutBatch(custodian.NewContextWithActor(context.Background(), custodian.SystemActor()), []map[string]any{
		{"resourceType": "Patient", "id": "b1"}, {"resourceType": "Patient", "id": "b2"},
	})
	if err != nil || res[0].Err != nil || res[1].Err != nil {
		t.Fatal(err, res)
	}
	if got, want := fmt.Sprint(take()), "[Patient/b1/1 Patient/b2/1]"; got != want {
		t.Errorf("batch: watchers saw %s, want %s", got, want)
	}
}
