package projection_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/custodian-him/custodian/projection"
)

// feed is a Store over an in-memory change feed and facts.
type feed struct {
	mu      sync.Mutex
	changes []projection.Change // position i+1
	facts   map[string]projection.Fact
	state   *projection.SavedState
	saves   int
	failAt  int // the save that fails (1-based; 0: none)
}

func (f *feed) Saved(context.Context) (projection.SavedState, bool, error) {
	if f.state == nil {
		return projection.SavedState{}, false, nil
	}
	return *f.state, true, nil
}

func (f *feed) Scan(_ context.Context, fn func(projection.Fact) error) error {
	for _, x := range f.facts {
		if err := fn(x); err != nil {
			return err
		}
	}
	return nil
}

func (f *feed) Save(_ context.Context, facts []projection.Fact, st *projection.SavedState) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.saves++
	if f.saves == f.failAt {
		return errors.New("disk full")
	}
	if f.facts == nil {
		f.facts = map[string]projection.Fact{}
	}
	for _, x := range facts {
		f.facts[x.Type+"/"+x.ID] = x
	}
	if st != nil {
		f.state = st
	}
	return nil
}

func (f *feed) Clear(context.Context) error { f.facts, f.state = nil, nil; return nil }

func (f *feed) Newest(context.Context) (int64, error) { return int64(len(f.changes)), nil }

func (f *feed) Changes(_ context.Context, after int64, types []string, fn func(string, string, int64, bool) error) (int64, error) {
	for i := after; i < int64(len(f.changes)); i++ {
		c := f.changes[i]
		if !slices.Contains(types, c.Type) {
			continue
		}
		if err := fn(c.Type, c.ID, c.Version, c.Deleted); err != nil {
			return 0, err
		}
	}
	return int64(len(f.changes)), nil
}

