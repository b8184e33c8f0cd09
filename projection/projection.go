// Package projection keeps an in-memory projection of the record (the
// chart review index, the measures' record) between starts, as saved
// facts: for each resource the projection reads, its version and what the
// projection keeps of it, with the position in the store's change feed
// the facts reflect.
//
// A start reads the saved facts and replays the versions written after
// the saved position, unless the facts are of another format or more
// than a third of the history changed since (then it reads the whole
// record and saves its facts as it goes). While running, the projection
// saves what changed every 5 minutes, after 20,000 changes and at stop
// (Schedule), each save first taking in the feed's versions its watcher
// was not told of (another node, an import while stopped).
//
// The guarantee a start relies on: every change written after the saved
// state's Replay position is read again, and a save moves the state only
// after the facts it covers are written (in the same transaction as the
// last of them). A crash between a write and the save of its fact leaves
// the state before the write; a crash in the middle of a save leaves the
// previous state, and the facts already written are at least as new as it.
//
// The package holds what the projections share: the facts and the saved
// state, the Store they are kept in (sqldb.FactStore), the marks a save
// replays from, the schedule, the background writer of a whole read and
// the replay of the change feed. What a fact holds is each projection's.
package projection

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Fact is what a projection keeps of one resource version.
type Fact struct {
	Type, ID string
	Version  int64
	// Data is the fact; nil when the projection keeps nothing of the
	// resource (deleted, or nothing it reads).
	Data []byte
}

// SavedState says what the saved facts reflect.
type SavedState struct {
	// Position: every change up to it had been taken in when saved.
	Position int64
	// Replay is where a start reads the change feed from: a position at
	// least a margin older than the save, so that a write given its
	// position before it committed (PostgreSQL) or committed but not yet
	// told to the watcher is not skipped.
	Replay int64
	// Format identifies what the facts hold; facts of another format are
	// not used (the record is read whole).
	Format string
	Saved  time.Time
}

// Change is a version in the store's change feed.
type Change struct {
	Type, ID string
	Version  int64
	Deleted  bool
}

// Store keeps a projection's facts and reads the store's change feed.
type Store interface {
	// Saved returns the saved state; ok is false when nothing was saved.
	Saved(ctx context.Context) (state SavedState, ok bool, err error)
	// Scan calls fn with every saved fact.
	Scan(ctx context.Context, fn func(f Fact) error) error
	// Save stores facts (a Fact without Data removes the resource's)
	// unless the stored one has a newer version, then state if it is not
	// nil, in the same transaction as the last facts. It may use several
	// transactions, so a save cut short leaves the previous state.
	Save(ctx context.Context, facts []Fact, state *SavedState) error
	// Clear removes every fact and the state.
	Clear(ctx context.Context) error
	// Newest returns the store's newest change position.
	Newest(ctx context.Context) (int64, error)
	// Changes calls fn, in change order, for every version of types
	// written after the position after (whether it is a delete), and
	// returns the newest position it saw.
	Changes(ctx context.Context, after int64, types []string, fn func(typ, id string, version int64, deleted bool) error) (int64, error)
}

// Usable says whether a start may read the saved state st rather than
// the whole record: it is of format, and replaying the changes written
// since is cheaper than a whole read. A replayed resource costs about
// twice a resource read whole (each is read by itself), so after more
// changes than a third of the store's history (an import while stopped,
// say) the whole record is read.
func Usable(ctx context.Context, s Store, st SavedState, format string) (bool, error) {
	if st.Format != format {
		return false, nil
	}
	newest, err := s.Newest(ctx)
	if err != nil {
		return false, err
	}
	return newest-st.Replay <= st.Position/3, nil
}

// Mark is a change position and when every change up to it had been
// taken in.
type Mark struct {
	At  time.Time
	Pos int64
}

// Marks are the positions a save may read the change feed from, oldest
// first.
type Marks []Mark

// Resumed returns the marks of a start from the saved state st that
// reached the position pos at now.
func Resumed(st SavedState, margin time.Duration, pos int64, now time.Time) Marks {
	return Marks{{At: st.Saved.Add(-margin), Pos: st.Replay}, {At: st.Saved, Pos: st.Position}, {At: now, Pos: pos}}
}

// From is where a save at now reads the change feed from: the newest
// mark at least margin old (the oldest when none is).
func (ms Marks) From(now time.Time, margin time.Duration) Mark {
	from := ms[0]
	for _, m := range ms {
		if !m.At.After(now.Add(-margin)) {
			from = m
		}
	}
	return from
}

