package chart

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/custodian-him/custodian/projection"
	"github.com/custodian-him/custodian/store"
)

// Facts is where a Reviewer keeps its index between starts: for each
// resource the index reads (and each chart Task), its version and what
// the index keeps of it, written compactly (fact.go), with the position
// in the store's change feed they reflect (see package projection for
// what a start relies on). Package chart/chartdb keeps them in the SQL
// database beside the store.
type Facts interface {
	projection.Store
	// Current calls fn with the current version of each resource named
	// (Type and ID), Deleted set for a delete or a resource that does not
	// exist.
	Current(ctx context.Context, refs []Fact, fn func(r *store.Resource) error) error
}

// Fact is what the index keeps of one resource version (Data nil when it
// keeps nothing: deleted, or nothing a rule reads).
type Fact = projection.Fact

// SavedState says what the saved facts reflect; its Format is
// factsFormat of the index's rules.
type SavedState = projection.SavedState

// LoadStats says how the last Load read the index.
type LoadStats struct {
	// Saved is set when the saved facts were read; otherwise the whole
	// record was (and, with Facts, its facts saved).
	Saved bool
	// Facts is how many facts (or resources) were read; Replayed how many
	// changed resources were read after them.
	Facts, Replayed int
	// Position is the change position the index reflects (0 without
	// Facts).
	Position int64
	Elapsed  time.Duration
}

// factTypes are the types whose facts are kept: the index's and Task.
var factTypes = append(slices.Clone(Types), "Task")

// mark is a change position and when every change up to it had been
// taken in (a projection.Mark).
type mark struct {
	at  time.Time
	pos int64
}

func toMarks(ms []mark) projection.Marks {
	out := make(projection.Marks, len(ms))
	for i, m := range ms {
		out[i] = projection.Mark{At: m.at, Pos: m.pos}
	}
	return out
}

func fromMarks(ms projection.Marks) []mark {
	out := make([]mark, len(ms))
	for i, m := range ms {
		out[i] = mark{at: m.At, pos: m.Pos}
	}
	return out
}

// tracker remembers, while Facts are kept, the facts changed since the
// last save and the newest version of each resource taken in recently
// (so a save reads again only what the watcher was not told of).
type tracker struct {
	changed map[string]Fact
	seen    map[string]seenVersion
}

type seenVersion struct {
	version int64
	at      time.Time
}

func newTracker() *tracker {
	return &tracker{changed: map[string]Fact{}, seen: map[string]seenVersion{}}
}

func (t *tracker) track(typ, id string, version int64, data []byte, now time.Time) {
	if t == nil {
		return
	}
	ref := typ + "/" + id
	if old, ok := t.changed[ref]; ok && old.Version > version {
		return
	}
	t.changed[ref] = Fact{Type: typ, ID: id, Version: version, Data: data}
	if s := t.seen[ref]; s.version <= version {
		t.seen[ref] = seenVersion{version, now}
	}
}

// state is the reviewer's index and Tasks: the Reviewer's own (view), or
// one being read by Load.
type state struct {
	rs       *RuleSet
	ix       *Index
	tasks    map[string]*taskRec            // by key
	byEnc    map[string]map[string]*taskRec // encounter → key → task
	taskKeys map[string]string              // Task id → key
	tr       *tracker                       // nil when no Facts are kept
	format   string
	dirty    map[string]bool
	all      bool
	// marks are the change positions a save may replay from (Load's).
	marks []mark
}

// workers is how many goroutines decode at once.
func workers() int { return runtime.GOMAXPROCS(0) }

func newState(rs *RuleSet, persist bool) *state {
	s := &state{rs: rs, ix: NewIndex(rs), tasks: map[string]*taskRec{}, byEnc: map[string]map[string]*taskRec{},
		taskKeys: map[string]string{}, format: factsFormat(rs), dirty: map[string]bool{}}
	if persist {
		s.tr = newTracker()
	}
	return s
}

// view is the reviewer's own state; rv.mu is held.
func (rv *Reviewer) view() *state {
	return &state{rs: rv.rules, ix: rv.ix, tasks: rv.tasks, byEnc: rv.byEnc, taskKeys: rv.taskKeys, tr: rv.tr,
		format: rv.format, dirty: rv.dirty, all: rv.all}
}