func TestReplayKeepsTheNewestChangeOfEachResource(t *testing.T) {
	f := &feed{}
	add := func(typ, id string, version int64, deleted bool) {
		f.changes = append(f.changes, projection.Change{Type: typ, ID: id, Version: version, Deleted: deleted})
	}
	add("Patient", "b", 1, false)
	add("Encounter", "e", 1, false)
	add("Patient", "a", 1, false)
	add("Patient", "b", 2, false)
	add("Observation", "o", 1, false) // a type not asked for
	add("Patient", "a", 2, true)
	add("Encounter", "f", 1, false)
	tests := []struct {
		name  string
		after int64
		batch int
		want  [][]projection.Change
	}{
		{name: "all at once", after: 0, batch: 100, want: [][]projection.Change{{
			{Type: "Encounter", ID: "e", Version: 1}, {Type: "Encounter", ID: "f", Version: 1},
			{Type: "Patient", ID: "a", Version: 2, Deleted: true}, {Type: "Patient", ID: "b", Version: 2}}}},
		{name: "in batches of two", after: 0, batch: 2, want: [][]projection.Change{
			{{Type: "Encounter", ID: "e", Version: 1}, {Type: "Patient", ID: "b", Version: 1}},
			{{Type: "Patient", ID: "a", Version: 1}, {Type: "Patient", ID: "b", Version: 2}},
			{{Type: "Encounter", ID: "f", Version: 1}, {Type: "Patient", ID: "a", Version: 2, Deleted: true}},
			{}}},
		{name: "after a position", after: 4, batch: 100, want: [][]projection.Change{{
			{Type: "Encounter", ID: "f", Version: 1}, {Type: "Patient", ID: "a", Version: 2, Deleted: true}}}},
		{name: "nothing after", after: 7, batch: 100, want: [][]projection.Change{{}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got [][]projection.Change
			newest, err := projection.Replay(context.Background(), f, tc.after, []string{"Patient", "Encounter"}, tc.batch, func(cs []projection.Change) error {
				got = append(got, slices.Clone(cs))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if newest != 7 {
				t.Errorf("newest position %d, want 7", newest)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
	stop := errors.New("stop")
	if _, err := projection.Replay(context.Background(), f, 0, []string{"Patient"}, 100, func([]projection.Change) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("an error from take: got %v", err)
	}
}

func TestUsable(t *testing.T) {
	f := &feed{changes: make([]projection.Change, 130)}
	tests := []struct {
		name string
		st   projection.SavedState
		want bool
	}{
		{"same format, few changes since", projection.SavedState{Position: 120, Replay: 100, Format: "f1"}, true},
		{"a third of the history changed since", projection.SavedState{Position: 90, Replay: 100, Format: "f1"}, true},
		{"more than a third changed since", projection.SavedState{Position: 90, Replay: 99, Format: "f1"}, false},
		{"another format", projection.SavedState{Position: 130, Replay: 130, Format: "f0"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := projection.Usable(context.Background(), f, tc.st, "f1")
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMarks(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	margin := 2 * time.Minute
	st := projection.SavedState{Position: 50, Replay: 40, Saved: t0}
	ms := projection.Resumed(st, margin, 60, t0.Add(time.Hour))
	want := projection.Marks{{At: t0.Add(-margin), Pos: 40}, {At: t0, Pos: 50}, {At: t0.Add(time.Hour), Pos: 60}}
	if fmt.Sprint(ms) != fmt.Sprint(want) {
		t.Fatalf("resumed: %v, want %v", ms, want)
	}
	tests := []struct {
		name string
		now  time.Time
		want int64
	}{
		{"at once: the saved position", t0.Add(time.Hour), 50},
		{"a minute later: still the saved position", t0.Add(time.Hour + time.Minute), 50},
		{"a margin later: the start's position", t0.Add(time.Hour + margin), 60},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ms.From(tc.now, margin).Pos; got != tc.want {
				t.Errorf("from %d, want %d", got, tc.want)
			}
		})
	}
	first := projection.Marks{{At: t0, Pos: 10}}
	if got := first.From(t0, margin).Pos; got != 10 {
		t.Errorf("with no mark a margin old, the oldest: got %d", got)
	}
	after := ms.Saved(t0.Add(time.Hour+3*time.Minute), 70, margin)
	if want := (projection.Marks{{At: t0.Add(time.Hour), Pos: 60}, {At: t0.Add(time.Hour + 3*time.Minute), Pos: 70}}); fmt.Sprint(after) != fmt.Sprint(want) {
		t.Errorf("after a save: %v, want %v", after, want)
	}
}

func TestScheduleDue(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		s       projection.Schedule
		since   time.Duration
		changed int
		want    bool
	}{
		{"defaults, soon after a save", projection.Schedule{}, time.Minute, 10, false},
		{"defaults, five minutes after", projection.Schedule{}, 5 * time.Minute, 0, true},
		{"defaults, 20,000 changes", projection.Schedule{}, time.Second, 20000, true},
		{"defaults, 19,999 changes", projection.Schedule{}, time.Second, 19999, false},
		{"own interval", projection.Schedule{Interval: time.Second}, time.Second, 0, true},
		{"own count", projection.Schedule{MaxChanged: 3}, time.Second, 3, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.Due(t0, t0.Add(tc.since), tc.changed); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if got := (projection.Schedule{}).Tick(); got != 10*time.Second {
		t.Errorf("tick %v", got)
	}
	if got := (projection.Schedule{}).Slack(); got != 2*time.Minute {
		t.Errorf("margin %v", got)
	}
}

func TestSaverWritesInTheBackgroundAndReportsTheFirstError(t *testing.T) {
	f := &feed{}
	sv := projection.NewSaver(context.Background(), f)
	sv.C <- []projection.Fact{{Type: "Patient", ID: "a", Version: 1, Data: []byte("x")}}
	sv.C <- []projection.Fact{{Type: "Patient", ID: "b", Version: 1, Data: []byte("y")}}
	if err := sv.Finish(); err != nil {
		t.Fatal(err)
	}
	if len(f.facts) != 2 || f.state != nil {
		t.Errorf("facts %v, state %v", f.facts, f.state)
	}
	f = &feed{failAt: 1}
	sv = projection.NewSaver(context.Background(), f)
	sv.C <- []projection.Fact{{Type: "Patient", ID: "a", Version: 1, Data: []byte("x")}}
	sv.C <- []projection.Fact{{Type: "Patient", ID: "b", Version: 1, Data: []byte("y")}}
	if err := sv.Finish(); err == nil {
		t.Fatal("a failed save was not reported")
	}
	if f.saves != 1 {
		t.Errorf("%d saves after the failure, want none", f.saves-1)
	}
}

func TestWholeReadSavesItsFactsThenTheState(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	f := &feed{changes: make([]projection.Change, 12),
		facts: map[string]projection.Fact{"Patient/old": {Type: "Patient", ID: "old", Version: 1, Data: []byte("x")}},
		state: &projection.SavedState{Position: 3, Replay: 3, Format: "f0"}}
	w, err := projection.BeginWhole(ctx, f, t0)
	if err != nil {
		t.Fatal(err)
	}
	if f.state != nil || len(f.facts) != 0 {
		t.Fatal("the saved facts were not cleared before the whole read")
	}
	w.C <- []projection.Fact{{Type: "Patient", ID: "a", Version: 2, Data: []byte("a")}}
	f.changes = append(f.changes, projection.Change{}) // a write during the read
	st, marks, err := w.End(ctx, "f1")
	if err != nil {
		t.Fatal(err)
	}
	want := projection.SavedState{Position: 12, Replay: 12, Format: "f1", Saved: t0}
	if st != want || f.state == nil || *f.state != want {
		t.Errorf("state %+v (saved %+v), want %+v: the position before the read", st, f.state, want)
	}
	if len(f.facts) != 1 || f.facts["Patient/a"].Version != 2 {
		t.Errorf("facts %v", f.facts)
	}
	if fmt.Sprint(marks) != fmt.Sprint(projection.Marks{{At: t0, Pos: 12}}) {
		t.Errorf("marks %v", marks)
	}

	f = &feed{failAt: 2}
	w, err = projection.BeginWhole(ctx, f, t0)
	if err != nil {
		t.Fatal(err)
	}
	w.C <- []projection.Fact{{Type: "Patient", ID: "a", Version: 1, Data: []byte("a")}}
	w.C <- []projection.Fact{{Type: "Patient", ID: "b", Version: 1, Data: []byte("b")}}
	if _, _, err := w.End(ctx, "f1"); err == nil || f.state != nil {
		t.Errorf("a failed fact save ended the read (%v) with a state %+v", err, f.state)
	}
}