// Saved returns the marks after a save at now that reached pos: the
// newest mark at least margin old and those after it.
func (ms Marks) Saved(now time.Time, pos int64, margin time.Duration) Marks {
	ms = append(ms, Mark{At: now, Pos: pos})
	keep := 0
	for i, m := range ms {
		if !m.At.After(now.Add(-margin)) {
			keep = i
		}
	}
	return ms[keep:]
}

// Schedule says when a running projection saves.
type Schedule struct {
	// Interval between saves (5 minutes if 0); MaxChanged saves sooner
	// (20,000 changed resources if 0).
	Interval   time.Duration
	MaxChanged int
	// Margin is how long a write may take from being given its position
	// to being committed and told to the watcher (2 minutes if 0); see
	// SavedState.Replay.
	Margin time.Duration
}

// Every is the interval between saves.
func (s Schedule) Every() time.Duration {
	if s.Interval > 0 {
		return s.Interval
	}
	return 5 * time.Minute
}

// Slack is the margin.
func (s Schedule) Slack() time.Duration {
	if s.Margin > 0 {
		return s.Margin
	}
	return 2 * time.Minute
}

// Due says whether a projection last saved at last, with changed
// resources changed since, saves at now.
func (s Schedule) Due(last, now time.Time, changed int) bool {
	most := s.MaxChanged
	if most <= 0 {
		most = 20000
	}
	return now.Sub(last) >= s.Every() || changed >= most
}

// Tick is how often a running projection asks whether a save is due.
func (s Schedule) Tick() time.Duration { return min(s.Every(), 10*time.Second) }

// Final is the context of the save as a projection stops: ctx's values
// without its end, for at most 30 seconds.
func Final(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}

// Saver writes facts in the background while the whole record is read.
type Saver struct {
	// C takes the facts to write.
	C    chan<- []Fact
	done chan error
}

// NewSaver starts writing the facts sent to its C into s.
func NewSaver(ctx context.Context, s Store) *Saver {
	ch := make(chan []Fact, 4)
	sv := &Saver{C: ch, done: make(chan error, 1)}
	go func() {
		var err error
		for facts := range ch {
			if err == nil {
				err = s.Save(ctx, facts, nil)
			}
		}
		sv.done <- err
	}()
	return sv
}

// Finish waits for the facts sent to be written and returns the first
// error; nothing may be sent after it.
func (sv *Saver) Finish() error {
	close(sv.C)
	return <-sv.done
}

// Whole is a whole read of the record that saves its facts as it goes
// (a first start, or facts of another format): send the facts to C.
type Whole struct {
	*Saver
	s   Store
	pos int64
	at  time.Time
}

// BeginWhole clears the saved facts of s and notes the newest change
// position before the reading begins: the position the facts will
// reflect, since every change after it is either read or replayed.
func BeginWhole(ctx context.Context, s Store, now time.Time) (*Whole, error) {
	if err := s.Clear(ctx); err != nil {
		return nil, err
	}
	pos, err := s.Newest(ctx)
	if err != nil {
		return nil, err
	}
	return &Whole{Saver: NewSaver(ctx, s), s: s, pos: pos, at: now}, nil
}

// End waits for the facts sent to be written, then saves the state (of
// format, at the position noted) and returns it with the marks a save
// replays from. After a failed reading call Finish instead.
func (w *Whole) End(ctx context.Context, format string) (SavedState, Marks, error) {
	if err := w.Finish(); err != nil {
		return SavedState{}, nil, err
	}
	st := SavedState{Position: w.pos, Replay: w.pos, Format: format, Saved: w.at}
	if err := w.s.Save(ctx, nil, &st); err != nil {
		return SavedState{}, nil, err
	}
	return st, Marks{{At: w.at, Pos: w.pos}}, nil
}

// Replay reads the change feed of s after the position after, for types,
// and calls take with the newest change of each resource, sorted by type
// and id, at most batch resources at a time (the first call as soon as
// batch resources changed, the last with what remains, possibly none). It
// returns the newest position seen (at least after).
func Replay(ctx context.Context, s Store, after int64, types []string, batch int, take func([]Change) error) (int64, error) {
	latest := map[string]Change{}
	flush := func() error {
		cs := make([]Change, 0, len(latest))
		for _, c := range latest {
			cs = append(cs, c)
		}
		clear(latest)
		slices.SortFunc(cs, func(a, b Change) int {
			if c := strings.Compare(a.Type, b.Type); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		return take(cs)
	}
	newest, err := s.Changes(ctx, after, types, func(typ, id string, version int64, deleted bool) error {
		ref := typ + "/" + id
		if c, ok := latest[ref]; !ok || version > c.Version {
			latest[ref] = Change{Type: typ, ID: id, Version: version, Deleted: deleted}
		}
		if len(latest) >= batch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if err := flush(); err != nil {
		return 0, err
	}
	return max(newest, after), nil
}