// decodeVersion reads what the reviewer keeps of a version (body nil for
// a delete): decode's result, or a chart Task's record.
func (s *state) decodeVersion(typ string, body []byte) any {
	if typ != "Task" {
		return s.ix.decode(typ, body)
	}
	if body == nil {
		return (*taskRec)(nil)
	}
	if t, ok := fromTask(body); ok {
		return t
	}
	return (*taskRec)(nil)
}

// file puts what decodeVersion (or decodeFact) read of typ/id in place of
// what the state held for it, and queues the encounters it affects.
func (s *state) file(typ, id string, v any) {
	if typ == "Task" {
		t, _ := v.(*taskRec)
		s.putTask(id, t)
		return
	}
	affected, all := s.ix.apply(typ, typ+"/"+id, v)
	s.all = s.all || all
	for _, e := range affected {
		if e != "" {
			s.dirty[e] = true
		}
	}
}

// take files a version and remembers its fact for the next save.
func (s *state) take(typ, id string, version int64, body []byte, now time.Time) {
	v := s.decodeVersion(typ, body)
	s.track(typ, id, version, encodeFact(typ, v), now)
	s.file(typ, id, v)
}

// track remembers a version's fact for the next save, before it is
// filed: a version of which nothing is kept, of a resource of which
// nothing was (most Observations), has nothing to save or remove.
func (s *state) track(typ, id string, version int64, data []byte, now time.Time) {
	if s.tr == nil {
		return
	}
	ref := typ + "/" + id
	if _, pending := s.tr.changed[ref]; data == nil && !pending && !s.holds(typ, id) {
		if sv := s.tr.seen[ref]; sv.version <= version {
			s.tr.seen[ref] = seenVersion{version, now}
		}
		return
	}
	s.tr.track(typ, id, version, data, now)
}

// holds says whether the state keeps something of typ/id (so a fact of it
// may be saved).
func (s *state) holds(typ, id string) bool {
	ref := typ + "/" + id
	ix := s.ix
	switch typ {
	case "Encounter":
		return ix.encounters[ref] != nil
	case "DocumentReference":
		return ix.notes[ref] != nil || ix.replaces[ref] != ""
	case "Procedure":
		return ix.procs[ref] != nil
	case "Consent":
		return ix.consents[ref] != nil
	case "Condition":
		return ix.conds[ref] != nil
	case "Observation":
		return len(ix.obs[ref]) > 0
	case "Patient":
		return ix.patients[ref] != nil
	case "PractitionerRole":
		_, ok := ix.roleOf[ref]
		return ok
	case "Task":
		_, ok := s.taskKeys[id]
		return ok
	}
	return true
}

// putTask replaces what the state holds of the Task id with t (nil: it
// is gone or not a chart Task).
func (s *state) putTask(id string, t *taskRec) {
	if key, ok := s.taskKeys[id]; ok {
		delete(s.taskKeys, id)
		if old := s.tasks[key]; old != nil && old.ID == id {
			delete(s.tasks, key)
			if m := s.byEnc[old.D.Encounter]; m != nil {
				delete(m, key)
				if len(m) == 0 {
					delete(s.byEnc, old.D.Encounter)
				}
			}
		}
	}
	if t == nil {
		return
	}
	s.tasks[t.D.Key] = t
	addTask(s.byEnc, t)
	s.taskKeys[id] = t.D.Key
}

