package registry_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/measure"
	"github.com/custodian-him/custodian/measure/factdb"
	"github.com/custodian-him/custodian/registry"
	"github.com/custodian-him/custodian/store"
)

// BenchmarkIncremental measures what case finding adds to a write:
// go test -run '^$' -bench Incremental -benchtime 200x ./registry
//
//   - watchers: the record's and the registry's watchers on one written
//     Condition (what runs in the writer's goroutine);
//   - sync: finding the cases of the one patient written (Sync), when the
//     patient is already a case (nothing to store);
//   - write-plain and write-watched: a whole store.Update of a Condition
//     without and with the watchers and a Sync after it;
//   - watchers-kept and write-watched-kept: the same with the record's
//     projection kept in the database (measure.Projection), whose watcher
//     also remembers each change for the next save; the save that follows
//     (in the background, not in a write) is logged with its time per
//     change.
func BenchmarkIncremental(b *testing.B) {
	f := open(b, 200)
	ctx := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	if _, err := f.svc.FindAll(ctx, ""); err != nil {
		b.Fatal(err)
	}
	diabetics, _ := f.svc.Cases("diabetes", registry.Candidate)
	if len(diabetics) == 0 {
		b.Fatal("no diabetes case")
	}
	pid := diabetics[0].Patient
	body := func(id string) []byte {
		return fmt.Appendf(nil, `{"resourceType":"Condition","id":%q,"subject":{"reference":"Patient/%s"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"E11.9"}]},"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"problem-list-item"}]}],"onsetDateTime":"2025-01-01"}`, id, pid)
	}
	recW, svcW := f.rec.Watcher(), f.svc.Watcher()
	b.Run("watchers", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			id := fmt.Sprintf("w-%d", i)
			v := []*store.Resource{{Type: "Condition", ID: id, VersionID: 1, Compartment: pid, Body: body(id)}}
			recW(ctx, v)
			svcW(ctx, v)
		}
	})
	b.Run("sync", func(b *testing.B) {
		v := []*store.Resource{{Type: "Condition", ID: "s-1", VersionID: 1, Compartment: pid, Body: body("s-1")}}
		for b.Loop() {
			svcW(ctx, v)
			if _, err := f.svc.Sync(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	watchers := f.st.Watchers
	b.Run("write-plain", func(b *testing.B) {
		f.st.Watchers = nil
		i := 0
		for b.Loop() {
			i++
			id := fmt.Sprintf("p-%d", i)
			if _, err := f.st.Update(ctx, "Condition", id, body(id), store.WriteOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("write-watched", func(b *testing.B) {
		f.st.Watchers = watchers
		i := 0
		for b.Loop() {
			i++
			id := fmt.Sprintf("q-%d", i)
			if _, err := f.st.Update(ctx, "Condition", id, body(id), store.WriteOptions{}); err != nil {
				b.Fatal(err)
			}
			if _, err := f.svc.Sync(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	proj := &measure.Projection{Record: f.rec, Facts: factdb.New(f.db), Source: measure.BackendSource{Backend: f.db}}
	if _, err := proj.Load(ctx); err != nil {
		b.Fatal(err)
	}
	b.Run("watchers-kept", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			id := fmt.Sprintf("wk-%d", i)
			v := []*store.Resource{{Type: "Condition", ID: id, VersionID: 1, Compartment: pid, Body: body(id)}}
			recW(ctx, v)
			svcW(ctx, v)
		}
	})
	b.Run("write-watched-kept", func(b *testing.B) {
		f.st.Watchers = watchers
		i := 0
		for b.Loop() {
			i++
			id := fmt.Sprintf("qk-%d", i)
			if _, err := f.st.Update(ctx, "Condition", id, body(id), store.WriteOptions{}); err != nil {
				b.Fatal(err)
			}
			if _, err := f.svc.Sync(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	n := proj.Changed()
	t0 := time.Now()
	if err := proj.Save(ctx); err != nil {
		b.Fatal(err)
	}
	if n > 0 {
		b.Logf("save of %d changes: %s (%.1f µs per change)", n, time.Since(t0), float64(time.Since(t0).Microseconds())/float64(n))
	}
}
