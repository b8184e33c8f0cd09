package measure

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/custodian-him/custodian/projection"
)

// Facts is where a Projection keeps the record's facts between starts:
// for each projected resource, its version and the elements the record
// reads of it (the parsed shape trimmed and written compactly: fact.go,
// factcodec.go), with the position in the store's change feed they
// reflect (see package projection for what a start relies on). The SQL
// database beside the store implements it (package measure/factdb).
type Facts interface {
	projection.Store
	// Versions calls fn with the body of each version asked for (nil for
	// a delete); versions that no longer exist are skipped.
	Versions(ctx context.Context, want []Fact, fn func(typ, id string, version int64, body []byte) error) error
}

// Fact is one resource's saved projection (Data nil when the record keeps
// nothing of it: deleted, or an observation of a code not kept).
type Fact = projection.Fact

// SavedState says what the saved facts reflect; its Format is the
// record's (Record.Format).
type SavedState = projection.SavedState

// Projection keeps a Record's projection in Facts, so a start reads the
// saved facts and the changes written since instead of the whole record
// (Load), and saves what changed every Interval, or sooner when many
// resources changed, and once more when it stops (Run).
//
// The record's watcher still keeps it current between saves; each save
// also reads the change feed since the last save for versions the watcher
// was not told of (written by another process or node) and takes them in.
type Projection struct {
	Record *Record
	Facts  Facts
	// Source is the whole record, read at a first start or when the saved
	// facts are of another format (BackendSource over the store).
	Source Source
	// Interval between saves (5 minutes if 0); MaxChanged saves sooner
	// (20,000 changed resources if 0).
	Interval   time.Duration
	MaxChanged int
	// Margin is how long a write may take from being given its position
	// to being committed (2 minutes if 0); see SavedState.Replay.
	Margin time.Duration
	// Logger reports loads and saves (none if nil).
	Logger *slog.Logger
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// ReadOnly loads without writing: from the saved facts when they are
	// of the record's format, else from Source, saving nothing (for a
	// command that reads measures beside a running server). Save refuses.
	ReadOnly bool

	mu    sync.Mutex // one save at a time
	marks projection.Marks
	last  time.Time
}

// LoadStats says how a Load went.
type LoadStats struct {
	// Saved is set when the saved facts were read; otherwise the whole
	// record was (and its facts saved).
	Saved bool
	// Facts is how many facts (or resources) were read; Replayed how many
	// changed resources were read from the change feed after them.
	Facts, Replayed int
	// Position is the change position the record reflects.
	Position int64
}

type factKey struct{ typ, id string }

// tracked is a change waiting to be saved; write is false for an
// observation the record never kept (nothing to save or remove).
type tracked struct {
	c     change
	write bool
}

func (p *Projection) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// schedule is when Run saves.
func (p *Projection) schedule() projection.Schedule {
	return projection.Schedule{Interval: p.Interval, MaxChanged: p.MaxChanged, Margin: p.Margin}
}

func (p *Projection) log(msg string, args ...any) {
	if p.Logger != nil {
		p.Logger.Info(msg, args...)
	}
}