// readSaved fills s from the saved facts, then reads the changes written
// after st.Replay. An unreadable fact is errFact (the caller reads the
// whole record instead).
func (rv *Reviewer) readSaved(ctx context.Context, s *state, st SavedState) (LoadStats, error) {
	stats := LoadStats{Saved: true}
	// The facts are the record, read in bulk: in the trail once per type,
	// as a whole read is.
	if br, ok := rv.Store.(bulkReader); ok {
		for _, typ := range factTypes {
			if err := br.RecordBulkRead(ctx, typ, "chart review"); err != nil {
				return stats, err
			}
		}
	}
	type row struct {
		f Fact
		v any
	}
	batches := make(chan []Fact, 4)
	decoded := make(chan []row, 4)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var scanErr error
	go func() {
		defer close(batches)
		var batch []Fact
		scanErr = rv.Facts.Scan(ctx, func(f Fact) error {
			batch = append(batch, f)
			if len(batch) == 2000 {
				select {
				case batches <- batch:
				case <-ctx.Done():
					return context.Cause(ctx)
				}
				batch = nil
			}
			return nil
		})
		if scanErr == nil && len(batch) > 0 {
			batches <- batch
		}
		if scanErr != nil {
			cancel(scanErr)
		}
	}()
	var wg sync.WaitGroup
	var bad error
	var badOnce sync.Once
	for range workers() {
		wg.Go(func() {
			for fs := range batches {
				rows := make([]row, len(fs))
				for i, f := range fs {
					v, err := decodeFact(f.Type, f.Data)
					if err != nil {
						badOnce.Do(func() { bad = err; cancel(err) })
					}
					rows[i] = row{f, v}
				}
				select {
				case decoded <- rows:
				case <-ctx.Done():
				}
			}
		})
	}
	go func() { wg.Wait(); close(decoded) }()
	for rows := range decoded {
		for _, r := range rows {
			if r.v != nil {
				s.file(r.f.Type, r.f.ID, r.v)
			}
		}
		stats.Facts += len(rows)
	}
	if bad != nil {
		return stats, bad
	}
	if scanErr != nil {
		return stats, scanErr
	}
	if err := ctx.Err(); err != nil {
		return stats, err
	}
	// Saved facts are evaluated already; only what the replay changes is.
	s.dirty, s.all = map[string]bool{}, false
	pos, n, err := rv.catchUp(ctx, s, st.Replay, false)
	if err != nil {
		return stats, err
	}
	stats.Replayed, stats.Position = n, pos
	s.marks = fromMarks(projection.Resumed(st, rv.schedule().Slack(), pos, time.Now()))
	return stats, nil
}

// fewChanges says whether replaying the changes written since st is
// cheaper than reading the whole record (projection.Usable).
func (rv *Reviewer) fewChanges(ctx context.Context, st SavedState) (bool, error) {
	return projection.Usable(ctx, rv.Facts, st, st.Format)
}

// catchUp reads the versions of the chart's types written after the
// position after that s has not taken in (the watcher was not told of
// them: written while stopped, by another process, or not yet told),
// reading each resource's current version. locked says s is the
// reviewer's own state, so rv.mu is taken to file. It returns the newest
// position seen and how many resources it read.
func (rv *Reviewer) catchUp(ctx context.Context, s *state, after int64, locked bool) (int64, int, error) {
	lock := func() {
		if locked {
			rv.mu.Lock()
		}
	}
	unlock := func() {
		if locked {
			rv.mu.Unlock()
		}
	}
	read := 0
	newest, err := projection.Replay(ctx, rv.Facts, after, factTypes, 20000, func(cs []projection.Change) error {
		refs := make([]Fact, 0, len(cs))
		lock()
		for _, c := range cs {
			if sv, ok := s.tr.seen[c.Type+"/"+c.ID]; ok && sv.version >= c.Version {
				continue
			}
			refs = append(refs, Fact{Type: c.Type, ID: c.ID, Version: c.Version})
		}
		unlock()
		for i := 0; i < len(refs); i += 500 {
			var got []*store.Resource
			err := rv.Facts.Current(ctx, refs[i:min(i+500, len(refs))], func(r *store.Resource) error {
				got = append(got, r)
				return nil
			})
			if err != nil {
				return err
			}
			vs := decodeAll(s, got)
			now := time.Now()
			lock()
			for j, r := range got {
				if sv, ok := s.tr.seen[r.Type+"/"+r.ID]; ok && sv.version >= r.VersionID {
					continue // the watcher filed it (or a newer one) meanwhile
				}
				s.track(r.Type, r.ID, r.VersionID, encodeFact(r.Type, vs[j]), now)
				s.file(r.Type, r.ID, vs[j])
			}
			if locked {
				rv.all = rv.all || s.all
			}
			unlock()
			read += len(got)
		}
		return nil
	})
	return newest, read, err
}

// decodeAll decodes versions on every core.
func decodeAll(s *state, rs []*store.Resource) []any {
	vs := make([]any, len(rs))
	var wg sync.WaitGroup
	n := workers()
	for w := range n {
		wg.Go(func() {
			for i := w; i < len(rs); i += n {
				var body []byte
				if !rs[i].Deleted {
					body = rs[i].Body
				}
				vs[i] = s.decodeVersion(rs[i].Type, body)
			}
		})
	}
	wg.Wait()
	return vs
}

