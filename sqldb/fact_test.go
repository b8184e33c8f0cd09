package sqldb_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/projection"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
	"github.com/custodian-him/custodian/store"
)

// factsOf reads every saved fact as "Type/ID@version=data", sorted.
func factsOf(t *testing.T, f *sqldb.FactStore) []string {
	t.Helper()
	var out []string
	err := f.Scan(context.Background(), func(x projection.Fact) error {
		out = append(out, fmt.Sprintf("%s/%s@%d=%s", x.Type, x.ID, x.Version, x.Data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// TestFactStoreKeepsTheNewestVersion: a save never replaces a fact with
// an older version's, a removal removes only as old a fact or older, the
// state is written with the last facts, and the chart's and measures'
// tables are kept apart.
func TestFactStoreKeepsTheNewestVersion(t *testing.T) {
	ctx := context.Background()
	db := sqldbtest.Open(t)
	chart := sqldb.NewFactStore(db, sqldb.FactTables{Facts: "chart_fact", State: "chart_state", Row: "index"})
	measure := sqldb.NewFactStore(db, sqldb.FactTables{Facts: "measure_fact", State: "measure_state", Row: "record"})
	if _, ok, err := chart.Saved(ctx); err != nil || ok {
		t.Fatalf("a new database has a saved state (%v, %v)", ok, err)
	}
	fact := func(id string, version int64, data string) projection.Fact {
		f := projection.Fact{Type: "Encounter", ID: id, Version: version}
		if data != "" {
			f.Data = []byte(data)
		}
		return f
	}
	steps := []struct {
		name  string
		facts []projection.Fact
		want  []string
	}{
		{"first save", []projection.Fact{fact("a", 2, "a2"), fact("b", 1, "b1"), fact("c", 5, "c5")},
			[]string{"Encounter/a@2=a2", "Encounter/b@1=b1", "Encounter/c@5=c5"}},
		{"an older version is not taken, a newer one is", []projection.Fact{fact("a", 1, "a1"), fact("b", 3, "b3")},
			[]string{"Encounter/a@2=a2", "Encounter/b@3=b3", "Encounter/c@5=c5"}},
		{"the same version is rewritten", []projection.Fact{fact("a", 2, "A2")},
			[]string{"Encounter/a@2=A2", "Encounter/b@3=b3", "Encounter/c@5=c5"}},
		{"a removal of an older version keeps the fact, of its version or newer removes it",
			[]projection.Fact{fact("c", 4, ""), fact("a", 2, ""), fact("b", 9, ""), fact("z", 1, "")},
			[]string{"Encounter/c@5=c5"}},
	}
	for _, s := range steps {
		if err := chart.Save(ctx, s.facts, nil); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := factsOf(t, chart); !slices.Equal(got, s.want) {
			t.Errorf("%s: %v, want %v", s.name, got, s.want)
		}
	}
	if got := factsOf(t, measure); len(got) != 0 {
		t.Errorf("the measures' table holds the chart's facts: %v", got)
	}

	// More facts than one transaction takes, with the state.
	var many []projection.Fact
	for i := range 6000 {
		many = append(many, fact(fmt.Sprintf("m%04d", i), 1, "x"))
	}
	st := projection.SavedState{Position: 42, Replay: 40, Format: "f1", Saved: time.UnixMilli(1764150000123).UTC()}
	if err := measure.Save(ctx, many, &st); err != nil {
		t.Fatal(err)
	}
	if got := len(factsOf(t, measure)); got != 6000 {
		t.Errorf("%d facts saved, want 6000", got)
	}
	got, ok, err := measure.Saved(ctx)
	if err != nil || !ok || got != st {
		t.Errorf("saved state %+v (%v, %v), want %+v", got, ok, err, st)
	}
	if _, ok, _ := chart.Saved(ctx); ok {
		t.Error("the chart has the measures' state")
	}
	// A state alone.
	st.Position = 50
	if err := measure.Save(ctx, nil, &st); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := measure.Saved(ctx); got.Position != 50 {
		t.Errorf("position %d after a save of the state alone, want 50", got.Position)
	}

	if err := measure.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := measure.Saved(ctx); ok || len(factsOf(t, measure)) != 0 {
		t.Error("Clear left the state or facts")
	}
	if got := factsOf(t, chart); len(got) != 1 {
		t.Errorf("clearing the measures' facts touched the chart's: %v", got)
	}
}

// TestFactStoreReadsTheChangeFeed: Changes lists the versions of the types
// asked for after a position, deletes marked, with the newest position
// of any type; Current and Versions read what a replay needs.
func TestFactStoreReadsTheChangeFeed(t *testing.T) {
	ctx := custodian.NewContextWithActor(context.Background(), custodian.SystemActor())
	db, st := sqldbtest.OpenStore(t)
	f := sqldb.NewFactStore(db, sqldb.FactTables{Facts: "chart_fact", State: "chart_state", Row: "index"})
	if n, err := f.Newest(ctx); err != nil || n != 0 {
		t.Fatalf("newest of an empty store: %d, %v", n, err)
	}
	sqldbtest.Put(t, ctx, st, []map[string]any{
		{"resourceType": "Patient", "id": "p1", "gender": "female"},
		{"resourceType": "Encounter", "id": "e1", "status": "finished", "class": map[string]any{"code": "IMP"}},
	})
	start, err := f.Newest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sqldbtest.Put(t, ctx, st, []map[string]any{{"resourceType": "Patient", "id": "p1", "gender": "male"}})
	if _, err := st.Delete(ctx, "Encounter", "e1", store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	sqldbtest.Put(t, ctx, st, []map[string]any{{"resourceType": "Organization", "id": "o1", "name": "x"}})
	newest, err := f.Newest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	pos, err := f.Changes(ctx, start, []string{"Patient", "Encounter"}, func(typ, id string, version int64, deleted bool) error {
		got = append(got, fmt.Sprintf("%s/%s@%d deleted=%v", typ, id, version, deleted))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Patient/p1@2 deleted=false", "Encounter/e1@2 deleted=true"}
	if !slices.Equal(got, want) {
		t.Errorf("changes %v, want %v", got, want)
	}
	if pos != newest || newest <= start {
		t.Errorf("Changes returned position %d; newest %d, start %d", pos, newest, start)
	}

	var current []string
	err = f.Current(ctx, []projection.Fact{{Type: "Patient", ID: "p1"}, {Type: "Encounter", ID: "e1", Version: 2}, {Type: "Patient", ID: "nobody", Version: 1}},
		func(r *store.Resource) error {
			current = append(current, fmt.Sprintf("%s/%s@%d deleted=%v", r.Type, r.ID, r.VersionID, r.Deleted))
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Patient/p1@2 deleted=false", "Encounter/e1@2 deleted=true", "Patient/nobody@1 deleted=true"}; !slices.Equal(current, want) {
		t.Errorf("current %v, want %v", current, want)
	}

	var versions []string
	err = f.Versions(ctx, []projection.Fact{{Type: "Patient", ID: "p1", Version: 1}, {Type: "Encounter", ID: "e1", Version: 2}, {Type: "Patient", ID: "p1", Version: 7}},
		func(typ, id string, version int64, body []byte) error {
			versions = append(versions, fmt.Sprintf("%s/%s@%d body=%v", typ, id, version, body != nil))
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Patient/p1@1 body=true", "Encounter/e1@2 body=false"}; !slices.Equal(versions, want) {
		t.Errorf("versions %v, want %v", versions, want)
	}
}