// Format is the facts' format for r: a digest of the shapes parsed and
// the observation codes kept, so that changing either (a new release, a
// registry's new laboratory criterion) reads the whole record once more.
func (r *Record) Format() string {
	h := sha256.New()
	for _, v := range []any{patientJSON{}, encounterJSON{}, conditionJSON{}, procedureJSON{}, claimJSON{}, observationJSON{}} {
		writeShape(h, reflect.TypeOf(v))
	}
	codes := make([]string, 0, len(r.keep.Load().codes))
	for c := range r.keep.Load().codes {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	fmt.Fprintf(h, "keep:%s", strings.Join(codes, ","))
	return fmt.Sprintf("facts-%d-%s", factsVersion, hex.EncodeToString(h.Sum(nil)[:12]))
}

func writeShape(w interface{ Write([]byte) (int, error) }, t reflect.Type) {
	switch t.Kind() {
	case reflect.Struct:
		fmt.Fprintf(w, "{")
		for i := range t.NumField() {
			f := t.Field(i)
			fmt.Fprintf(w, "%s %q ", f.Name, f.Tag)
			writeShape(w, f.Type)
			fmt.Fprintf(w, ";")
		}
		fmt.Fprintf(w, "}")
	case reflect.Slice, reflect.Pointer:
		fmt.Fprintf(w, "%s ", t.Kind())
		writeShape(w, t.Elem())
	default:
		fmt.Fprintf(w, "%s", t)
	}
}

// Load fills the record: from the saved facts and the changes written
// since, when there are facts of the record's format; otherwise from the
// whole record (Source), saving its facts as it goes. Register the
// record's Watcher on the store first, so nothing written meanwhile is
// missed. Until Load ends, evaluations answer EUNAVAILABLE.
func (p *Projection) Load(ctx context.Context) (LoadStats, error) {
	r := p.Record
	r.MarkLoading()
	r.mu.Lock()
	if r.changed == nil && !p.ReadOnly {
		r.changed = map[factKey]tracked{}
	}
	r.mu.Unlock()
	format := r.Format()
	st, ok, err := p.Facts.Saved(ctx)
	if err != nil {
		return LoadStats{}, err
	}
	if ok {
		if ok, err = projection.Usable(ctx, p.Facts, st, format); err != nil {
			return LoadStats{}, err
		}
	}
	start := p.now()
	var stats LoadStats
	if ok {
		stats, err = p.loadSaved(ctx, st)
		if errors.Is(err, errFact) {
			// Read the whole record instead, into an empty one.
			if p.Logger != nil {
				p.Logger.Error("the measures' facts are unreadable: reading the whole record", "error", err)
			}
			r.forget()
			ok = false
		}
	}
	switch {
	case ok:
	case p.ReadOnly:
		n := 0
		err = r.load(ctx, countingSource{Source: p.Source, n: &n}, nil)
		stats.Facts = n
	default:
		stats, err = p.loadWhole(ctx, format)
	}
	if err != nil {
		return stats, err
	}
	r.loading.Store(false)
	p.log("measures' record read", "saved", stats.Saved, "facts", stats.Facts, "replayed", stats.Replayed,
		"position", stats.Position, "seconds", p.now().Sub(start).Seconds())
	return stats, nil
}

// loadSaved reads the facts, then the changes since st.Replay.
func (p *Projection) loadSaved(ctx context.Context, st SavedState) (LoadStats, error) {
	n := 0
	counted := countingSource{Source: factSource{p.Facts}, n: &n}
	if err := p.Record.load(ctx, counted, nil); err != nil {
		var rerr factReadError
		if ctx.Err() == nil && !errors.As(err, &rerr) {
			// Not the database, not the end of ctx: a fact the record
			// cannot parse.
			return LoadStats{}, fmt.Errorf("%w: %w", errFact, err)
		}
		return LoadStats{}, err
	}
	pos, replayed, err := p.catchUp(ctx, st.Replay)
	if err != nil {
		return LoadStats{}, err
	}
	p.mu.Lock()
	p.marks = projection.Resumed(st, p.schedule().Slack(), pos, p.now())
	p.last = p.now()
	p.mu.Unlock()
	return LoadStats{Saved: true, Facts: n, Replayed: replayed, Position: pos}, nil
}

// loadWhole reads the whole record, writing its facts as it goes, and
// saves the state: the position read before the scan began.
func (p *Projection) loadWhole(ctx context.Context, format string) (LoadStats, error) {
	whole, err := projection.BeginWhole(ctx, p.Facts, p.now())
	if err != nil {
		return LoadStats{}, err
	}
	n := 0
	var nmu sync.Mutex
	sink := func(cs []change) error {
		fs := make([]Fact, 0, len(cs))
		for _, c := range cs {
			if c.v == nil || c.deleted {
				continue // the facts were cleared: nothing to remove
			}
			f, err := factOf(c)
			if err != nil {
				return err
			}
			fs = append(fs, f)
		}
		nmu.Lock()
		n += len(cs)
		nmu.Unlock()
		select {
		case whole.C <- fs:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := p.Record.load(ctx, p.Source, sink); err != nil {
		return LoadStats{}, errors.Join(err, whole.Finish())
	}
	st, marks, err := whole.End(ctx, format)
	if err != nil {
		return LoadStats{}, err
	}
	p.mu.Lock()
	p.marks = marks
	p.last = p.now()
	p.mu.Unlock()
	return LoadStats{Facts: n, Position: st.Position}, nil
}

// factSource is the saved facts as a Source (a fact is parsed as a body
// is). Reading them fails with a factReadError; parsing them with
// another error (the first cause wins: see Record.load).
type factSource struct{ f Facts }

func (s factSource) Scan(ctx context.Context, _ []string, fn func(typ, id string, version int64, body []byte) error) error {
	if err := s.f.Scan(ctx, func(x Fact) error { return fn(x.Type, x.ID, x.Version, x.Data) }); err != nil {
		return factReadError{err}
	}
	return nil
}

// factReadError is an error reading the saved facts (not parsing them).
type factReadError struct{ err error }

func (e factReadError) Error() string { return e.err.Error() }
func (e factReadError) Unwrap() error { return e.err }

// errFact is a saved fact the record cannot parse: Load reads the whole
// record instead.
var errFact = errors.New("measure: a saved fact is unreadable")

// forget empties the record before a whole read replaces what the saved
// facts had filled in; changes the watcher queued stay queued.
func (r *Record) forget() {
	r.mu.Lock()
	r.patients, r.encounters, r.conditions = map[string]*Patient{}, map[string]*Encounter{}, map[string]*Condition{}
	r.procedures, r.claims, r.obs = map[string]*Procedure{}, map[string]*Claim{}, map[string]*Observation{}
	r.intern = map[string]string{}
	r.kinds, r.codes = map[EncounterKind]*EncounterKind{}, map[ConditionCode]*ConditionCode{}
	if r.changed != nil {
		r.changed = map[factKey]tracked{}
	}
	r.mu.Unlock()
	r.gen.Add(1)
}

// countingSource counts what a Source gives.
type countingSource struct {
	Source
	n *int
}

func (s countingSource) Scan(ctx context.Context, types []string, fn func(typ, id string, version int64, body []byte) error) error {
	return s.Source.Scan(ctx, types, func(typ, id string, version int64, body []byte) error {
		*s.n++
		return fn(typ, id, version, body)
	})
}

// catchUp takes in the versions written after the position after that
// the record does not hold yet (deletes as they are, others read), and
// returns the newest position seen and how many it took in.
func (p *Projection) catchUp(ctx context.Context, after int64) (int64, int, error) {
	r := p.Record
	taken := 0
	newest, err := projection.Replay(ctx, p.Facts, after, Types, 50000, func(cs []projection.Change) error {
		var fetch []Fact
		r.mu.Lock()
		r.applyPending()
		for _, c := range cs {
			if r.held(c.Type, c.ID) >= c.Version {
				continue
			}
			if c.Deleted {
				r.applyTracked(change{typ: c.Type, id: c.ID, version: c.Version, deleted: true})
				taken++
				continue
			}
			fetch = append(fetch, Fact{Type: c.Type, ID: c.ID, Version: c.Version})
		}
		r.mu.Unlock()
		for i := 0; i < len(fetch); i += 500 {
			var cs []change
			err := p.Facts.Versions(ctx, fetch[i:min(i+500, len(fetch))], func(typ, id string, version int64, body []byte) error {
				if body == nil {
					cs = append(cs, change{typ: typ, id: id, version: version, deleted: true})
					return nil
				}
				c, err := r.parse(typ, id, version, body)
				if err != nil {
					return fmt.Errorf("measure: %s/%s: %w", typ, id, err)
				}
				cs = append(cs, c)
				return nil
			})
			if err != nil {
				return err
			}
			r.mu.Lock()
			for _, c := range cs {
				r.applyTracked(c)
			}
			r.mu.Unlock()
			taken += len(cs)
		}
		return nil
	})
	return newest, taken, err
}

// Save takes in what the change feed has that the record lacks, then
// saves the facts of every resource changed since the last save and the
// position they reflect. A save that fails keeps its changes for the next.
func (p *Projection) Save(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ReadOnly {
		return errors.New("measure: a read-only projection saves nothing")
	}
	if p.marks == nil {
		return errors.New("measure: the projection was not loaded")
	}
	r := p.Record
	now := p.now()
	newest, err := p.Facts.Newest(ctx)
	if err != nil {
		return err
	}
	// Replay from the newest position at least a margin old.
	from := p.marks.From(now, p.schedule().Slack())
	if _, _, err := p.catchUp(ctx, from.Pos); err != nil {
		return err
	}
	r.mu.Lock()
	r.applyPending()
	changed := r.changed
	r.changed = map[factKey]tracked{}
	r.mu.Unlock()
	facts := make([]Fact, 0, len(changed))
	for _, t := range changed {
		if !t.write {
			continue
		}
		f, err := factOf(t.c)
		if err != nil {
			p.restore(changed)
			return err
		}
		facts = append(facts, f)
	}
	st := &SavedState{Position: newest, Replay: from.Pos, Format: r.Format(), Saved: now}
	if err := p.Facts.Save(ctx, facts, st); err != nil {
		p.restore(changed)
		return err
	}
	// Keep the marks a later save may replay from.
	p.marks = p.marks.Saved(now, newest, p.schedule().Slack())
	p.last = now
	p.log("measures' facts saved", "facts", len(facts), "position", newest)
	return nil
}

// restore gives changes back to the record after a failed save (newer
// ones that arrived meanwhile win).
func (p *Projection) restore(changes map[factKey]tracked) {
	r := p.Record
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, t := range changes {
		if cur, ok := r.changed[k]; !ok || cur.c.version < t.c.version {
			r.changed[k] = t
		}
	}
}

// Changed returns how many resources changed since the last save.
func (p *Projection) Changed() int {
	p.Record.mu.RLock()
	defer p.Record.mu.RUnlock()
	return len(p.Record.changed)
}

// Run saves every Interval (sooner once MaxChanged resources changed)
// until ctx ends, then once more (within 30 s). Errors go to onError.
func (p *Projection) Run(ctx context.Context, onError func(error)) {
	sched := p.schedule()
	tick := time.NewTicker(sched.Tick())
	defer tick.Stop()
	report := func(err error) {
		if err != nil && onError != nil {
			onError(err)
		}
	}
	for {
		select {
		case <-ctx.Done():
			final, cancel := projection.Final(ctx)
			report(p.Save(final))
			cancel()
			return
		case <-tick.C:
			p.mu.Lock()
			last := p.last
			p.mu.Unlock()
			if sched.Due(last, p.now(), p.Changed()) {
				report(p.Save(ctx))
			}
		}
	}
}

// applyTracked applies c and, while a Projection keeps the record,
// remembers it for the next save; r.mu must be held for writing.
func (r *Record) applyTracked(c change) {
	if r.changed == nil {
		r.apply(c)
		return
	}
	write := true
	if c.typ == "Observation" && c.v == nil && !c.deleted {
		// An observation of a code not kept: there is a fact to remove
		// only if an earlier version was kept.
		write = r.obs[c.id] != nil
	}
	r.apply(c)
	k := factKey{c.typ, c.id}
	if old, ok := r.changed[k]; ok && old.c.version > c.version {
		return
	} else if ok && old.write {
		write = true
	}
	r.changed[k] = tracked{c: c, write: write}
}

// held returns the version of typ/id the record holds or has been given
// (0 when none); r.mu must be held.
func (r *Record) held(typ, id string) int64 {
	var v int64
	if t, ok := r.changed[factKey{typ, id}]; ok {
		v = t.c.version
	}
	switch typ {
	case "Patient":
		if p := r.patients[id]; p != nil {
			v = max(v, p.version)
		}
	case "Encounter":
		if e := r.encounters[id]; e != nil {
			v = max(v, e.version)
		}
	case "Condition":
		if c := r.conditions[id]; c != nil {
			v = max(v, c.version)
		}
	case "Procedure":
		if pr := r.procedures[id]; pr != nil {
			v = max(v, pr.version)
		}
	case "Claim":
		if cl := r.claims[id]; cl != nil {
			v = max(v, cl.version)
		}
	case "Observation":
		if o := r.obs[id]; o != nil {
			v = max(v, o.version)
		}
	}
	return v
}