// schedule is when Run saves.
func (rv *Reviewer) schedule() projection.Schedule {
	return projection.Schedule{Interval: rv.SaveInterval, MaxChanged: rv.SaveAfter, Margin: rv.SaveMargin}
}

// Save writes the facts of what changed since the last save and the
// position they reflect, after taking in the changes in the store's feed
// the watcher was not told of. Serve's Run saves every SaveInterval, after
// SaveAfter changes and when it stops; Save is for tests and commands.
func (rv *Reviewer) Save(ctx context.Context) error {
	if rv.Facts == nil {
		return errors.New("chart: no Facts to save to")
	}
	rv.loadMu.Lock()
	defer rv.loadMu.Unlock()
	rv.mu.Lock()
	ready := rv.loaded && rv.tr != nil && rv.marks != nil
	rv.mu.Unlock()
	if !ready {
		return errors.New("chart: the index was not read, so it is not saved")
	}
	now := time.Now()
	newest, err := rv.Facts.Newest(ctx)
	if err != nil {
		return err
	}
	marks := toMarks(rv.marks)
	from := marks.From(now, rv.schedule().Slack())
	rv.mu.Lock()
	s := rv.view()
	rv.mu.Unlock()
	if _, _, err := rv.catchUp(ctx, s, from.Pos, true); err != nil {
		return err
	}
	rv.mu.Lock()
	changed, format := rv.tr.changed, rv.format
	rv.tr.changed = map[string]Fact{}
	queued := len(rv.dirty) > 0 || rv.all
	rv.mu.Unlock()
	if queued {
		select {
		case rv.wake <- struct{}{}:
		default:
		}
	}
	facts := make([]Fact, 0, len(changed))
	for _, f := range changed {
		facts = append(facts, f)
	}
	st := &SavedState{Position: newest, Replay: from.Pos, Format: format, Saved: now}
	if err := rv.Facts.Save(ctx, facts, st); err != nil {
		rv.mu.Lock()
		for ref, f := range changed {
			if cur, ok := rv.tr.changed[ref]; !ok || cur.Version < f.Version {
				rv.tr.changed[ref] = f
			}
		}
		rv.mu.Unlock()
		return err
	}
	rv.marks = fromMarks(marks.Saved(now, newest, rv.schedule().Slack()))
	// What was seen before the oldest mark kept is before any position a
	// later save reads the feed from.
	rv.mu.Lock()
	for ref, sv := range rv.tr.seen {
		if sv.at.Before(rv.marks[0].at) {
			delete(rv.tr.seen, ref)
		}
	}
	rv.mu.Unlock()
	rv.lastSave = now
	if rv.Logger != nil {
		rv.Logger.Info("chart review facts saved", "facts", len(facts), "position", newest)
	}
	return nil
}

// changedCount is how many facts changed since the last save.
func (rv *Reviewer) changedCount() int {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if rv.tr == nil {
		return 0
	}
	return len(rv.tr.changed)
}

// saveDue says whether Run should save now (projection.Schedule): not
// before the index is read.
func (rv *Reviewer) saveDue() bool {
	if rv.Facts == nil || !rv.Ready() {
		return false
	}
	rv.loadMu.Lock()
	last := rv.lastSave
	rv.loadMu.Unlock()
	return rv.schedule().Due(last, time.Now(), rv.changedCount())
}

func (rv *Reviewer) saveInterval() time.Duration { return rv.schedule().Every() }

// finalSave saves once more as Run stops (within 30 s).
func (rv *Reviewer) finalSave(ctx context.Context) {
	if rv.Facts == nil || !rv.Ready() {
		return
	}
	final, cancel := projection.Final(ctx)
	defer cancel()
	if err := rv.Save(final); err != nil && rv.Logger != nil {
		rv.Logger.Error("saving the chart review facts failed", "error", err)
	}
}

// LastLoad returns how the last Load read the index.
func (rv *Reviewer) LastLoad() LoadStats {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return rv.stats
}

func (s LoadStats) String() string {
	return fmt.Sprintf("saved=%v facts=%d replayed=%d position=%d in %s", s.Saved, s.Facts, s.Replayed, s.Position, s.Elapsed.Round(time.Millisecond))
}
